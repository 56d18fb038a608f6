/**
 * The processes a workshop run starts: each block is one `bash -euo pipefail`
 * in its own process group (so a timeout or a stop reaches npm, turbo and the
 * node under them), writing stdout and stderr to one log file, in order, as a
 * terminal would show them. Only processes this run started are ever
 * signalled: by their group id, or (for the final sweep) because they run
 * inside this run's temporary directory.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { processesMentioning, processTable, running, type FoundProcess } from '@conveyor/tooling-support';

export interface ShellProcess {
  /** Process id of the shell, which is also its process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the shell's exit code (128 + n when killed by signal n). */
  readonly exited: Promise<number>;
  /** Set once the shell has exited. */
  exitCode: number | undefined;
}

export interface StartShellOptions {
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Appended to: stdout and stderr both. */
  readonly logFile: string;
}

/** Starts `command` in `bash -euo pipefail`, detached into its own process group. */
export function startShell(options: StartShellOptions): ShellProcess {
  const fd = openSync(options.logFile, 'a');
  let child;
  try {
    child = spawn('bash', ['-euo', 'pipefail', '-c', options.command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const started: ShellProcess = {
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exitCode: undefined,
    exited: new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      // A shell killed by signal n reports 128 + n, as bash's own $? does.
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    }).then((code) => {
      started.exitCode = code;
      return code;
    }),
  };
  return started;
}

/** Sends `signal` to every process of the group; a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Whether any live process is left in the group. Zombies do not count: where
 * PID 1 does not reap orphans (some containers), they would never go away.
 */
export function groupAlive(pgid: number): boolean {
  if (pgid <= 0) return false;
  const entries = processTable();
  if (entries) return entries.some((entry) => entry.pgid === pgid && !entry.zombie);
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Stops a group the way a person would: `first` (SIGINT is Ctrl-C in a
 * terminal), then SIGTERM, then SIGKILL, each after a grace period.
 * Hand-written: ChildProcess.kill signals one pid, not the npm, turbo and node
 * processes of the block's group.
 */
export async function stopGroup(pgid: number, options: { readonly first?: NodeJS.Signals; readonly graceMs?: number } = {}): Promise<void> {
  const sequence: NodeJS.Signals[] = [options.first ?? 'SIGINT', 'SIGTERM', 'SIGKILL'];
  for (const signal of [...new Set(sequence)]) {
    if (!groupAlive(pgid)) return;
    signalGroup(pgid, signal);
    if (await waitGroupGone(pgid, signal === 'SIGKILL' ? 2_000 : (options.graceMs ?? 15_000))) return;
  }
}

/** The last `count` lines of a log file, for error messages. */
export function tailOf(file: string, count: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-count);
}

/**
 * Processes still running inside `dir` (their working directory or command
 * line is in it): what a run left behind. Empty where there is no /proc.
 */
export function processesInside(dir: string): FoundProcess[] {
  return processesMentioning([dir]);
}

/** Ends the given processes by pid: SIGTERM, then SIGKILL for any still alive after a grace. */
export async function endProcesses(pids: readonly number[], graceMs = 3_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some((pid) => running(pid)) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter((pid) => running(pid))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
