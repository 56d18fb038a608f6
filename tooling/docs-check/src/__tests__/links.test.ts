import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { anchorsOf, checkLinks, findRepoRoot, formatBrokenLink, linksOf, listMarkdownFiles } from '../links';

const made: string[] = [];

/** A throwaway git repository holding `files` (all added to the index), plus a .gitignore if given. */
function repoWith(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'docs-check-links-'));
  made.push(root);
  execFileSync('git', ['-c', 'init.defaultBranch=main', 'init', '-q'], { cwd: root });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  execFileSync('git', ['add', '--all'], { cwd: root });
  return root;
}

/** The broken links of a repository, formatted as the CLI prints them. */
function brokenIn(files: Record<string, string>): string[] {
  return checkLinks({ root: repoWith(files) }).map(formatBrokenLink);
}

afterAll(() => {
  for (const root of made) rmSync(root, { recursive: true, force: true });
});

describe('relative links to files', () => {
  it('when a link points at a file that exists, then nothing is reported', () => {
    // Arrange
    const files = { 'README.md': 'See [the guide](docs/guide.md) and [up](./docs/../README.md).\n', 'docs/guide.md': '# Guide\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual([]);
  });

  it('when a link points at a missing file, then it is reported as file:line: link → reason', () => {
    // Arrange
    const files = { 'docs/a.md': '# A\n\nText.\n\nSee [b](b.md).\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['docs/a.md:5: b.md → no such file or directory: docs/b.md']);
  });

  it('when a link on the third line of a paragraph is broken, then its own line is reported', () => {
    // Arrange
    const files = { 'a.md': 'one\ntwo\nthree [x](missing.md)\n\n| col | col |\n| --- | --- |\n| ok | [y](gone.md) |\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:3: missing.md → no such file or directory: missing.md', 'a.md:7: gone.md → no such file or directory: gone.md']);
  });

  it('when a link starts with /, then it resolves from the repository root as on GitHub', () => {
    // Arrange
    const files = { 'docs/deep/a.md': '[root](/README.md) [none](/nope.md)\n', 'README.md': '# Root\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['docs/deep/a.md:1: /nope.md → no such file or directory: nope.md']);
  });

  it('when a link points at a directory that exists, then nothing is reported', () => {
    // Arrange
    const files = { 'a.md': '[code](src/) and [code too](src)\n', 'src/index.ts': 'export {};\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual([]);
  });

  it('when a link climbs above the repository root, then it is reported', () => {
    // Arrange
    const files = { 'a.md': '[out](../elsewhere.md)\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: ../elsewhere.md → points outside the repository: ../elsewhere.md']);
  });

  it('when a link points at a git-ignored file that exists locally, then it is reported', () => {
    // Arrange
    const root = repoWith({ '.gitignore': 'artifacts/\n', 'a.md': '[bundle](artifacts/bundle.tar.gz)\n' });
    mkdirSync(path.join(root, 'artifacts'));
    writeFileSync(path.join(root, 'artifacts', 'bundle.tar.gz'), 'x');

    // Act
    const broken = checkLinks({ root }).map(formatBrokenLink);

    // Assert
    expect(broken).toEqual(['a.md:1: artifacts/bundle.tar.gz → artifacts/bundle.tar.gz exists here but is git-ignored, so it is not in the repository']);
  });

  it('when a path is percent-encoded, then the decoded file is checked', () => {
    // Arrange
    const files = { 'a.md': '[spaced](my%20notes.md) [also](<my notes.md>)\n', 'my notes.md': '# Notes\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual([]);
  });
});

describe('images, reference links and raw HTML', () => {
  it('when an image points at a missing file, then it is reported', () => {
    // Arrange
    const files = { 'a.md': '![diagram](img/flow.png) ![ok](img/ok.png)\n', 'img/ok.png': 'png' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: img/flow.png → no such file or directory: img/flow.png']);
  });

  it('when a reference link’s definition points at a missing file, then the line using it is reported', () => {
    // Arrange
    const files = { 'a.md': '# A\n\nRead [the guide][guide] and [the good one][good].\n\n[guide]: docs/guide.md\n[good]: a.md#a\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:3: docs/guide.md → no such file or directory: docs/guide.md']);
  });

  it('when a full reference link names an undefined label, then it is reported', () => {
    // Arrange
    const files = { 'a.md': 'Read [the guide][guide].\n\nEscaped \\[not][a link] is fine.\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: [the guide][guide] → reference [guide] is not defined']);
  });

  it('when raw HTML links to a missing file, then it is reported; links inside HTML comments are not', () => {
    // Arrange
    const files = { 'a.md': '<p>\n<img src="missing.svg">\n<!-- <a href="ignored.md">x</a> -->\n</p>\n\nInline <a href="gone.md">x</a>.\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:2: missing.svg → no such file or directory: missing.svg', 'a.md:6: gone.md → no such file or directory: gone.md']);
  });

  it('when links are http(s) or mailto, then they are skipped without any network call', () => {
    // Arrange
    const files = { 'a.md': '[web](https://example.invalid/x.md) [plain](http://example.invalid) [mail](mailto:a@example.invalid)\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual([]);
  });

  it('when links sit in code spans or fenced code, then they are not links', () => {
    // Arrange
    const files = { 'a.md': 'Write `[x](missing.md)` like this:\n\n```md\n[y](missing.md)\n```\n' };

    // Act
    const links = linksOf(files['a.md']);
    const broken = brokenIn(files);

    // Assert
    expect(links).toEqual([]);
    expect(broken).toEqual([]);
  });
});

describe('anchors', () => {
  it('when a link names a heading of another file, then it passes; a missing anchor fails', () => {
    // Arrange
    const files = { 'a.md': '[ok](b.md#deploy-to-aws) [bad](b.md#deploy-to-gcp)\n', 'b.md': '# Title\n\n## Deploy to AWS\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: b.md#deploy-to-gcp → no heading or <a id> for #deploy-to-gcp in b.md']);
  });

  it('when a heading has punctuation like "Blue/green deployments", then #bluegreen-deployments is its anchor', () => {
    // Arrange
    const files = {
      'a.md': '[ok](b.md#bluegreen-deployments) [ok](b.md#1-bootstrap-cdk-once-per-account-and-region) [ok](b.md#the-first-git-push) [bad](b.md#blue-green-deployments)\n',
      'b.md': '## Blue/green deployments\n\n### 1. Bootstrap CDK (once per account and region)\n\n### The first `git push`\n',
    };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: b.md#blue-green-deployments → no heading or <a id> for #blue-green-deployments in b.md']);
  });

  it('when headings repeat, then the second gets -1 and the third -2, as on GitHub', () => {
    // Arrange
    const source = '# Setup\n\n## Setup\n\n### Setup\n';

    // Act
    const anchors = anchorsOf(source);

    // Assert
    expect([...anchors]).toEqual(['setup', 'setup-1', 'setup-2']);
  });

  it('when two files have the same heading, then each file’s slugs start fresh', () => {
    // Arrange
    const files = { 'a.md': '# Setup\n\n[own](#setup) [other](b.md#setup) [none](b.md#setup-1)\n', 'b.md': '# Setup\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:3: b.md#setup-1 → no heading or <a id> for #setup-1 in b.md']);
  });

  it('when a same-file anchor names a missing heading, then it is reported', () => {
    // Arrange
    const files = { 'a.md': '# Guide\n\n## Steps\n\nSee [steps](#steps) and [later](#later).\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:5: #later → no heading or <a id> for #later in a.md']);
  });

  it('when an anchor is written by hand with <a id> or <a name>, then links to it pass', () => {
    // Arrange
    const files = { 'a.md': 'Intro <a id="by-id"></a>\n\n<a name="by-name"></a>\n\n[one](#by-id) [two](#by-name) [three](#by-class)\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:5: #by-class → no heading or <a id> for #by-class in a.md']);
  });

  it('when a link names a directory with an anchor, then the anchor is looked up in its README', () => {
    // Arrange
    const files = { 'a.md': '[ok](infra/#run-it) [bad](infra#nothing)\n', 'infra/README.md': '# Infra\n\n## Run it\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual(['a.md:1: infra#nothing → no heading or <a id> for #nothing in infra/README.md']);
  });

  it('when a link points at lines of a source file, then only line anchors inside the file pass', () => {
    // Arrange
    const files = { 'a.md': '[ok](src/x.ts#L2) [range](src/x.ts#L1-L3) [past](src/x.ts#L9) [name](src/x.ts#main)\n', 'src/x.ts': 'a\nb\nc\n' };

    // Act
    const broken = brokenIn(files);

    // Assert
    expect(broken).toEqual([
      'a.md:1: src/x.ts#L9 → #L9: src/x.ts has 3 lines',
      'a.md:1: src/x.ts#main → #main: only line anchors (#L12, #L12-L20) can be checked in src/x.ts',
    ]);
  });
});

describe('the repository', () => {
  it('when the check runs over every tracked Markdown file, then no link is broken', () => {
    // Arrange
    const root = findRepoRoot();
    const files = listMarkdownFiles(root);

    // Act
    const broken = checkLinks({ root, files }).map(formatBrokenLink);

    // Assert
    expect(files).toEqual(expect.arrayContaining(['README.md', 'infra/README.md']));
    expect(broken).toEqual([]);
  });
});
