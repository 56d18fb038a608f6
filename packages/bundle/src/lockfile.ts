import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a package-lock.json (lockfileVersion 3) entry the closure walk reads. */
interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly link?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export interface Lockfile {
  readonly packages: Readonly<Record<string, LockEntry>>;
}

export function readLockfile(repoRoot: string): Lockfile {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { lockfileVersion?: number; packages?: Lockfile['packages'] };
  if (lock.lockfileVersion !== 3 || !lock.packages) {
    throw new Error('package-lock.json must be lockfileVersion 3 (npm 9 or newer): run npm install once to upgrade it');
  }
  return { packages: lock.packages };
}

/**
 * Resolves `name` from the package installed at `fromPath` the way Node does:
 * `<fromPath>/node_modules/<name>`, then each ancestor's `node_modules`.
 */
function resolveFrom(lock: Lockfile, fromPath: string, name: string): string | undefined {
  let dir = fromPath;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

/**
 * Every installed package path (lockfile key, e.g. `node_modules/pm2`) that
 * `root` needs at run time: its dependencies, optional and peer dependencies,
 * transitively, resolved exactly as Node resolves them in this tree. Versions
 * are therefore the lockfile's: nothing is re-resolved against the registry.
 * Optional dependencies the lockfile does not hold (other platforms) are skipped.
 */
export function dependencyClosure(lock: Lockfile, root: string): string[] {
  if (!lock.packages[root]) throw new Error(`${root} is not in package-lock.json; is it a dependency of the app?`);
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const current = queue.pop() as string;
    if (seen.has(current)) continue;
    seen.add(current);
    const entry = lock.packages[current] ?? {};
    const required = Object.keys(entry.dependencies ?? {});
    const optional = [...Object.keys(entry.optionalDependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {})];
    for (const name of required) {
      const resolved = resolveFrom(lock, current, name);
      if (!resolved) throw new Error(`${current} depends on ${name}, which package-lock.json does not resolve`);
      queue.push(resolved);
    }
    for (const name of optional) {
      const resolved = resolveFrom(lock, current, name);
      if (resolved) queue.push(resolved);
    }
  }
  return [...seen].sort();
}
