// UPLOAD_ARTIFACTS, locally: the primary artifact, report files and the cache,
// copied to directories instead of S3.
import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import type { ArtifactsSpec, CacheSpec, FileSetSpec, ReportGroupSpec } from './buildspec';
import { findDirectories, findFiles, hasGlob, matchesGlob, segments, type FoundFile } from './glob';

export interface CollectResult {
  /** Paths written, relative to the output directory. */
  readonly files: readonly string[];
  /** Things the user should know: links not followed, names that collided under discard-paths… */
  readonly warnings: readonly string[];
}

/**
 * Collects the primary artifact into `outDir` the way CodeBuild lays out the
 * zip it uploads: `files` matched under `base-directory` (the base directory
 * itself is not part of the paths), minus `exclude-paths`, flattened when
 * `discard-paths` is yes.
 * https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.artifacts.base-directory
 */
export function collectArtifacts(srcDir: string, spec: ArtifactsSpec, outDir: string): CollectResult {
  return collectFileSet(srcDir, spec, outDir, { excludePaths: spec.excludePaths, keepSymlinks: spec.enableSymlinks });
}

/** Collects one report group's files into `outDir`. */
export function collectReports(srcDir: string, spec: ReportGroupSpec, outDir: string): CollectResult {
  return collectFileSet(srcDir, spec, outDir, { excludePaths: [], keepSymlinks: false });
}

function collectFileSet(
  srcDir: string,
  spec: FileSetSpec,
  outDir: string,
  options: { excludePaths: readonly string[]; keepSymlinks: boolean },
): CollectResult {
  const warnings: string[] = [];
  const written = new Map<string, string>();
  // A base directory may be a pattern naming several top-level directories (`my-build*`).
  const bases = spec.baseDirectory === undefined ? [''] : findDirectories(srcDir, spec.baseDirectory);

  for (const base of bases) {
    const baseAbs = path.join(srcDir, base);
    for (const file of findFiles(baseAbs, spec.files)) {
      if (options.excludePaths.some((pattern) => matchesGlob(pattern, file.path))) continue;
      const target = spec.discardPaths ? path.posix.basename(file.path) : file.path;
      const origin = base === '' ? file.path : `${base}/${file.path}`;
      const previous = written.get(target);
      if (previous !== undefined) {
        warnings.push(`${origin} and ${previous} both become ${target} (discard-paths); the last one wins`);
      }
      if (copyEntry(path.join(baseAbs, file.path), path.join(outDir, target), file, options.keepSymlinks)) {
        written.set(target, origin);
      } else {
        warnings.push(`${origin} is a link to a directory; it is left out (enable-symlinks: yes keeps links)`);
      }
    }
  }

  if (written.size === 0) warnings.push(...hintsForNoMatch(srcDir, spec));
  return { files: [...written.keys()].sort(), warnings };
}

/** Why a file set matched nothing, when the cause is a common mistake. */
function hintsForNoMatch(srcDir: string, spec: FileSetSpec): string[] {
  const hints: string[] = [];
  if (spec.baseDirectory !== undefined && findDirectories(srcDir, spec.baseDirectory).length === 0) {
    hints.push(`base-directory ${spec.baseDirectory} does not exist after the build`);
    return hints;
  }
  for (const pattern of spec.files) {
    const segs = segments(pattern);
    if (segs.length > 0 && !segs.some(hasGlob)) {
      const base = spec.baseDirectory === undefined ? [''] : findDirectories(srcDir, spec.baseDirectory);
      if (base.some((b) => findDirectories(path.join(srcDir, b), pattern).length > 0)) {
        hints.push(`${pattern} is a directory; files: names files, so write ${segs.join('/')}/**/* for its contents`);
      }
    }
  }
  return hints;
}

/** Copies one matched entry; a link to a file becomes the file's content unless links are kept. */
function copyEntry(from: string, to: string, file: FoundFile, keepSymlinks: boolean): boolean {
  if (file.kind === 'symlink-to-directory' && !keepSymlinks) return false;
  mkdirSync(path.dirname(to), { recursive: true });
  rmSync(to, { force: true });
  if (file.kind !== 'file' && keepSymlinks) symlinkSync(readlinkSync(from), to);
  else copyFileSync(from, to);
  return true;
}

// --- cache ------------------------------------------------------------------
//
// CodeBuild's S3 cache, emulated by a directory that outlives the build. Its
// contents are the files `cache.paths` matched, at their paths relative to the
// source directory. An npm cache runs to hundreds of megabytes, so restoring
// uses copy-on-write clones where the file system has them, and saving moves
// the files out of the build's scratch copy instead of copying them.

/**
 * Puts cached files back into the fresh source copy. A file the source already
 * has is left alone: the source wins, as it does for CodeBuild's local custom
 * cache ("Cached items are overridden if a source item has the same name").
 * https://docs.aws.amazon.com/codebuild/latest/userguide/build-caching.html
 */
export function restoreCache(cacheDir: string, srcDir: string): number {
  if (!existsSync(cacheDir)) return 0;
  let restored = 0;
  for (const file of findFiles(cacheDir, ['**'])) {
    const to = path.join(srcDir, file.path);
    if (lexists(to)) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    const from = path.join(cacheDir, file.path);
    if (file.kind === 'file') copyFileSync(from, to, constants.COPYFILE_FICLONE);
    else symlinkSync(readlinkSync(from), to);
    restored++;
  }
  return restored;
}

/**
 * Replaces the cache with the files `spec.paths` match now. They are moved
 * into a staging directory that is then swapped in, so a crash mid-save leaves
 * the previous cache rather than half of a new one. Call it last: the matched
 * files leave the source copy.
 */
export function saveCache(srcDir: string, spec: CacheSpec, cacheDir: string): number {
  const staging = `${cacheDir}.saving`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const files = findFiles(srcDir, spec.paths);
  for (const file of files) {
    const from = path.join(srcDir, file.path);
    const to = path.join(staging, file.path);
    mkdirSync(path.dirname(to), { recursive: true });
    moveFile(from, to, file);
  }
  rmSync(cacheDir, { recursive: true, force: true });
  renameSync(staging, cacheDir);
  return files.length;
}

/** Moves a file, or copies it when the cache lives on another file system. */
function moveFile(from: string, to: string, file: FoundFile): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    if (file.kind === 'file') copyFileSync(from, to);
    else symlinkSync(readlinkSync(from), to);
  }
}

/** Whether anything, even a dangling link, exists at the path. */
function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
