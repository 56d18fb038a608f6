import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { copyWorkingTree } from '@conveyor/local-pipeline';

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
 * The working tree copied as the rehearsal's build copies it (tracked and
 * untracked files git does not ignore, modes and links kept); the paths
 * copied. The bench measures what the build would see.
 */
export function copySource(repoRoot: string, destination: string): string[] {
  return [...copyWorkingTree(repoRoot, destination).files];
}
