import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { naiveBundleSize, workspaceLinks } from '../sections/bundle';
import { addSizes, treeSize } from '../support/tree';

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
