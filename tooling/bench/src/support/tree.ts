import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface TreeSize {
  /** Regular files. */
  readonly files: number;
  /** Their bytes (apparent size, as an archive would hold them). */
  readonly bytes: number;
  /** Symbolic links: counted as entries, never followed, no bytes. */
  readonly symlinks: number;
}

/**
 * Counts the regular files and bytes under `root` (a file or a directory)
 * without following symbolic links; links are counted apart. A missing root
 * counts as empty.
 */
export function treeSize(root: string): TreeSize {
  let files = 0;
  let bytes = 0;
  let symlinks = 0;
  let top;
  try {
    top = lstatSync(root);
  } catch {
    return { files, bytes, symlinks };
  }
  if (top.isSymbolicLink()) return { files, bytes, symlinks: 1 };
  if (top.isFile()) return { files: 1, bytes: top.size, symlinks };
  const dirs = [root];
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) symlinks += 1;
      else if (entry.isDirectory()) dirs.push(full);
      else if (entry.isFile()) {
        files += 1;
        bytes += lstatSync(full).size;
      }
    }
  }
  return { files, bytes, symlinks };
}

/** Adds tree sizes up. */
export function addSizes(sizes: readonly TreeSize[]): TreeSize {
  return sizes.reduce((sum, s) => ({ files: sum.files + s.files, bytes: sum.bytes + s.bytes, symlinks: sum.symlinks + s.symlinks }), { files: 0, bytes: 0, symlinks: 0 });
}

/**
 * The repo's source as a fresh clone plus your uncommitted work would have it:
 * tracked and untracked files that git does not ignore (never node_modules,
 * dist, .turbo...), relative to `repoRoot`.
 */
export function sourceFiles(repoRoot: string): string[] {
  const listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  // An unmerged file is listed once per stage.
  return [...new Set(listing.split('\0').filter((file) => file !== ''))];
}

/**
 * Copies `sourceFiles(repoRoot)` into `destination`, keeping file modes (hook
 * scripts stay executable) and symbolic links as links. Tracked files deleted
 * from the working tree are skipped. Returns the paths copied.
 */
export function copySource(repoRoot: string, destination: string): string[] {
  const copied: string[] = [];
  for (const file of sourceFiles(repoRoot)) {
    const from = path.join(repoRoot, file);
    const to = path.join(destination, file);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      continue;
    }
    if (!stat.isFile() && !stat.isSymbolicLink()) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    copied.push(file);
  }
  return copied;
}
