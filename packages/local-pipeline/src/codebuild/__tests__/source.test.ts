// DOWNLOAD_SOURCE, locally: what the copy of the working tree holds.
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { BuildspecError, copyWorkingTree } from '../index';
import { build, commit, createRepo, git, readBuilt, tempDirOf, TEST_TIMEOUT_MS, writeFiles } from './helpers';

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

describe('copyWorkingTree', () => {
  /** A committed repo, then edited: a file changed, one new, one deleted, ignored files written, an executable and a link. */
  function editedRepo(): string {
    const { root } = createRepo({
      '.gitignore': 'node_modules/\ndist/\n',
      'tracked.txt': 'tracked',
      'scripts/hook.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'gone.txt': 'deleted after the commit',
    });
    symlinkSync('tracked.txt', path.join(root, 'link.txt'));
    git(root, ['add', 'link.txt']);
    commit(root, 'a link');
    writeFiles(root, {
      'untracked.txt': 'new work',
      'tracked.txt': 'edited, not committed',
      'node_modules/pkg/index.js': 'ignored',
      'app/dist/main.js': 'ignored',
    });
    rmSync(path.join(root, 'gone.txt'));
    return root;
  }

  it('when copying a working tree, then tracked and untracked files come as on disk and ignored ones do not', () => {
    const repo = editedRepo();
    const copy = path.join(tempDirOf('copy'), 'copy');

    const copied = copyWorkingTree(repo, copy);

    expect(readFileSync(path.join(copy, 'tracked.txt'), 'utf8')).toBe('edited, not committed');
    expect(readFileSync(path.join(copy, 'untracked.txt'), 'utf8')).toBe('new work');
    expect(existsSync(path.join(copy, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(copy, 'app', 'dist'))).toBe(false);
    expect(existsSync(path.join(copy, 'gone.txt'))).toBe(false);
    expect([...copied.files].sort()).toEqual(['.gitignore', 'link.txt', 'scripts/hook.sh', 'tracked.txt', 'untracked.txt']);
  });

  it('when copying a working tree, then executable modes and symbolic links are kept', () => {
    const repo = editedRepo();
    const copy = path.join(tempDirOf('copy'), 'copy');

    copyWorkingTree(repo, copy);

    expect(statSync(path.join(copy, 'scripts', 'hook.sh')).mode & 0o111).not.toBe(0);
    expect(lstatSync(path.join(copy, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(copy, 'link.txt'))).toBe('tracked.txt');
  });

  it('when listing the source, then each file appears once and ignored files never', () => {
    const repo = editedRepo();

    const { files, deleted } = copyWorkingTree(repo, path.join(tempDirOf('copy'), 'copy'));

    expect([...files, ...deleted].sort()).toEqual(['.gitignore', 'gone.txt', 'link.txt', 'scripts/hook.sh', 'tracked.txt', 'untracked.txt']);
    expect(deleted).toEqual(['gone.txt']);
  });

  it('when only the uncommitted files go onto a clone, then edits and new files are copied, deleted ones removed, and the clone is otherwise untouched', () => {
    const repo = editedRepo();
    const clone = path.join(tempDirOf('clone'), 'clone');
    git(path.dirname(clone), ['clone', '--quiet', repo, clone]);

    const result = copyWorkingTree(repo, clone, { uncommittedOnly: true });

    expect([...result.files].sort()).toEqual(['tracked.txt', 'untracked.txt']);
    expect(result.deleted).toEqual(['gone.txt']);
    expect(readFileSync(path.join(clone, 'tracked.txt'), 'utf8')).toBe('edited, not committed');
    expect(existsSync(path.join(clone, 'gone.txt'))).toBe(false);
    expect(existsSync(path.join(clone, 'node_modules'))).toBe(false);
    expect(git(clone, ['status', '--porcelain']).split('\n').filter(Boolean).sort()).toEqual([' D gone.txt', ' M tracked.txt', '?? untracked.txt']);
  });
});
