// Artifacts, reports and the cache: what CodeBuild uploads, collected locally.
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { CacheStore } from '../cache';
import { BuildspecError } from '../index';
import { build, createRepo, statuses, TEST_TIMEOUT_MS } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

/** Every file under a directory, relative, sorted. */
function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listTree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** A build phase that writes a small tree: dist/{app.js,app.js.map,lib/util.js,.env.example}, notes/readme.txt. */
const WRITE_TREE = `mkdir -p dist/lib notes && echo app > dist/app.js && echo map > dist/app.js.map && echo util > dist/lib/util.js && echo x > dist/.env.example && echo n > notes/readme.txt`;

describe('artifacts', () => {
  it('when base-directory and exclude-paths are set, then files are collected relative to the base, minus the excluded ones', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['${WRITE_TREE}']
artifacts:
  base-directory: dist
  files: ['**/*']
  exclude-paths: ['**/*.map']
`,
    });

    const { result } = await build(repo);

    expect(result.artifactDir).toBe(path.join(repo.workDir, 'artifact'));
    expect(listTree(result.artifactDir ?? '')).toEqual(['.env.example', 'app.js', 'lib/util.js']);
  });

  it('when discard-paths is yes, then every file lands in the artifact root', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['${WRITE_TREE}']
artifacts:
  files: ['dist/**/*.js', notes/readme.txt]
  discard-paths: yes
`,
    });

    const { result } = await build(repo);

    expect(listTree(result.artifactDir ?? '')).toEqual(['app.js', 'readme.txt', 'util.js']);
  });

  it('when base-directory is a pattern, then the matching top-level directories are merged, as in the reference example', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['mkdir -p my-build1 my-build2/my-subdirectory && touch my-build1/my-file1.txt my-build2/my-file2.txt my-build2/my-subdirectory/my-file3.txt']
artifacts:
  files: ['**/*']
  base-directory: 'my-build*'
  discard-paths: yes
`,
    });

    const { result } = await build(repo);

    expect(listTree(result.artifactDir ?? '')).toEqual(['my-file1.txt', 'my-file2.txt', 'my-file3.txt']);
  });

  it('when a file is a link, then the artifact holds its content unless enable-symlinks is yes', async () => {
    const buildspec = (symlinks: string) => `version: 0.2
phases:
  build:
    commands: ['mkdir -p out && echo real > out/target.txt && ln -s target.txt out/link.txt']
artifacts:
  base-directory: out
  files: ['**/*']
  enable-symlinks: ${symlinks}
`;
    const plain = createRepo({ 'buildspec.yml': buildspec('no') });
    const links = createRepo({ 'buildspec.yml': buildspec('yes') });

    const dereferenced = await build(plain);
    const kept = await build(links);

    const plainLink = path.join(dereferenced.result.artifactDir ?? '', 'link.txt');
    expect(lstatSync(plainLink).isSymbolicLink()).toBe(false);
    expect(readFileSync(plainLink, 'utf8')).toBe('real\n');
    expect(lstatSync(path.join(kept.result.artifactDir ?? '', 'link.txt')).isSymbolicLink()).toBe(true);
  });

  it('when no file matches, then upload_artifacts fails the build as CodeBuild does, with a hint for a bare directory name', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['${WRITE_TREE}']
artifacts:
  files: [dist]
`,
    });

    const { result, progress } = await build(repo);

    expect(statuses(result)).toMatchObject({ build: 'SUCCEEDED', upload_artifacts: 'FAILED' });
    expect(result.succeeded).toBe(false);
    expect(result.artifactDir).toBeUndefined();
    expect(progress).toContain('no matching artifact paths found');
    expect(progress).toContain('dist is a directory; files: names files, so write dist/**/* for its contents');
  });
});

describe('reports', () => {
  it('when report groups match files, then they are collected per group and a group without files only warns', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['mkdir -p reports/junit/nested && echo "<testsuites/>" > reports/junit/api.xml && echo "<testsuites/>" > reports/junit/nested/web.xml']
reports:
  junit:
    files: ['**/*.xml']
    base-directory: reports/junit
  coverage:
    files: [coverage/cobertura.xml]
    file-format: COBERTURAXML
`,
    });

    const { result, progress } = await build(repo);

    const groupDir = path.join(repo.workDir, 'reports', 'junit');
    expect(result.reports).toEqual({ junit: [path.join(groupDir, 'api.xml'), path.join(groupDir, 'nested', 'web.xml')] });
    expect(readFileSync(result.reports['junit']?.[0] ?? '', 'utf8')).toBe('<testsuites/>\n');
    expect(progress).toContain('report junit (JUNITXML): 2 files');
    expect(progress).toContain('warning: report group coverage: no report files matched');
    expect(result.succeeded).toBe(true);
  });

  it('when build fails, then the test reports are still collected', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['mkdir -p out && echo "<testsuites/>" > out/r.xml && exit 1']
reports:
  unit:
    files: [out/r.xml]
`,
    });

    const { result } = await build(repo);

    expect(result.succeeded).toBe(false);
    expect(Object.keys(result.reports)).toEqual(['unit']);
  });
});

/** A file of the cache's unkeyed entry (a buildspec whose cache has no key). */
function cachedFile(cacheDir: string, file: string): string {
  const entry = new CacheStore(cacheDir).entries().find((e) => e.key === '');
  return path.join(entry?.dir ?? path.join(cacheDir, 'missing'), 'files', file);
}

describe('cache', () => {
  const CACHED = `version: 0.2
phases:
  install:
    commands:
      - if [ -f .tool-cache/counter ]; then echo restored > restored.txt; echo $(( $(cat .tool-cache/counter) + 1 )) > next; else echo 1 > next; fi
      - mkdir -p .tool-cache/deep && mv next .tool-cache/counter && echo blob > .tool-cache/deep/blob
cache:
  paths: ['.tool-cache/**/*']
`;

  it('when a second build runs, then it starts with the files the first one cached', async () => {
    const repo = createRepo({ 'buildspec.yml': CACHED, '.gitignore': '.tool-cache/\n' });
    const cacheDir = path.join(repo.workDir, '..', 'cache');

    const first = await build(repo);
    const second = await build(repo);

    expect(first.progress).toContain(`cache: nothing to restore from ${cacheDir}`);
    expect(existsSync(cachedFile(cacheDir, '.tool-cache/deep/blob'))).toBe(true);
    expect(second.progress).toContain('cache: restored 2 files');
    expect(readFileSync(path.join(repo.srcDir, 'restored.txt'), 'utf8')).toBe('restored\n');
    expect(readFileSync(cachedFile(cacheDir, '.tool-cache/counter'), 'utf8')).toBe('2\n');
  });

  it('when a cached path is also in the source, then the source file wins', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands: ['cp data/file.txt seen.txt']\ncache:\n  paths: ['data/*']\n`,
      'data/file.txt': 'from source\n',
    });
    const cacheDir = path.join(repo.workDir, '..', 'cache');
    const stale = path.join(repo.workDir, '..', 'stale');
    mkdirSync(path.join(stale, 'data'), { recursive: true });
    writeFileSync(path.join(stale, 'data', 'file.txt'), 'stale cache\n');
    new CacheStore(cacheDir).save(stale, { paths: ['data/*'], key: undefined, fallbackKeys: [], restore: true, save: true }, undefined);

    await build(repo);

    expect(readFileSync(path.join(repo.srcDir, 'seen.txt'), 'utf8')).toBe('from source\n');
    expect(readFileSync(cachedFile(cacheDir, 'data/file.txt'), 'utf8')).toBe('from source\n');
  });

  it('when a cache path is absolute, then the build is refused, explaining the local limitation', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands: ['true']\ncache:\n  paths: ['/root/.npm/**/*', '../outside/*']\n`,
    });

    const rejection = build(repo);

    await expect(rejection).rejects.toBeInstanceOf(BuildspecError);
    await expect(rejection).rejects.toThrow(/cache\.paths\[0\] \(line 6\): \/root\/\.npm\/\*\*\/\* is outside the source directory/);
    await expect(rejection).rejects.toThrow(/cache\.paths\[1\]/);
    await expect(rejection).rejects.toThrow(/npm_config_cache=\$CODEBUILD_SRC_DIR\/\.npm-cache/);
  });
});
