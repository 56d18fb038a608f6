// What the terminal shows while a long command runs. CodeBuild's console
// shows the whole log; the rehearsal keeps the whole log in build.log and
// shows a concise view: Turborepo tasks as they start, a heartbeat while
// nothing else is said, and each task's time once Turborepo's run summary
// (`--summarize`) names it.
import { stripVTControlCharacters } from 'node:util';

/** What one line of Turborepo's stream output (`<package>:<task>: ...`) says about a task. */
export type TurboEvent =
  | { readonly kind: 'started'; readonly task: string }
  | { readonly kind: 'replayed'; readonly task: string }
  | { readonly kind: 'failed'; readonly task: string }
  | { readonly kind: 'output'; readonly task: string }
  | { readonly kind: 'summary'; readonly file: string };

// A package name (`@scope/name` or `name`), then the task name, which may
// itself hold colons (`test:e2e`): the prefix ends at the first ": ".
const TASK_PREFIX = /^(@?[\w.-]+(?:\/[\w.-]+)?):([\w.-]+(?::[\w.-]+)*?):(?: (.*))?$/;
const SUMMARY_LINE = /^\s*Summary:\s+(\S.*\.json)\s*$/;

/**
 * Reads one line of Turborepo output (stream log order, the default). A task
 * starts with `cache miss, executing` (or `cache bypass` under --force),
 * a replay with `cache hit, replaying logs`, a failure with `ERROR: command
 * finished with error`; `Summary: <file>` names the run summary.
 */
export function turboEvent(rawLine: string): TurboEvent | undefined {
  const line = stripVTControlCharacters(rawLine).replace(/\r$/, '');
  const summary = SUMMARY_LINE.exec(line);
  if (summary?.[1] !== undefined) return { kind: 'summary', file: summary[1].trim() };
  const match = TASK_PREFIX.exec(line);
  if (match === null) return undefined;
  const task = `${match[1] ?? ''}#${match[2] ?? ''}`;
  const text = match[3] ?? '';
  if (/^cache (miss|bypass)\b.*executing/.test(text)) return { kind: 'started', task };
  if (/^cache hit\b.*replaying/.test(text)) return { kind: 'replayed', task };
  if (/^ERROR: command finished with error/.test(text)) return { kind: 'failed', task };
  return { kind: 'output', task };
}

export interface TaskTiming {
  /** `<package>#<task>`. */
  readonly task: string;
  /** Whether the task ran, or was replayed from the cache. */
  readonly ran: boolean;
  readonly durationMs: number;
  readonly endTime: number;
  readonly exitCode: number | undefined;
}

/**
 * The per-task times of a Turborepo run summary (`turbo run --summarize`
 * writes `.turbo/runs/<id>.json`). Entries it cannot read are left out: the
 * summary only adds detail to the progress view, it decides nothing.
 */
export function taskTimings(summary: unknown): TaskTiming[] {
  const tasks = isRecord(summary) && Array.isArray(summary['tasks']) ? (summary['tasks'] as unknown[]) : [];
  const out: TaskTiming[] = [];
  for (const entry of tasks) {
    if (!isRecord(entry) || typeof entry['taskId'] !== 'string') continue;
    const execution = entry['execution'];
    const cache = entry['cache'];
    if (!isRecord(execution) || typeof execution['startTime'] !== 'number' || typeof execution['endTime'] !== 'number') continue;
    const status = isRecord(cache) ? cache['status'] : undefined;
    out.push({
      task: entry['taskId'],
      ran: status !== 'HIT',
      durationMs: Math.max(0, execution['endTime'] - execution['startTime']),
      endTime: execution['endTime'],
      exitCode: typeof execution['exitCode'] === 'number' ? execution['exitCode'] : undefined,
    });
  }
  return out;
}

/** At most this many tasks are listed with their times; the rest are counted. */
export const MAX_LISTED_TASKS = 12;

/**
 * The lines shown once a Turborepo run is over: one per task that ran, in the
 * order they finished, with its time (the slowest ones when there are many),
 * then how many were replayed from the cache.
 */
export function renderTimings(timings: readonly TaskTiming[]): string[] {
  const ran = timings.filter((t) => t.ran);
  const replayed = timings.length - ran.length;
  const listed = [...ran]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, MAX_LISTED_TASKS)
    .sort((a, b) => a.endTime - b.endTime);
  const lines = listed.map((t) => `${t.exitCode !== undefined && t.exitCode !== 0 ? '✗' : '✓'} ${t.task} ${seconds(t.durationMs)}`);
  const unlisted = ran.length - listed.length;
  const tail = [
    `${ran.length} of ${timings.length} ${timings.length === 1 ? 'task' : 'tasks'} ran`,
    `${replayed} replayed from the Turborepo cache`,
    ...(unlisted > 0 ? [`${unlisted} shorter ones not listed`] : []),
  ];
  return [...lines, `turbo: ${tail.join(', ')}`];
}

/**
 * The state of one running command as the progress view sees it: the tasks
 * Turborepo started, replayed and failed, and the last line of output.
 */
export class CommandWatch {
  readonly started: string[] = [];
  readonly failed: string[] = [];
  replayed = 0;
  summaryFile: string | undefined;
  lastLine = '';
  lastTask: string | undefined;
  lastOutputAt: number;
  private partial = '';

  constructor(
    /** Receives what deserves a line of its own: a task started or failed. */
    private readonly onEvent: (event: TurboEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.lastOutputAt = now();
  }

  /** Feeds a chunk of output as it arrives (lines may be split across chunks). */
  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
    if (text !== '') this.lastOutputAt = this.now();
  }

  /** Call when the command has ended: a last line without a newline still counts. */
  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
  }

  /** One plain line saying what is going on, for the heartbeat or a status line. */
  describe(elapsedMs: number): string {
    const parts = [`running for ${duration(elapsedMs)}`];
    if (this.started.length > 0 || this.replayed > 0) {
      parts.push(`${this.started.length} ${this.started.length === 1 ? 'task' : 'tasks'} started, ${this.replayed} replayed from the cache`);
    }
    if (this.failed.length > 0) parts.push(`${this.failed.length} failed`);
    const quiet = this.now() - this.lastOutputAt;
    parts.push(
      this.lastTask === undefined ? `last output ${duration(quiet)} ago` : `last output ${duration(quiet)} ago, from ${this.lastTask}`,
    );
    return parts.join('; ');
  }

  private line(raw: string): void {
    const visible = stripVTControlCharacters(raw).split('\r').filter((part) => part.trim() !== '').at(-1)?.trim() ?? '';
    if (visible !== '') this.lastLine = visible;
    const event = turboEvent(raw);
    if (event === undefined) return;
    switch (event.kind) {
      case 'summary':
        this.summaryFile = event.file;
        return;
      case 'started':
        this.started.push(event.task);
        break;
      case 'replayed':
        this.replayed++;
        break;
      case 'failed':
        this.failed.push(event.task);
        break;
      case 'output':
        break;
    }
    this.lastTask = event.task;
    if (event.kind === 'started' || event.kind === 'failed') this.onEvent(event);
  }
}

/** `1m05s` past a minute, `42s` below. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const secs = total % 60;
  return minutes > 0 ? `${minutes}m${String(secs).padStart(2, '0')}s` : `${secs}s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
