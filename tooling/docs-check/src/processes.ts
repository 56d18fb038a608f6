/**
 * Each block is one `bash -euo pipefail` in its own process group, so a
 * timeout or a stop reaches npm, turbo and the node under them; stdout and
 * stderr go to one log file, interleaved as a terminal shows them.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { processTable } from '@conveyor/tooling-support';

export interface ShellProcess {
  /** Process id of the shell, which is also its process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the shell's exit code (128 + n when killed by signal n, as bash's `$?`). */
  readonly exited: Promise<number>;
  /** Set once the shell has exited. */
  exitCode: number | undefined;
}

/** Starts `command` detached into its own process group, appending its output to `logFile`. */
export function startShell(command: string, cwd: string, env: Readonly<Record<string, string>>, logFile: string): ShellProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn('bash', ['-euo', 'pipefail', '-c', command], { cwd, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  if (child.pid === undefined) {
    child.on('error', () => undefined); // reported by the throw below
    throw new Error(`bash could not be started in ${cwd}`);
  }
  const shell: ShellProcess = {
    pid: child.pid,
    logFile,
    exitCode: undefined,
    exited: new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    }).then((code) => (shell.exitCode = code)),
  };
  return shell;
}

/** Sends `signal` to every process of the group; a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Whether a live process is left in the group; zombies do not count (a container's init may never reap them). */
function groupAlive(pgid: number): boolean {
  const table = processTable();
  if (table) return table.some((entry) => entry.pgid === pgid && !entry.zombie);
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a group the way a person would: `first` (SIGINT is Ctrl-C), then
 * SIGTERM, then SIGKILL, each after a grace period. ChildProcess.kill would
 * reach the shell only, not the processes under it.
 */
export async function stopGroup(pgid: number, options: { readonly first?: NodeJS.Signals; readonly graceMs?: number | undefined } = {}): Promise<void> {
  for (const signal of new Set<NodeJS.Signals>([options.first ?? 'SIGINT', 'SIGTERM', 'SIGKILL'])) {
    const deadline = Date.now() + (signal === 'SIGKILL' ? 2_000 : (options.graceMs ?? 15_000));
    if (!groupAlive(pgid)) return;
    signalGroup(pgid, signal);
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  }
}
