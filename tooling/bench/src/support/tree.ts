import { lstatSync, readdirSync } from 'node:fs';
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
  const size = { files: 0, bytes: 0, symlinks: 0 };
  const top = lstatSync(root, { throwIfNoEntry: false });
  if (top?.isSymbolicLink()) size.symlinks = 1;
  else if (top?.isFile()) Object.assign(size, { files: 1, bytes: top.size });
  else if (top?.isDirectory()) {
    // Recursive readdir lists a link as a link and does not descend into it.
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (entry.isSymbolicLink()) size.symlinks += 1;
      else if (entry.isFile()) {
        size.files += 1;
        size.bytes += lstatSync(path.join(entry.parentPath, entry.name)).size;
      }
    }
  }
  return size;
}

/** Adds tree sizes up. */
export function addSizes(sizes: readonly TreeSize[]): TreeSize {
  return sizes.reduce((sum, s) => ({ files: sum.files + s.files, bytes: sum.bytes + s.bytes, symlinks: sum.symlinks + s.symlinks }), { files: 0, bytes: 0, symlinks: 0 });
}

