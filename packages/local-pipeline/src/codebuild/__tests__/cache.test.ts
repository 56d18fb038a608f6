// `cache: key:` as CodeBuild's S3 cache applies it: an exact key, fallback
// keys matched by prefix, entries written once, keys computed from the
// source with codebuild-hash-files, entries of other paths kept apart.
// https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import fc from 'fast-check';

import { CacheStore, evaluateCacheKey, hashFiles, KEPT_ENTRIES } from '../cache';
import { BuildspecError, parseBuildspec } from '../index';
import { build, commit, createRepo, readBuilt, tempDirOf, TEST_TIMEOUT_MS, writeFiles } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

/**
 * A stand-in for node_modules keyed on a stand-in lockfile: install reuses
 * deps/ when it was made from this lock.txt, else makes it anew; every build
 * appends its number to deps/builds, so the entry a build restored can be told.
 */
const keyed = (key: string, fallbackKeys: readonly string[] = [], paths = "['deps/**/*']") => `version: 0.2
phases:
  install:
    commands:
      - if [ -f deps/installed-from ] && [ "$(cat deps/installed-from)" = "$(cat lock.txt)" ]; then echo reused > install.txt; else rm -rf deps; mkdir deps; cat lock.txt > deps/installed-from; echo fresh > install.txt; fi
      - echo "$CODEBUILD_BUILD_NUMBER" >> deps/builds && cp deps/builds builds.txt
cache:
  key: ${key}
${fallbackKeys.length === 0 ? '' : `  fallback-keys:\n${fallbackKeys.map((k) => `    - ${k}`).join('\n')}\n`}  paths: ${paths}
`;

const PER_BUILD = keyed('deps-$(codebuild-hash-files lock.txt)-$CODEBUILD_BUILD_NUMBER', ['deps-$(codebuild-hash-files lock.txt)-', 'deps-']);

function lockHash(repo: { srcDir: string }): string {
  return hashFiles(repo.srcDir, ['lock.txt']);
}

describe('a keyed cache across builds', () => {
  it('when nothing was saved yet, then the key and every fallback miss, install starts fresh, and the build saves under its key', async () => {
    const repo = createRepo({ 'buildspec.yml': PER_BUILD, 'lock.txt': 'v1\n', '.gitignore': 'deps/\n' });

    const first = await build(repo);

    const key = `deps-${lockHash(repo)}-1`;
    expect(first.progress).toContain(`[build] cache: key ${key} not found, nor any fallback key`);
    expect(readBuilt(repo, 'install.txt')).toBe('fresh\n');
    expect(new CacheStore(path.join(repo.workDir, '..', 'cache')).entries().map((e) => e.key)).toEqual([key]);
  });

  it('when the lockfile is unchanged, then the newest entry of the same lockfile is restored through the first fallback key, and install reuses it', async () => {
    const repo = createRepo({ 'buildspec.yml': PER_BUILD, 'lock.txt': 'v1\n', '.gitignore': 'deps/\n' });
    await build(repo);
    await build(repo);

    const third = await build(repo);

    const hash = lockHash(repo);
    expect(third.progress).toContain(`[build] cache: key deps-${hash}-3 not found; fallback key deps-${hash}- matched deps-${hash}-2`);
    expect(readBuilt(repo, 'install.txt')).toBe('reused\n');
    // Build 2's entry (restored from 1, plus 2), not build 1's: the newest match wins.
    expect(readBuilt(repo, 'builds.txt')).toBe('1\n2\n3\n');
  });

  it('when the lockfile changed, then the first fallback finds nothing, the second restores the newest entry of any lockfile, and install starts fresh from it', async () => {
    const repo = createRepo({ 'buildspec.yml': PER_BUILD, 'lock.txt': 'v1\n', '.gitignore': 'deps/\n' });
    await build(repo);
    const oldHash = lockHash(repo);
    writeFiles(repo.root, { 'lock.txt': 'v2\n' });
    commit(repo.root, 'bump');

    const second = await build(repo);

    const newHash = lockHash(repo);
    expect(newHash).not.toBe(oldHash);
    expect(second.progress).toContain(`[build] cache: key deps-${newHash}-2 not found; fallback key deps- matched deps-${oldHash}-1`);
    expect(second.progress).toContain('[build] cache: restored 2 files');
    expect(readBuilt(repo, 'install.txt')).toBe('fresh\n');
    // The entry restored through a fallback was moved in, and this build's own entry replaces it.
    expect(new CacheStore(path.join(repo.workDir, '..', 'cache')).entries().map((e) => e.key)).toEqual([`deps-${newHash}-2`]);
  });

  it('when the exact key has an entry, then it is restored and never overwritten by the build that used it', async () => {
    const repo = createRepo({ 'buildspec.yml': keyed('deps-$(codebuild-hash-files lock.txt)'), 'lock.txt': 'v1\n', '.gitignore': 'deps/\n' });
    await build(repo);

    const second = await build(repo);
    const third = await build(repo);

    const key = `deps-${lockHash(repo)}`;
    expect(second.progress).toContain(`[build] cache: key ${key} found`);
    expect(second.progress).toContain(`cache: key ${key} has an entry already, and a keyed entry is never updated: nothing saved`);
    expect(readBuilt(repo, 'install.txt')).toBe('reused\n');
    // Build 3 restored what build 1 saved: build 2's append was never saved.
    expect(third.progress).toContain(`[build] cache: key ${key} found`);
    expect(readBuilt(repo, 'builds.txt')).toBe('1\n3\n');
  });

  it('when an entry was saved with other paths, then it is another cache version and is not restored, even under the same key', async () => {
    const repo = createRepo({ 'buildspec.yml': keyed('deps-fixed'), 'lock.txt': 'v1\n', '.gitignore': 'deps/\n' });
    await build(repo);
    writeFiles(repo.root, { 'buildspec.yml': keyed('deps-fixed', [], "['deps/**/*', 'more/**/*']") });

    const second = await build(repo);

    expect(second.progress).toContain('[build] cache: key deps-fixed not found');
    expect(readBuilt(repo, 'install.txt')).toBe('fresh\n');
  });

  it('when the key runs a command other than codebuild-hash-files, then the build is refused before any command, naming cache.key', async () => {
    const repo = createRepo({ 'buildspec.yml': keyed('deps-$(cat lock.txt)') , 'lock.txt': 'v1\n' });

    const rejection = build(repo);

    await expect(rejection).rejects.toBeInstanceOf(BuildspecError);
    await expect(rejection).rejects.toThrow(/cache\.key: deps-\$\(cat lock\.txt\) runs a command/);
  });
});

describe('evaluateCacheKey and hashFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDirOf('cache-key');
    mkdirSync(path.join(dir, 'a'), { recursive: true });
    writeFileSync(path.join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
    writeFileSync(path.join(dir, 'a', 'x.md'), 'x\n');
  });

  it('when a key holds hashes and variables, then each is replaced, unset variables by nothing', () => {
    const key = evaluateCacheKey('npm-$(codebuild-hash-files package-lock.json)-${BUILD}-$NOPE-$BUILD', dir, { BUILD: '7' });

    expect(key).toBe(`npm-${hashFiles(dir, ['package-lock.json'])}-7--7`);
    expect(key).toMatch(/^npm-[0-9a-f]{64}-7--7$/);
  });

  it('when the hashed files change in content, name or number, then the hash changes; when they do not, it is stable', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (one, two) => {
        writeFileSync(path.join(dir, 'package-lock.json'), one);
        const first = hashFiles(dir, ['package-lock.json', '**/*.md']);
        expect(hashFiles(dir, ['package-lock.json', '**/*.md'])).toBe(first);
        writeFileSync(path.join(dir, 'package-lock.json'), two);
        expect(hashFiles(dir, ['package-lock.json', '**/*.md']) === first).toBe(one === two);
      }),
      { numRuns: 50 },
    );
    const before = hashFiles(dir, ['**/*.md']);
    renameSync(path.join(dir, 'a', 'x.md'), path.join(dir, 'a', 'y.md'));
    expect(hashFiles(dir, ['**/*.md'])).not.toBe(before);
    writeFileSync(path.join(dir, 'a', 'z.md'), '');
    expect(hashFiles(dir, ['**/*.md'])).not.toBe(hashFiles(dir, ['a/y.md']));
  });

  it('when quoted globs are given, as the reference writes them, then they hash like unquoted ones', () => {
    expect(evaluateCacheKey("k-$(codebuild-hash-files '**/*.md')", dir, {})).toBe(`k-${hashFiles(dir, ['**/*.md'])}`);
  });
});

describe('the store', () => {
  it(`when more than ${KEPT_ENTRIES} keyed entries are saved, then the newest ${KEPT_ENTRIES} are kept and fallbacks still find the newest`, () => {
    const root = tempDirOf('store');
    const src = path.join(root, 'src');
    const store = new CacheStore(path.join(root, 'cache'));
    const spec = { paths: ['deps/**/*'], key: 'k', fallbackKeys: [], restore: true, save: true };
    for (let i = 1; i <= KEPT_ENTRIES + 2; i++) {
      writeFiles(src, { 'deps/n': `${i}\n` });
      store.save(src, spec, `k-${i}`, i);
    }

    expect(store.entries().map((e) => e.key).sort()).toEqual(
      Array.from({ length: KEPT_ENTRIES }, (_, i) => `k-${i + 3}`).sort(),
    );
    const { entry } = store.find(store.entries()[0]?.version ?? '', 'k-x', ['k-']);
    expect(readFileSync(path.join(entry?.dir ?? '', 'files', 'deps', 'n'), 'utf8')).toBe(`${KEPT_ENTRIES + 2}\n`);
  });
});

describe('restoring by moving', () => {
  it('when an entry is moved into a source that has some of its files, then the source files stay, the rest arrive whole, and the entry is gone', () => {
    const root = tempDirOf('move');
    const store = new CacheStore(path.join(root, 'cache'));
    const saved = path.join(root, 'saved');
    writeFiles(saved, { 'deps/a/index.js': 'cached a', 'deps/b/index.js': 'cached b', 'deps/c': 'cached c' });
    store.save(saved, { paths: ['deps/**/*'], key: 'k-1', fallbackKeys: [], restore: true, save: true }, 'k-1');
    const src = path.join(root, 'src');
    writeFiles(src, { 'deps/a/index.js': 'source a', 'deps/c': 'source c' });

    const [entry] = store.entries();
    const restored = entry === undefined ? -1 : store.restore(entry, src, { move: true });

    expect(restored).toBe(1);
    expect(readFileSync(path.join(src, 'deps/a/index.js'), 'utf8')).toBe('source a');
    expect(readFileSync(path.join(src, 'deps/b/index.js'), 'utf8')).toBe('cached b');
    expect(readFileSync(path.join(src, 'deps/c'), 'utf8')).toBe('source c');
    expect(store.entries()).toEqual([]);
  });
});

describe('cache keys in the buildspec', () => {
  const spec = (cache: string) => `version: 0.2\nphases:\n  build:\n    commands: ['true']\ncache:\n${cache}`;

  it('when there are more than five fallback keys, then the buildspec is refused naming cache.fallback-keys', () => {
    const keys = Array.from({ length: 6 }, (_, i) => `    - k${i}`).join('\n');

    expect(() => parseBuildspec(spec(`  key: k\n  fallback-keys:\n${keys}\n  paths: ['x/*']\n`))).toThrow(/cache\.fallback-keys.*up to 5/);
  });

  it('when fallback keys are given without a key, then they are dropped with a note, as CodeBuild ignores them', () => {
    const parsed = parseBuildspec(spec(`  fallback-keys: [k-]\n  paths: ['x/*']\n`));

    expect(parsed.cache?.fallbackKeys).toEqual([]);
    expect(parsed.notEmulated.map((n) => n.key)).toContain('cache.fallback-keys');
  });
});
