/**
 * The throwaway working copy a workshop runs in: what a newcomer gets from
 * `git clone`, plus the edits not committed yet in the checkout it is made
 * from, so a change to a module or to the code is tested before it is
 * committed. The checkout itself is only read.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface CopyResult {
  /** HEAD of the checkout, checked out in the copy. */
  readonly commit: string;
  /** Uncommitted (staged or not) and untracked, not ignored files copied over the clone. */
  readonly overlaid: number;
  /** Files committed but deleted in the checkout, deleted in the copy too. */
  readonly deleted: number;
}

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

function nulList(text: string): string[] {
  return [...new Set(text.split('\0').filter((entry) => entry !== ''))];
}

/** Clones `sourceRoot` into `destination` (which must not exist) and, unless told not to, overlays its uncommitted files. */
export function makeCopy(sourceRoot: string, destination: string, options: { readonly overlay: boolean } = { overlay: true }): CopyResult {
  const commit = git(sourceRoot, ['rev-parse', '--verify', 'HEAD']).trim();
  git(path.dirname(destination), ['clone', '--quiet', sourceRoot, destination]);
  if (git(destination, ['rev-parse', 'HEAD']).trim() !== commit) {
    // The checkout is on a detached HEAD or another branch than its default.
    git(destination, ['checkout', '--quiet', '--detach', commit]);
  }

  if (!options.overlay) return { commit, overlaid: 0, deleted: 0 };
  const changed = nulList(git(sourceRoot, ['diff', '--name-only', '-z', '--no-renames', 'HEAD']));
  const untracked = nulList(git(sourceRoot, ['ls-files', '-z', '--others', '--exclude-standard']));
  let overlaid = 0;
  let deleted = 0;
  for (const file of [...new Set([...changed, ...untracked])]) {
    const from = path.join(sourceRoot, file);
    const to = path.join(destination, file);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      rmSync(to, { force: true });
      deleted++;
      continue;
    }
    rmSync(to, { force: true });
    mkdirSync(path.dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (stat.isFile()) copyFileSync(from, to);
    else continue;
    overlaid++;
  }
  return { commit, overlaid, deleted };
}
