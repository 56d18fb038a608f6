// The process table, read from /proc. Hand-written: Node has no process-table
// API, and `ps` prints differently on every platform; what the callers need
// (process group, zombie state, command line, working directory) is a few
// files per process. Linux only: elsewhere nothing is found.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessEntry {
  readonly pid: number;
  /** Process group id. */
  readonly pgid: number;
  /** Ended, not yet reaped by its parent: it runs nothing and cannot be signalled away. */
  readonly zombie: boolean;
}

/** Every process in `proc`; undefined where there is no such folder (not Linux). */
export function processTable(proc = '/proc'): ProcessEntry[] | undefined {
  let names: string[];
  try {
    names = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const entries: ProcessEntry[] = [];
  for (const name of names) {
    try {
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
      const stat = readFileSync(`${proc}/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      entries.push({ pid: Number(name), pgid: Number(fields[2]), zombie: fields[0] === 'Z' });
    } catch {
      // Ended since the listing.
    }
  }
  return entries;
}

/**
 * Whether `pid` is running: it exists and is not a zombie (a killed orphan
 * stays one until init reaps it, which a container's init may never do).
 */
export function running(pid: number, proc = '/proc'): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // No /proc to ask: it answered the signal.
  }
}

export interface FoundProcess {
  readonly pid: number;
  /** Its command line, arguments joined by spaces. */
  readonly command: string;
}

export interface MentioningOptions {
  /** Also a process with one of these as a whole argument (a port: `40563` but not `405631` or `--port=40563`). */
  readonly args?: readonly string[];
  /** @default '/proc' */
  readonly proc?: string;
}

/**
 * What a run left behind: live processes (this one and zombies excepted)
 * whose command line mentions one of `paths` (the path itself or below it,
 * not a longer name beside it), or whose working directory is one of them or
 * below, or that have one of `options.args` as a whole argument.
 */
export function processesMentioning(paths: readonly string[], options: MentioningOptions = {}): FoundProcess[] {
  const proc = options.proc ?? '/proc';
  const args = (options.args ?? []).filter((arg) => arg !== '');
  const mentions = paths.filter((p) => p !== '').map((p) => new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`));
  const found: FoundProcess[] = [];
  for (const entry of processTable(proc) ?? []) {
    if (entry.pid === process.pid || entry.zombie) continue;
    let argv: string[];
    try {
      argv = readFileSync(`${proc}/${entry.pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
    } catch {
      continue; // Ended since the listing.
    }
    let cwd = '';
    try {
      cwd = readlinkSync(`${proc}/${entry.pid}/cwd`);
    } catch {
      // Not ours to inspect, or ended.
    }
    const command = argv.join(' ');
    const inside = paths.some((p) => p !== '' && (cwd === p || cwd.startsWith(`${p}/`)));
    if (inside || mentions.some((re) => re.test(command)) || args.some((arg) => argv.includes(arg))) found.push({ pid: entry.pid, command });
  }
  return found;
}

/**
 * SIGKILLs every process processesMentioning finds for `paths` and `args`,
 * and returns their pids: for what a step that is already over left running,
 * which is owed no graceful stop.
 */
export function endLeftovers(paths: readonly string[], args: readonly string[] = []): number[] {
  const pids = processesMentioning(paths, { args }).map((found) => found.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids;
}
