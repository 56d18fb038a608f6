import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { git as gitIn } from '@conveyor/tooling-support';

import { resolveCommit } from '../commit';

let repo: string;
let head: string;

/** git in the test's repository, committing as `test`; stdout trimmed. */
const git = (...args: string[]): string => gitIn(repo, args, { author: 'test' }).trim();

beforeEach(() => {
  repo = mkdtempSync(path.join(os.tmpdir(), 'bundle-commit-'));
  git('init', '-q');
  writeFileSync(path.join(repo, 'a.txt'), 'committed\n');
  git('add', 'a.txt');
  git('commit', '-q', '-m', 'first');
  head = git('rev-parse', 'HEAD');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('resolveCommit', () => {
  it('when the tree is clean and no pipeline variable is set, then it is HEAD', () => {
    // Act
    const commit = resolveCommit(repo, {});

    // Assert
    expect(commit).toBe(head);
  });

  it.each([
    ['a tracked file is edited', 'a.txt'],
    ['an untracked file is added', 'b.txt'],
  ])('when %s, then it is HEAD labelled -dirty', (_case, file) => {
    // Arrange
    writeFileSync(path.join(repo, file), 'not committed\n');

    // Act
    const commit = resolveCommit(repo, {});

    // Assert
    expect(commit).toBe(`${head}-dirty`);
  });

  it("when the pipeline passes its commit, then it wins over CodeBuild's and over git", () => {
    // Arrange
    writeFileSync(path.join(repo, 'a.txt'), 'not committed\n');

    // Act
    const commit = resolveCommit(repo, { SOURCE_COMMIT_ID: 'abc123', CODEBUILD_RESOLVED_SOURCE_VERSION: 'def456-dirty' });

    // Assert
    expect(commit).toBe('abc123');
  });

  it("when only CodeBuild's version is set (the rehearsal), then it is used as given, -dirty included", () => {
    // Act
    const commit = resolveCommit(repo, { CODEBUILD_RESOLVED_SOURCE_VERSION: `${head}-dirty` });

    // Assert
    expect(commit).toBe(`${head}-dirty`);
  });
});
