import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { naiveBundleSize, workspaceLinks } from '../sections/bundle';
import { addSizes, copySource, sourceFiles, treeSize } from '../support/tree';

let work: string;

beforeEach(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'conveyor-bench-tree-'));
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'ignore' });
}

describe('treeSize', () => {
  it('when a tree holds files, a nested directory and links, then it counts regular files and bytes and counts links apart without following them', () => {
    write(path.join(work, 'tree', 'a.txt'), 'abc');
    write(path.join(work, 'tree', 'sub', 'deeper', 'b.txt'), '12345');
    write(path.join(work, 'big', 'huge.txt'), 'x'.repeat(10_000));
    symlinkSync(path.join(work, 'big'), path.join(work, 'tree', 'link-to-dir'));
    symlinkSync(path.join(work, 'big', 'huge.txt'), path.join(work, 'tree', 'sub', 'link-to-file'));

    const size = treeSize(path.join(work, 'tree'));

    expect(size).toEqual({ files: 2, bytes: 8, symlinks: 2 });
  });

  it('when the root is a single file or missing, then it counts that file or nothing', () => {
    write(path.join(work, 'one.txt'), 'hello');

    expect(treeSize(path.join(work, 'one.txt'))).toEqual({ files: 1, bytes: 5, symlinks: 0 });
    expect(treeSize(path.join(work, 'missing'))).toEqual({ files: 0, bytes: 0, symlinks: 0 });
  });

  it('when sizes are added, then files, bytes and links add up', () => {
    const total = addSizes([
      { files: 1, bytes: 10, symlinks: 0 },
      { files: 2, bytes: 5, symlinks: 3 },
    ]);

    expect(total).toEqual({ files: 3, bytes: 15, symlinks: 3 });
  });
});

describe('copySource', () => {
  function makeRepo(): string {
    const repo = path.join(work, 'repo');
    write(path.join(repo, '.gitignore'), 'node_modules/\ndist/\n');
    write(path.join(repo, 'tracked.txt'), 'tracked');
    write(path.join(repo, 'scripts', 'hook.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(repo, 'scripts', 'hook.sh'), 0o755);
    symlinkSync('tracked.txt', path.join(repo, 'link.txt'));
    write(path.join(repo, 'gone.txt'), 'deleted after the commit');
    git(repo, 'init', '--quiet');
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    write(path.join(repo, 'untracked.txt'), 'new work');
    write(path.join(repo, 'tracked.txt'), 'edited, not committed');
    write(path.join(repo, 'node_modules', 'pkg', 'index.js'), 'ignored');
    write(path.join(repo, 'app', 'dist', 'main.js'), 'ignored');
    rmSync(path.join(repo, 'gone.txt'));
    return repo;
  }

  it('when copying a working tree, then tracked and untracked files come as on disk and ignored ones do not', () => {
    const repo = makeRepo();
    const copy = path.join(work, 'copy');

    const copied = copySource(repo, copy);

    expect(readFileSync(path.join(copy, 'tracked.txt'), 'utf8')).toBe('edited, not committed');
    expect(readFileSync(path.join(copy, 'untracked.txt'), 'utf8')).toBe('new work');
    expect(existsSync(path.join(copy, 'node_modules'))).toBe(false);
    expect(existsSync(path.join(copy, 'app', 'dist'))).toBe(false);
    expect(existsSync(path.join(copy, 'gone.txt'))).toBe(false);
    expect([...copied].sort()).toEqual(['.gitignore', 'link.txt', 'scripts/hook.sh', 'tracked.txt', 'untracked.txt']);
  });

  it('when copying a working tree, then executable modes and symbolic links are kept', () => {
    const repo = makeRepo();
    const copy = path.join(work, 'copy');

    copySource(repo, copy);

    expect(statSync(path.join(copy, 'scripts', 'hook.sh')).mode & 0o111).not.toBe(0);
    expect(lstatSync(path.join(copy, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(copy, 'link.txt'))).toBe('tracked.txt');
  });

  it('when listing the source, then each file appears once and ignored files never', () => {
    const repo = makeRepo();

    const files = sourceFiles(repo);

    expect([...files].sort()).toEqual(['.gitignore', 'gone.txt', 'link.txt', 'scripts/hook.sh', 'tracked.txt', 'untracked.txt']);
  });
});

describe('the naive bundle', () => {
  it('when measuring a repo, then the service, the deployment files and the whole node_modules count, workspace links as links', () => {
    const repo = path.join(work, 'repo');
    write(path.join(repo, 'appspec.yml'), 'version: 0.0\n');
    write(path.join(repo, 'scripts', 'codedeploy', 'start.sh'), 'echo\n');
    write(path.join(repo, 'apps', 'api', 'package.json'), '{}');
    write(path.join(repo, 'apps', 'api', 'ecosystem.config.js'), '//');
    write(path.join(repo, 'apps', 'api', 'dist', 'main.js'), 'main');
    write(path.join(repo, 'apps', 'api', 'src', 'main.ts'), 'not shipped');
    write(path.join(repo, 'node_modules', 'express', 'index.js'), '0123456789');
    write(path.join(repo, 'packages', 'config', 'dist', 'index.js'), 'linked, not counted');
    mkdirSync(path.join(repo, 'node_modules', '@scope'), { recursive: true });
    symlinkSync('../../packages/config', path.join(repo, 'node_modules', '@scope', 'config'));

    const naive = naiveBundleSize(repo);

    expect(naive.total).toEqual({ files: 6, bytes: 13 + 5 + 2 + 2 + 4 + 10, symlinks: 1 });
    expect(naive.parts['node_modules']).toEqual({ files: 1, bytes: 10, symlinks: 1 });
    expect(workspaceLinks(path.join(repo, 'node_modules'))).toEqual(['@scope/config']);
  });
});
