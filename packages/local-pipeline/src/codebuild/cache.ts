// CodeBuild's S3 cache with `cache: key:`, emulated by a directory of entries
// that outlives the builds.
//
// What the reference says, and what is emulated here:
// - `key` is matched exactly; "CodeBuild stores the cache under the context of
//   this cache key, and create[s] a unique cache copy that will not be updated
//   once created": a save under a key that already has an entry writes nothing.
// - `fallback-keys`: "used sequentially when a cache cannot be found using the
//   primary key. Up to five fallback keys are supported, and each is matched
//   using a prefix search"; ignored without a key. Which of several entries a
//   prefix matches is not documented: the newest one is taken here.
// - "The cache version is a hash generated from the paths of the directories
//   being cached": entries saved with other `paths` never match.
// - A key may hold `$(codebuild-hash-files <glob>...)` (a SHA-256 over the
//   matched files of the source directory) and environment variables.
//   https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html
// Without a key there is one entry, restored and replaced by every build, as
// before keys existed. Keys are evaluated once, before the install phase,
// and the same key is used for the save.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';

import type { CacheSpec } from './buildspec';
import { findFiles } from './glob';
import { restoreCache, saveCache } from './outputs';

/** Keyed entries kept locally; older ones are deleted after a save (an S3 lifecycle rule does this on AWS). */
export const KEPT_ENTRIES = 4;
const ENTRIES_DIR = 'entries';
const META_FILE = 'entry.json';
const FILES_DIR = 'files';

interface EntryMeta {
  readonly key: string;
  readonly version: string;
  readonly savedAt: number;
  /** Files saved in the entry. */
  readonly files: number;
}

interface Entry extends EntryMeta {
  readonly dir: string;
}

/** How a restore found its entry. */
export type CacheMatch =
  | { readonly kind: 'exact'; readonly key: string }
  | { readonly kind: 'fallback'; readonly fallbackKey: string; readonly key: string }
  | { readonly kind: 'none' };

/** Raised for a key the rehearsal cannot evaluate; the message names the key. */
export class CacheKeyError extends Error {}

/**
 * Evaluates a `cache.key` or fallback key: `$(codebuild-hash-files <glob>...)`
 * becomes the SHA-256 of the matched files, `$NAME` and `${NAME}` the
 * variable's value (empty when unset, as in bash). Any other command
 * substitution is refused, so a key never runs arbitrary commands locally.
 */
export function evaluateCacheKey(expression: string, srcDir: string, env: Readonly<Record<string, string>>): string {
  const withHashes = expression.replace(/\$\(\s*codebuild-hash-files((?:\s+[^\s)]+)+)\s*\)/g, (_m, args: string) =>
    hashFiles(srcDir, args.trim().split(/\s+/).map(unquote)),
  );
  if (withHashes.includes('$(') || withHashes.includes('`')) {
    throw new CacheKeyError(
      `${expression} runs a command; locally a cache key may only use $(codebuild-hash-files <glob>...) and variables`,
    );
  }
  return withHashes.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced?: string, bare?: string) => env[braced ?? bare ?? ''] ?? '');
}

/**
 * `codebuild-hash-files`: one SHA-256 over the files the globs match in the
 * source directory, in path order, each file's path and content included (a
 * renamed file changes the hash). CodeBuild does not publish its exact
 * algorithm; only stability and sensitivity matter for a key.
 */
export function hashFiles(srcDir: string, patterns: readonly string[]): string {
  const hash = createHash('sha256');
  const files = findFiles(srcDir, patterns)
    .filter((f) => f.kind === 'file')
    .map((f) => f.path)
    .sort();
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(createHash('sha256').update(readFileSync(path.join(srcDir, file))).digest('hex'));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** The cache version: entries saved with different paths are different caches. */
export function cacheVersion(spec: Pick<CacheSpec, 'paths'>): string {
  return createHash('sha256').update(JSON.stringify(spec.paths)).digest('hex').slice(0, 16);
}

/** The entries of the local cache store and the rules for picking and writing them. */
export class CacheStore {
  constructor(readonly dir: string) {}

  /**
   * The entry a restore uses: the exact key, else the newest entry each
   * fallback key prefixes, in order. `key` undefined is the unkeyed cache.
   */
  find(version: string, key: string | undefined, fallbackKeys: readonly string[]): { entry: Entry | undefined; match: CacheMatch } {
    const entries = this.entries().filter((e) => e.version === version);
    const exact = entries.find((e) => e.key === (key ?? ''));
    if (exact !== undefined) return { entry: exact, match: { kind: 'exact', key: exact.key } };
    if (key === undefined) return { entry: undefined, match: { kind: 'none' } };
    for (const fallbackKey of fallbackKeys) {
      const newest = entries.filter((e) => e.key.startsWith(fallbackKey)).sort((a, b) => b.savedAt - a.savedAt)[0];
      if (newest !== undefined) return { entry: newest, match: { kind: 'fallback', fallbackKey, key: newest.key } };
    }
    return { entry: undefined, match: { kind: 'none' } };
  }

  /**
   * Puts an entry's files into the source copy (source files win). `move`
   * takes them out of the store and deletes the entry: the caller uses it
   * only for an entry the build is about to supersede, where copying 500 MB
   * of node_modules would cost more than the install it saves.
   */
  restore(entry: Entry, srcDir: string, options: { readonly move: boolean }): number {
    const files = path.join(entry.dir, FILES_DIR);
    if (!options.move) return restoreCache(files, srcDir);
    const skipped = existsSync(files) ? moveTree(files, srcDir) : 0;
    rmSync(entry.dir, { recursive: true, force: true });
    return Math.max(0, entry.files - skipped);
  }

  /**
   * Saves what `spec.paths` matches under `key`, unless a keyed entry for it
   * exists (written once, never updated); the unkeyed entry is replaced.
   * Returns the number of files saved, or undefined when the key already had an entry.
   */
  save(srcDir: string, spec: CacheSpec, key: string | undefined, now: number = Date.now()): number | undefined {
    const version = cacheVersion(spec);
    const existing = this.entries().find((e) => e.version === version && e.key === (key ?? ''));
    if (existing !== undefined && key !== undefined) return undefined;
    const dir = path.join(this.dir, ENTRIES_DIR, entryName(version, key ?? ''));
    const saved = saveCache(srcDir, spec, path.join(dir, FILES_DIR));
    const meta: EntryMeta = { key: key ?? '', version, savedAt: now, files: saved };
    writeFileSync(path.join(dir, META_FILE), `${JSON.stringify(meta)}\n`);
    this.evict();
    this.removeOldLayout();
    return saved;
  }

  /** Every readable entry; a half-written one (no metadata) is not an entry. */
  entries(): Entry[] {
    const root = path.join(this.dir, ENTRIES_DIR);
    if (!existsSync(root)) return [];
    const out: Entry[] = [];
    for (const name of readdirSync(root)) {
      const meta = readMeta(path.join(root, name, META_FILE));
      if (meta !== undefined) out.push({ ...meta, dir: path.join(root, name) });
    }
    return out;
  }

  /** Before keys, the cache's files sat at the top of the store: nothing reads them any more. */
  private removeOldLayout(): void {
    for (const name of readdirSync(this.dir)) {
      if (name !== ENTRIES_DIR) rmSync(path.join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** Keeps the newest KEPT_ENTRIES keyed entries. */
  private evict(): void {
    const keyed = this.entries()
      .filter((e) => e.key !== '')
      .sort((a, b) => b.savedAt - a.savedAt);
    for (const old of keyed.slice(KEPT_ENTRIES)) rmSync(old.dir, { recursive: true, force: true });
  }
}

function readMeta(file: string): EntryMeta | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<EntryMeta>;
    if (typeof value.key === 'string' && typeof value.version === 'string' && typeof value.savedAt === 'number') {
      return { key: value.key, version: value.version, savedAt: value.savedAt, files: typeof value.files === 'number' ? value.files : 0 };
    }
  } catch {
    // Missing or half written: not an entry.
  }
  return undefined;
}

/** A directory name for an entry: keys may hold any character. */
function entryName(version: string, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  return `${readable === '' ? 'unkeyed' : readable}-${createHash('sha256').update(`${version}\0${key}`).digest('hex').slice(0, 12)}`;
}

/**
 * Moves a tree into another, whole directories at once where the target has
 * none, entry by entry where both have one; what the target already has stays
 * (the source wins). Returns how many files were left behind for that reason.
 */
function moveTree(from: string, to: string): number {
  let skipped = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    const existing = lstatOrUndefined(target);
    if (existing === undefined) {
      mkdirSync(to, { recursive: true });
      renameSync(source, target);
    } else if (entry.isDirectory() && existing.isDirectory()) {
      skipped += moveTree(source, target);
    } else {
      skipped += entry.isDirectory() ? findFiles(source, ['**']).length : 1;
    }
  }
  return skipped;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function unquote(arg: string): string {
  return arg.replace(/^(['"])(.*)\1$/, '$2');
}

