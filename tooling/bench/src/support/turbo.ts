// Reading what a Turborepo run did from its run summary (`turbo run --summarize`):
// which tasks ran, which replayed from the cache, and how long each took.
export interface TurboTask {
  /** e.g. `@conveyor/api#build`. */
  readonly id: string;
  /** `HIT` (replayed from the cache) or `MISS` (executed). */
  readonly cache: string;
  /** How long the task ran (or took to replay), when it was attempted. */
  readonly ms: number | undefined;
  readonly exitCode: number | undefined;
  /** The task's log, relative to the repo root. */
  readonly logFile: string | undefined;
}

export interface TurboRun {
  readonly tasks: readonly TurboTask[];
  /** Tasks that replayed from the cache. */
  readonly hits: number;
  /** Every task replayed from the cache: what turbo prints as FULL TURBO. */
  readonly fullyCached: boolean;
  /** Tasks that executed (cache misses), by id. */
  readonly misses: readonly string[];
}

interface RawTask {
  readonly taskId?: string;
  readonly logFile?: string;
  readonly cache?: { readonly status?: string };
  readonly execution?: { readonly startTime?: number; readonly endTime?: number; readonly exitCode?: number };
}

interface RawSummary {
  readonly tasks?: RawTask[];
}

/** Parses a run summary file's JSON. */
export function parseTurboSummary(json: string): TurboRun {
  const raw = JSON.parse(json) as RawSummary;
  if (!Array.isArray(raw.tasks)) throw new Error('not a Turborepo run summary: it has no "tasks" list');
  const tasks = raw.tasks.map((task): TurboTask => {
    const { startTime, endTime, exitCode } = task.execution ?? {};
    return {
      id: task.taskId ?? '?',
      cache: task.cache?.status ?? 'UNKNOWN',
      ms: startTime !== undefined && endTime !== undefined ? endTime - startTime : undefined,
      exitCode,
      logFile: task.logFile,
    };
  });
  const misses = tasks.filter((task) => task.cache !== 'HIT').map((task) => task.id);
  return { tasks, hits: tasks.length - misses.length, fullyCached: tasks.length > 0 && misses.length === 0, misses };
}
