// Reading what a Turborepo run did from its run summary (`turbo run --summarize`):
// which tasks ran, which replayed from the cache, and how long each took.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { StepError, indent, lastLines, runStep, type StepOptions } from './run-step';

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

/** npm's own lines around a failed script: they say that it failed, never why. */
const NPM_NOISE = /^(?:[^\s:]+:\s*)?npm (?:error|warn|notice) /;

/**
 * Turns a failed turbo step's error into one that names the failed tasks,
 * each with the end of its own log (what jest or tsc said, not npm's
 * "Lifecycle script failed" lines). Any other error is returned unchanged.
 */
export function explainTurboFailure(error: unknown, step: string, cwd: string): unknown {
  if (!(error instanceof StepError)) return error;
  const file = summaryPath(error.output, cwd);
  if (file === undefined || !existsSync(file)) return error;
  let run: TurboRun;
  try {
    run = parseTurboSummary(readFileSync(file, 'utf8'));
  } catch {
    return error;
  }
  const failed = run.tasks.filter((task) => task.exitCode !== undefined && task.exitCode !== 0);
  if (failed.length === 0) return error;
  const details = failed.map((task) => {
    const log = task.logFile !== undefined && existsSync(path.join(cwd, task.logFile)) ? readFileSync(path.join(cwd, task.logFile), 'utf8') : '';
    const tail = lastLines(log.split('\n').filter((line) => !NPM_NOISE.test(line)).join('\n'));
    return `${task.id} exited with code ${task.exitCode}; last ${tail.length} lines of its log:\n${indent(tail)}`;
  });
  return new StepError(`${step}: ${failed.map((task) => task.id).join(', ')} failed\n${details.join('\n')}`, error.output);
}

/** Runs a `turbo run ... --summarize` step (directly or through an npm script) and reads its run summary; a failure names the failed tasks. */
export async function runTurbo(step: string, command: string, args: readonly string[], options: StepOptions): Promise<{ ms: number; run: TurboRun }> {
  try {
    const ran = await runStep(step, command, args, options);
    return { ms: ran.ms, run: readTurboRun(ran.output, options.cwd, step) };
  } catch (error) {
    throw explainTurboFailure(error, step, options.cwd);
  }
}
