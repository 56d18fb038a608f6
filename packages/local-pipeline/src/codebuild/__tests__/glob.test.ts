import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { findDirectories, findFiles, matchesGlob } from '../glob';

describe('matchesGlob with the forms the buildspec reference documents, and character classes and braces', () => {
  it.each([
    ['**/*', 'a.txt', true],
    ['**/*', 'deep/er/a.txt', true],
    ['**/*', '.hidden/.npmrc', true],
    ['dir/*', 'dir/a.txt', true],
    ['dir/*', 'dir/sub/a.txt', false],
    ['dir/**/*', 'dir/a.txt', true],
    ['dir/**/*', 'dir/sub/deeper/a.txt', true],
    ['dir/**/*', 'other/a.txt', false],
    ['my-file.jar', 'my-file.jar', true],
    ['my-file.jar', 'sub/my-file.jar', false],
    ['sub/my-file.jar', 'sub/my-file.jar', true],
    ['./sub/my-file.jar', 'sub/my-file.jar', true],
    ['**/*.xml', 'reports/junit/api.xml', true],
    ['**/*.xml', 'api.xml', true],
    ['**/*.xml', 'api.xml.bak', false],
    ['*/my-file3.txt', 'my-subdirectory/my-file3.txt', true],
    ['file?.txt', 'file1.txt', true],
    ['file?.txt', 'file10.txt', false],
    ['a.b', 'axb', false],
    ['report-[ab].xml', 'report-a.xml', true],
    ['report-[ab].xml', 'report-c.xml', false],
    ['{api,web}/*.xml', 'web/junit.xml', true],
    ['{api,web}/*.xml', 'cli/junit.xml', false],
  ])('when the pattern is %s and the path is %s, then it matches: %s', (pattern, file, expected) => {
    expect(matchesGlob(pattern, file)).toBe(expected);
  });
});

describe('findFiles and findDirectories on a real tree', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-glob-'));
    for (const file of ['my-build1/my-file1.txt', 'my-build2/my-file2.txt', 'my-build2/my-subdirectory/my-file3.txt', 'other/x']) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), file);
    }
    symlinkSync('my-file2.txt', path.join(root, 'my-build2', 'link.txt'));
    symlinkSync('../other', path.join(root, 'my-build2', 'linked-dir'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('when a pattern names a subtree, then only files below it are returned, sorted', () => {
    expect(findFiles(root, ['my-build2/**/*']).map((f) => f.path)).toEqual([
      'my-build2/link.txt',
      'my-build2/linked-dir',
      'my-build2/my-file2.txt',
      'my-build2/my-subdirectory/my-file3.txt',
    ]);
  });

  it('when the tree has links, then links to directories are reported but not walked into', () => {
    const kinds = Object.fromEntries(findFiles(root, ['my-build2/*']).map((f) => [f.path, f.kind]));

    expect(kinds).toEqual({
      'my-build2/link.txt': 'symlink',
      'my-build2/linked-dir': 'symlink-to-directory',
      'my-build2/my-file2.txt': 'file',
    });
  });

  it('when a pattern matches nothing, then the result is empty rather than an error', () => {
    expect(findFiles(root, ['missing/**/*', 'nope.txt'])).toEqual([]);
  });

  it('when a base directory is a pattern, then every matching top-level directory is returned', () => {
    expect(findDirectories(root, 'my-build*')).toEqual(['my-build1', 'my-build2']);
    expect(findDirectories(root, 'my-build2/my-subdirectory')).toEqual(['my-build2/my-subdirectory']);
    expect(findDirectories(root, 'other/x')).toEqual([]);
  });
});
