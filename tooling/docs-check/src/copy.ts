/**
 * The throwaway working copy a workshop runs in: what a newcomer gets from
 * `git clone`, plus the edits not committed yet in the checkout it is made
 * from, so a change to a module or to the code is tested before it is
 * committed. The checkout itself is only read.
 */
import path from 'node:path';

import { copyWorkingTree } from '@conveyor/local-pipeline';
import { git } from '@conveyor/tooling-support';

export interface CopyResult {
  /** HEAD of the checkout, checked out in the copy. */
  readonly commit: string;
  /** Uncommitted (staged or not) and untracked, not ignored files copied over the clone. */
  readonly overlaid: number;
  /** Files committed but deleted in the checkout, deleted in the copy too. */
  readonly deleted: number;
}

/**
 * Clones `sourceRoot` into `destination` (which must not exist) and, unless
 * told not to, overlays its uncommitted files. A clone, not the rehearsal's
 * plain copy of the files: the workshop's commands read the history and
 * commit (`git log`, a rehearsal of a new commit), as a newcomer's clone does.
 */
export function makeCopy(sourceRoot: string, destination: string, options: { readonly overlay: boolean } = { overlay: true }): CopyResult {
  const commit = git(sourceRoot, ['rev-parse', '--verify', 'HEAD']).trim();
  git(path.dirname(destination), ['clone', '--quiet', sourceRoot, destination]);
  if (git(destination, ['rev-parse', 'HEAD']).trim() !== commit) {
    // The checkout is on a detached HEAD or another branch than its default.
    git(destination, ['checkout', '--quiet', '--detach', commit]);
  }

  if (!options.overlay) return { commit, overlaid: 0, deleted: 0 };
  const { files, deleted } = copyWorkingTree(sourceRoot, destination, { uncommittedOnly: true });
  return { commit, overlaid: files.length, deleted: deleted.length };
}
