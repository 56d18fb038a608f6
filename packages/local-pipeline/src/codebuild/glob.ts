// The path patterns buildspecs use in `artifacts`, `reports` and `cache`.
//
// The reference documents these forms: a file (`my-file.jar`), a file in a
// subdirectory (`dir/my-file.jar`), `dir/*` (files in dir), `dir/**/*` (files in
// dir, recursively) and `'**/*'` (every file).
// https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.artifacts.files
//
// Matching is picomatch's (`*`, `?`, `**`, `[abc]`, `{a,b}`), with `dot` so that
// hidden files match `*` like any other: `**/*` in a CodeBuild artifact
// includes dotfiles. The walk stays here: it reports links as links and never
// follows a link to a directory, and only reads the tree below a pattern's
// literal prefix.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import picomatch from 'picomatch';

/** One entry found under a directory. Paths are relative and use `/`. */
export interface FoundFile {
  readonly path: string;
  /** `symlink` is a link to a file; links to directories are reported but never walked into. */
  readonly kind: 'file' | 'symlink' | 'symlink-to-directory';
}

/** Splits a pattern or path into segments, ignoring `./`, empty segments and a trailing `/`. */
export function segments(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/** True when the pattern (or one segment of it) contains a glob character. */
export function hasGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

const matchers = new Map<string, (file: string) => boolean>();

/** Whether a relative path (with `/`) matches a pattern. */
export function matchesGlob(pattern: string, relativePath: string): boolean {
  const normal = segments(pattern).join('/');
  let matcher = matchers.get(normal);
  if (matcher === undefined) {
    matcher = picomatch(normal, { dot: true });
    matchers.set(normal, matcher);
  }
  return matcher(segments(relativePath).join('/'));
}

/**
 * Every file under `root` matching any of `patterns`, sorted. Only the part of
 * the tree below each pattern's literal prefix is walked, so `.npm-cache/**\/*`
 * does not read all of node_modules.
 */
export function findFiles(root: string, patterns: readonly string[]): FoundFile[] {
  const found = new Map<string, FoundFile>();
  for (const pattern of patterns) {
    const normal = segments(pattern).join('/');
    const prefix = hasGlob(normal) ? picomatch.scan(normal).base : normal;
    for (const file of walk(root, prefix)) {
      if (!found.has(file.path) && matchesGlob(pattern, file.path)) found.set(file.path, file);
    }
  }
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Directories directly matching a pattern such as `my-build*` (relative to root). */
export function findDirectories(root: string, pattern: string): string[] {
  const segs = segments(pattern);
  let current: string[] = [''];
  for (const seg of segs) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasGlob(seg)) {
        const candidate = dir === '' ? seg : `${dir}/${seg}`;
        if (isDirectory(path.join(root, candidate))) next.push(candidate);
        continue;
      }
      for (const entry of safeReaddir(path.join(root, dir))) {
        const candidate = dir === '' ? entry : `${dir}/${entry}`;
        if (matchesGlob(seg, entry) && isDirectory(path.join(root, candidate))) next.push(candidate);
      }
    }
    current = next;
  }
  return current.sort();
}

/** Files (and links) below `root/start`; `start` may name a single file. */
function* walk(root: string, start: string): Generator<FoundFile> {
  const abs = path.join(root, start);
  let stat;
  try {
    stat = lstatSync(abs);
  } catch {
    return; // Nothing there: the pattern simply matches nothing.
  }
  if (stat.isSymbolicLink()) {
    yield { path: start, kind: isDirectory(abs) ? 'symlink-to-directory' : 'symlink' };
  } else if (stat.isFile()) {
    yield { path: start, kind: 'file' };
  } else if (stat.isDirectory()) {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      yield* walk(root, start === '' ? entry.name : `${start}/${entry.name}`);
    }
  }
}

/** Whether `p` is a directory (or a link to one); false when it does not exist or cannot be read. */
export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
