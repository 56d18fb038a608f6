/**
 * Failures the handler reports to CloudFormation, and the few AWS errors it
 * recognises so it can treat "already exists" and "already gone" as success.
 *
 * The CDK Provider framework sends `error.stack` as the CloudFormation reason
 * (its `includeStackTraces` default), so a FleetError's stack is its message:
 * the stack events show one sentence that says what failed and what to do.
 * The AWS error stays attached as `cause` and is logged in full to CloudWatch.
 */
export class FleetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FleetError';
    this.stack = `${this.name}: ${message}`;
  }
}

/** The name and message of whatever was thrown, without its stack. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message.trim() || '(no message)' };
  }
  return { name: 'UnknownError', message: String(error) };
}

/** True when an AWS SDK error (or anything thrown) has one of these names. */
export function isErrorNamed(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

const ACCESS_DENIED_NAMES = ['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException'];

/**
 * Wraps an AWS error in a FleetError: `<Operation> failed: <subject>: <ErrorName>: <message>. <advice>`.
 * An access-denied error gets advice about the handler's own role first, because
 * that is the usual cause when a fork changes the construct.
 */
export function awsFailure(operation: string, subject: string, error: unknown, advice: string): FleetError {
  const { name, message } = describeError(error);
  const reason = message.endsWith('.') ? message : `${message}.`;
  const accessAdvice = isErrorNamed(error, ...ACCESS_DENIED_NAMES)
    ? `The handler's role (or the CodeDeploy service role it passes) lacks a permission for ${operation}; see infra/lib/blue-green/handler/README.md for the exact actions. `
    : '';
  return new FleetError(`${operation} failed: ${subject}: ${name}: ${reason} ${accessAdvice}${advice}`, { cause: error });
}
