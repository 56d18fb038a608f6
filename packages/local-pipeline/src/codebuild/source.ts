// DOWNLOAD_SOURCE, locally: a clean copy of the working tree.
//
// CodeBuild builds a commit. Locally the rehearsal builds what you are about to
// commit: tracked files as they are on disk plus new files git does not ignore.
// Ignored files (node_modules, .turbo, .rehearsal, .env…) never reach the
// copy, so the build starts as clean as CodeBuild's does.
import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface SourceVersion {
  /** `git rev-parse HEAD`; CODEBUILD_RESOLVED_SOURCE_VERSION is this, or this plus `-dirty` (see sourceLabel). */
  readonly commit: string;
  /** Uncommitted or untracked (not ignored) changes are present, and will be built. */
  readonly dirty: boolean;
}

export interface CopyOptions {
  /**
   * Folders never copied (the rehearsal's own, in case they are not
   * git-ignored), so a build can never copy itself. @default none
   */
  readonly exclude?: readonly string[];
  /**
   * Copy only what differs from HEAD (uncommitted edits, untracked files) and
   * delete in `destination` what the working tree deleted: for a destination
   * that already holds HEAD, such as a clone of the checkout. @default false:
   * every file, into an empty destination
   */
  readonly uncommittedOnly?: boolean;
}

export interface CopyResult {
  /** Paths copied, relative to the source root. */
  readonly files: readonly string[];
  /** Tracked files deleted from the working tree: not copied (and removed from the destination), as a commit of the tree would not have them. */
  readonly deleted: readonly string[];
  /** Git submodules and other entries that are neither files nor links. */
  readonly skipped: readonly string[];
}

/** Reads HEAD and whether the working tree differs from it. */
export function readSourceVersion(sourceRoot: string): SourceVersion {
  let commit: string;
  try {
    commit = git(sourceRoot, ['rev-parse', '--verify', 'HEAD']).trim();
  } catch (error) {
    throw new Error(
      `${sourceRoot} has no commit to build (git rev-parse HEAD failed). Commit once, then run the rehearsal again.`,
      { cause: error },
    );
  }
  const dirty = git(sourceRoot, ['status', '--porcelain', '--untracked-files=normal']).trim() !== '';
  return { commit, dirty };
}

/**
 * The version a build of this source reports (CODEBUILD_RESOLVED_SOURCE_VERSION,
 * hence the bundle's commit, /health and the rehearsal's last line): the commit,
 * suffixed `-dirty` when uncommitted changes are built too, so a build of an
 * edited tree is never taken for the commit it started from.
 */
export function sourceLabel(source: SourceVersion): string {
  return source.dirty ? `${source.commit}-dirty` : source.commit;
}

/**
 * Copies committed and uncommitted, not ignored files from `sourceRoot` into
 * `destination`, keeping file modes (hook scripts stay executable) and
 * symbolic links as links. The one copy of a working tree in the project:
 * the rehearsal's DOWNLOAD_SOURCE, the bench's throwaway repo and the
 * workshop check's clone (which takes only the uncommitted files) use it.
 */
export function copyWorkingTree(sourceRoot: string, destination: string, options: CopyOptions = {}): CopyResult {
  const listing = options.uncommittedOnly
    ? git(sourceRoot, ['diff', '--name-only', '-z', '--no-renames', 'HEAD']) + git(sourceRoot, ['ls-files', '-z', '--others', '--exclude-standard'])
    : git(sourceRoot, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  // An unmerged file is listed once per stage; copy it once.
  const listed = [...new Set(listing.split('\0').filter((f) => f !== ''))];
  const excluded = (options.exclude ?? []).map((dir) => path.relative(sourceRoot, dir)).filter((rel) => rel !== '' && !rel.startsWith('..'));

  const files: string[] = [];
  const deleted: string[] = [];
  const skipped: string[] = [];
  for (const file of listed) {
    if (excluded.some((dir) => file === dir || file.startsWith(`${dir}/`))) continue;
    const from = path.join(sourceRoot, file);
    const to = path.join(destination, file);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      rmSync(to, { force: true });
      deleted.push(file);
      continue;
    }
    if (!stat.isFile() && !stat.isSymbolicLink()) {
      skipped.push(file);
      continue;
    }
    // A clone holds the committed version; a link cannot be written over.
    rmSync(to, { force: true });
    mkdirSync(path.dirname(to), { recursive: true });
    // copyFile keeps the mode bits, so executable scripts stay executable.
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    files.push(file);
  }
  return { files, deleted, skipped };
}

/**
 * Makes the copy a git repository of its own, every copied file committed
 * once. Without it, tools that hash their inputs through git would find the
 * checkout around the copy (`.rehearsal/codebuild/src` sits inside it) and see no
 * files at all, since the checkout ignores `.rehearsal/`: Turborepo then gives
 * every task the same hash whatever the source says, and a second build
 * replays the first one's outputs from the cache. CodeBuild's source dir is
 * never inside another repository, so there it cannot happen.
 */
export function commitCopy(destination: string, source: SourceVersion): void {
  mkdirSync(destination, { recursive: true });
  git(destination, ['init', '--quiet', '--initial-branch=main']);
  git(destination, ['add', '--all']);
  git(destination, [
    '-c',
    'user.name=rehearsal',
    '-c',
    'user.email=rehearsal@localhost',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '--quiet',
    '--no-verify',
    '--allow-empty',
    '-m',
    `rehearsal: the working tree at ${source.commit}${source.dirty ? ' with its uncommitted changes' : ''}`,
  ]);
}

// The rehearsal's own small wrapper, not @conveyor/tooling-support's: the
// product does not depend on the developer tooling.
function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}
