import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

export interface StepOptions {
  readonly cwd: string;
  /** The whole environment of the step (see childEnv): nothing else is inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** The step, and everything it started, is killed after this long, and the step fails. */
  readonly timeoutMs: number;
  /**
   * Where a heartbeat goes while the step runs: every `heartbeatMs` a line
   * saying how long it has run and the last line it printed, so a
   * minutes-long step is never silent. @default no heartbeat
   */
  readonly log?: (line: string) => void;
  /** @default 30_000 */
  readonly heartbeatMs?: number;
}

/** The heartbeat line of a step still running: its time and the last line of its output, trimmed. */
export function heartbeatLine(step: string, elapsedMs: number, output: string): string {
  const total = Math.round(elapsedMs / 1000);
  const time = total >= 60 ? `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s` : `${total}s`;
  const last = lastLines(output.slice(-4_000), 1)[0]?.split('\r').at(-1)?.trim() ?? '';
  const shown = last.length > 100 ? `${last.slice(0, 99)}…` : last;
  return `${step}: still running after ${time}${shown === '' ? '' : `; last output: ${shown}`}`;
}

export interface StepRun {
  /** Wall time from spawn to the end of the step's output, in milliseconds. */
  readonly ms: number;
  /** stdout and stderr as they came, at most the last MAX_OUTPUT characters. */
  readonly output: string;
}

/** Enough for the lines a section reads and the tail an error shows; a whole build's output is not kept. */
const MAX_OUTPUT = 1_000_000;

/** The last `count` non-empty lines of `output`, without colour codes (jest and tsc colour even a pipe when asked to). */
export function lastLines(output: string, count = 20): string[] {
  return stripVTControlCharacters(output)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-count);
}

function failure(step: string, what: string, output: string): Error {
  const tail = lastLines(output);
  const shown = tail.length > 0 ? `; last ${tail.length} lines of its output:\n${tail.map((line) => `    ${line}`).join('\n')}` : '; it printed nothing';
  return new Error(`${step}: ${what}${shown}`);
}

/**
 * Runs one measured step to completion and times it. The step gets its own
 * process group, so a timeout ends it and everything it started, and nothing
 * it left running in that group outlives it. Rejects with an Error naming the
 * step, with the end of its output, on a non-zero exit, a signal or the timeout.
 */
export function runStep(step: string, command: string, args: readonly string[], options: StepOptions): Promise<StepRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);

    const { log } = options;
    const heartbeat = log && setInterval(() => log(heartbeatLine(step, performance.now() - started, output)), options.heartbeatMs ?? 30_000);
    let settled = false;
    /** Settles once, whichever of exit, error and timeout comes first; ends the step's process group. */
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already empty.
      }
      outcome();
    };
    const timer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      settle(() => reject(failure(step, `did not finish within ${Math.round(options.timeoutMs / 1000)} s and was killed`, output)));
    }, options.timeoutMs);

    child.on('error', (error) => settle(() => reject(new Error(`${step}: could not start ${command}: ${error.message}`))));
    // 'close', not 'exit': the step is done when its output ends.
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      settle(() => {
        if (code === 0) resolve({ ms, output });
        else reject(failure(step, `exited with ${code === null ? `signal ${signal ?? 'unknown'}` : `code ${code}`} after ${(ms / 1000).toFixed(1)} s`, output));
      });
    });
  });
}
