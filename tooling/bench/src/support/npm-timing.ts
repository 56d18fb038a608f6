// Where an `npm ci` spends its time, from the timing file npm writes with
// `--timing --logs-dir <dir>` (`<dir>/<id>-timing.json`, a flat map of timer
// names to milliseconds). The phases overlap in npm's own accounting: reify
// contains unpack and build; the phases below do not.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of one `npm ci`, in milliseconds, that add up (roughly) to its wall time. */
export interface NpmPhases {
  /** Reading the lockfile into the tree npm will install (`idealTree`). */
  readonly resolve: number;
  /** Fetching each package (from the registry or the npm cache) and writing it into node_modules, in parallel (`reify:unpack`). */
  readonly unpack: number;
  /** Install scripts and bin links (`reify:build`). */
  readonly build: number;
  /** Everything else npm timed: loading its config, diffing trees, moving old files aside, exiting (`npm` less the three above). */
  readonly other: number;
  /** The whole command as npm timed it (`npm`). */
  readonly total: number;
}

/** The phases of one run, from the parsed timing file; names the timer npm did not write. */
export function npmPhases(timing: unknown): NpmPhases {
  const timers = (timing as { timers?: Record<string, unknown> } | null)?.timers;
  if (timers === undefined || timers === null || typeof timers !== 'object') throw new Error('npm timing file: no "timers" object');
  const timer = (name: string): number => {
    const value = timers[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`npm timing file: no timer "${name}" (npm's timer names changed?)`);
    return value;
  };
  const resolve = timer('idealTree');
  const unpack = timer('reify:unpack');
  const build = timer('reify:build');
  const total = timer('npm');
  return { resolve, unpack, build, other: Math.max(0, total - resolve - unpack - build), total };
}

/** The phases of the one `npm ci` whose timing file is in `logsDir`; fails if there is not exactly one. */
export function readNpmPhases(logsDir: string): NpmPhases {
  const files = readdirSync(logsDir).filter((name) => name.endsWith('-timing.json'));
  if (files.length !== 1) throw new Error(`npm timing: expected one *-timing.json in ${logsDir}, found ${files.length}`);
  return npmPhases(JSON.parse(readFileSync(path.join(logsDir, files[0]!), 'utf8')));
}
