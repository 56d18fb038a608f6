// Processes a measured step left behind. The suite's own tests start detached
// processes (the rehearsal's proxy, pm2 daemons with their workers) and stop
// them in afterAll; when turbo aborts a run because another task failed, jest
// is killed before afterAll and they outlive the step, in their own sessions,
// out of reach of the step's process group. Nearly every one of them has the
// copy's path or the step's temp dir in its command line, so the bench finds
// them there and ends them by pid. The exception is the rehearsal's load
// balancer, which runs the checkout's proxy script: it has its port, one the
// step chose, as an argument of its own.
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Pids whose command line mentions one of `paths`, or has one of `args` as a
 * whole argument, this process excepted. Linux (/proc) only: elsewhere none
 * are found.
 */
export function processesMentioning(paths: readonly string[], proc = '/proc', args: readonly string[] = []): number[] {
  let entries: string[];
  try {
    entries = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of entries) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`${proc}/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // Gone since the listing.
    }
    const cmdline = argv.join(' ');
    if (paths.some((p) => p !== '' && cmdline.includes(p)) || args.some((a) => a !== '' && argv.includes(a))) pids.push(pid);
  }
  return pids;
}

/** SIGKILLs every process whose command line mentions one of `paths` or has one of `args`; returns their pids. */
export function endLeftovers(paths: readonly string[], args: readonly string[] = []): number[] {
  const pids = processesMentioning(paths, '/proc', args);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids;
}
