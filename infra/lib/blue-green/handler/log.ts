/**
 * The handler's log lines, one JSON object each.
 *
 * The function runs with Lambda's JSON log format (the construct sets
 * `loggingFormat: JSON`). Lambda then writes every console call as one JSON
 * object carrying `timestamp`, `level` and Lambda's `requestId`, and a call
 * with exactly one argument keeps that argument, unformatted, as `message`.
 * So each line here is a single plain object: CloudWatch Logs Insights can
 * filter on `message.action`, `message.physicalResourceId` or
 * `message.error.name` without parsing text. Two or more arguments would be
 * flattened into one string; an Error argument would add its stack.
 *
 * A few lines of our own rather than Powertools' Logger: Lambda already adds
 * the timestamp, level and request id, and the handler needs no sampling,
 * level switching or extra dependency in its bundle, only the event's context
 * on every line.
 */

/** What every line of one CloudFormation event carries: which resource and which request it concerns. */
export interface EventContext {
  /** `Create`, `Update` or `Delete` (isComplete lines carry the Delete they wait for). */
  readonly requestType: string;
  /** CloudFormation's id of this request; a redelivered event carries the same one. */
  readonly cloudFormationRequestId: string;
  readonly logicalResourceId: string;
  /** The resource's id (`<stack name>/<stack uuid>/<logical id>`); absent on a Create, which chooses it. */
  readonly physicalResourceId?: string;
  /** `<application>/<deployment group>`, as the event's properties name it; absent when they name none. */
  readonly deploymentGroup?: string;
}

/**
 * One line: `action` says what the handler did or decided (an AWS operation
 * such as `CreateAutoScalingGroup`, or a decision such as `SkipDeleteAutoScalingGroup`),
 * the other fields its subject. Never a secret: the handler handles none.
 */
export interface LogEntry {
  readonly action: string;
  readonly [field: string]: unknown;
}

/** A failure as it is logged: the error's name and message, never its stack. */
export interface LoggedError {
  readonly name: string;
  readonly message: string;
  /** The AWS request id, for a support case. */
  readonly requestId?: string;
}

export interface EventLog {
  /** A step or decision (Lambda level INFO). */
  info(entry: LogEntry): void;
  /** A failure the event reports to CloudFormation (Lambda level ERROR). */
  error(entry: LogEntry & { readonly error: LoggedError }): void;
}

/** The log of one event: every line gets the event's context after its own `action`. */
export function eventLog(context: EventContext): EventLog {
  const bound = withoutUndefined({ ...context });
  const line = ({ action, ...fields }: LogEntry): Record<string, unknown> => withoutUndefined({ action, ...bound, ...fields });
  return {
    info: (entry) => console.log(line(entry)),
    error: (entry) => console.error(line(entry)),
  };
}

/** JSON drops undefined fields anyway; dropping them here keeps what tests see equal to what CloudWatch gets. */
function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
