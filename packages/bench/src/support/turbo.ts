// Reading what a Turborepo run did from its run summary (`turbo run --summarize`):
// which tasks ran, which replayed from the cache, and how long each took.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TurboTask {
  /** e.g. `@conveyor/api#build`. */
  readonly id: string;
  /** `HIT` (replayed from the cache) or `MISS` (executed). */
  readonly cache: string;
  /** How long the task ran (or took to replay), when it was attempted. */
  readonly ms: number | undefined;
  readonly exitCode: number | undefined;
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
    };
  });
  const misses = tasks.filter((task) => task.cache !== 'HIT').map((task) => task.id);
  return { tasks, hits: tasks.length - misses.length, fullyCached: tasks.length > 0 && misses.length === 0, misses };
}

/** Where turbo says it wrote the run summary (`Summary:    <path>`), resolved against the run's directory. */
export function summaryPath(output: string, cwd: string): string | undefined {
  const match = /^\s*Summary:\s+(\S+\.json)\s*$/m.exec(output);
  return match ? path.resolve(cwd, match[1]!) : undefined;
}

/** The run summary of a finished `turbo run --summarize`, from its output. */
export function readTurboRun(output: string, cwd: string, step: string): TurboRun {
  const file = summaryPath(output, cwd);
  if (file === undefined) throw new Error(`${step}: turbo printed no "Summary:" line (was --summarize passed?)`);
  return parseTurboSummary(readFileSync(file, 'utf8'));
}

/** The `count` slowest executed tasks, slowest first, as "id 12.3 s". */
export function slowestTasks(run: TurboRun, count: number): string[] {
  return run.tasks
    .filter((task): task is TurboTask & { ms: number } => task.ms !== undefined && task.cache !== 'HIT')
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((task) => `${task.id} ${(task.ms / 1000).toFixed(1)} s`);
}
