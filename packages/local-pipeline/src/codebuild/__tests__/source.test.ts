// DOWNLOAD_SOURCE, locally: what the copy of the working tree holds.
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { BuildspecError } from '../index';
import { build, commit, createRepo, git, readBuilt, TEST_TIMEOUT_MS, writeFiles } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

const LIST_FILES = `version: 0.2
phases:
  build:
    commands:
      - find . -path ./.git -prune -o -type f -not -name files.txt -print | sed 's|^\\./||' | sort > files.txt
`;

const PRINT_VERSION = `version: 0.2
phases:
  build:
    commands:
      - echo "$CODEBUILD_RESOLVED_SOURCE_VERSION" > version.txt
`;

describe('the copy of the working tree', () => {
  it('when files are uncommitted, then new and modified ones are copied, ignored and deleted ones are not', async () => {
    const repo = createRepo({
      'buildspec.yml': LIST_FILES,
      '.gitignore': 'node_modules/\n*.log\n',
      'src/kept.ts': 'committed\n',
      'src/edited.ts': 'committed\n',
      'src/deleted.ts': 'committed\n',
    });
    writeFiles(repo.root, {
      'src/edited.ts': 'edited, not committed\n',
      'src/new.ts': 'new, not committed\n',
      'node_modules/dep/index.js': 'ignored\n',
      'debug.log': 'ignored\n',
    });
    rmSync(path.join(repo.root, 'src/deleted.ts'));

    const { result, progress } = await build(repo);

    expect(result.succeeded).toBe(true);
    expect(readBuilt(repo, 'files.txt').split('\n').filter(Boolean)).toEqual([
      '.gitignore',
      'buildspec.yml',
      'src/edited.ts',
      'src/kept.ts',
      'src/new.ts',
    ]);
    expect(readBuilt(repo, 'src/edited.ts')).toBe('edited, not committed\n');
    expect(progress).toContain('dirty: true');
    expect(result.resolvedSourceVersion).toBe(`${git(repo.root, ['rev-parse', 'HEAD']).trim()}-dirty`);
  });

  it('when the tree is dirty, then the build sees the commit labelled -dirty, so the bundle and /health say so', async () => {
    const repo = createRepo({ 'buildspec.yml': PRINT_VERSION, 'src/a.ts': 'committed\n' });
    writeFiles(repo.root, { 'src/a.ts': 'edited, not committed\n' });

    const { result } = await build(repo);

    expect(readBuilt(repo, 'version.txt').trim()).toBe(`${git(repo.root, ['rev-parse', 'HEAD']).trim()}-dirty`);
    expect(result.resolvedSourceVersion).toBe(readBuilt(repo, 'version.txt').trim());
  });

  it('when the tree is clean, then progress does not call it dirty and the version is the bare commit', async () => {
    const repo = createRepo({ 'buildspec.yml': PRINT_VERSION });

    const { progress, result } = await build(repo);

    expect(progress).not.toContain('dirty');
    expect(readBuilt(repo, 'version.txt').trim()).toBe(git(repo.root, ['rev-parse', 'HEAD']).trim());
    expect(result.resolvedSourceVersion).toBe(git(repo.root, ['rev-parse', 'HEAD']).trim());
  });

  it('when a script is executable in the repo, then it stays executable in the copy', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands: ['./scripts/hello.sh > hello.txt']\n`,
      'scripts/hello.sh': { content: '#!/usr/bin/env bash\necho hello\n', mode: 0o755 },
    });

    const { result } = await build(repo);

    expect(result.succeeded).toBe(true);
    expect(readBuilt(repo, 'hello.txt')).toBe('hello\n');
    expect(statSync(path.join(repo.srcDir, 'scripts/hello.sh')).mode & 0o111).not.toBe(0);
  });

  it('when the work dir is inside the repo and not ignored, then it is never copied into itself', async () => {
    const repo = createRepo({ 'buildspec.yml': LIST_FILES });
    const inside = { ...repo, workDir: path.join(repo.root, '.rehearsal', 'codebuild'), srcDir: path.join(repo.root, '.rehearsal', 'codebuild', 'src') };

    await build(inside);
    const second = await build(inside);

    expect(second.result.succeeded).toBe(true);
    expect(readBuilt(inside, 'files.txt').split('\n').filter(Boolean)).toEqual(['buildspec.yml']);
  });

  it('when the work dir is inside the checkout, which ignores it, then the copy is a git repository of its own with every copied file committed', async () => {
    const repo = createRepo({
      '.gitignore': '.rehearsal/\n',
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands:
      - git rev-parse --show-toplevel > toplevel.txt
      - git ls-files > tracked.txt
      - git status --porcelain --untracked-files=no > status.txt
      - git show HEAD:src/edited.ts > committed-edit.txt
`,
      'src/edited.ts': 'committed\n',
    });
    writeFiles(repo.root, { 'src/edited.ts': 'edited, not committed\n', 'src/new.ts': 'new\n' });
    const inside = { ...repo, workDir: path.join(repo.root, '.rehearsal', 'codebuild'), srcDir: path.join(repo.root, '.rehearsal', 'codebuild', 'src') };

    const { result } = await build(inside);

    expect(result.succeeded).toBe(true);
    // Tools that ask git (Turborepo hashing its inputs) see the copy, not the checkout around it.
    expect(readBuilt(inside, 'toplevel.txt').trim()).toBe(realpathSync(inside.srcDir));
    expect(readBuilt(inside, 'tracked.txt').split('\n').filter(Boolean)).toEqual(['.gitignore', 'buildspec.yml', 'src/edited.ts', 'src/new.ts']);
    expect(readBuilt(inside, 'status.txt')).toBe('');
    expect(readBuilt(inside, 'committed-edit.txt')).toBe('edited, not committed\n');
  });

  it('when the work dir would contain the source, then the build is refused before anything is deleted', async () => {
    const repo = createRepo({ 'buildspec.yml': LIST_FILES });

    await expect(build({ ...repo, workDir: path.dirname(repo.root) })).rejects.toThrow(/is wiped before each build/);
    expect(existsSync(path.join(repo.root, 'buildspec.yml'))).toBe(true);
  });

  it('when a previous build left files, then the next build starts from an empty work dir', async () => {
    const repo = createRepo({ 'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands: ['touch leftover.txt']\n` });

    await build(repo);
    rmSync(path.join(repo.root, 'buildspec.yml'));
    writeFiles(repo.root, { 'buildspec.yml': LIST_FILES });
    commit(repo.root, 'list files');
    await build(repo);

    expect(existsSync(path.join(repo.srcDir, 'leftover.txt'))).toBe(false);
  });
});

describe('finding the buildspec', () => {
  it('when buildspecPath names another file, then that file drives the build', async () => {
    const repo = createRepo({ 'ci/buildspec-debug.yml': `version: 0.2\nphases:\n  build:\n    commands: ['echo debug > which.txt']\n` });

    const { result } = await build(repo, { buildspecPath: 'ci/buildspec-debug.yml' });

    expect(result.succeeded).toBe(true);
    expect(readBuilt(repo, 'which.txt')).toBe('debug\n');
  });

  it('when the buildspec is git-ignored, then the build is refused naming the file', async () => {
    const repo = createRepo({ '.gitignore': 'buildspec.yml\n', 'README.md': 'x\n' });
    writeFiles(repo.root, { 'buildspec.yml': LIST_FILES });

    const rejection = build(repo);

    await expect(rejection).rejects.toBeInstanceOf(BuildspecError);
    await expect(rejection).rejects.toThrow(/^buildspec\.yml: 1 problem:\n {2}- \(file\): not found in the copied working tree/);
  });

  it('when the repository has no commit yet, then the build is refused with a clear error', async () => {
    const repo = createRepo({ 'buildspec.yml': LIST_FILES });
    rmSync(path.join(repo.root, '.git'), { recursive: true });
    git(repo.root, ['init', '--quiet']);

    await expect(build(repo)).rejects.toThrow(/has no commit to build/);
  });
});
