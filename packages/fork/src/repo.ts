import { git } from '@conveyor/tooling-support';

/** The repository's top folder, from any folder inside it. */
export function repoRoot(from: string): string {
  return git(from, ['rev-parse', '--show-toplevel']).trim();
}

/** Uncommitted or untracked (not ignored) paths, as `git status --porcelain` lists them. */
export function uncommitted(root: string): string[] {
  return git(root, ['status', '--porcelain', '--untracked-files=normal'])
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Tracked files, relative to the root. */
export function trackedFiles(root: string): string[] {
  return git(root, ['ls-files', '-z'])
    .split('\0')
    .filter((file) => file !== '');
}
