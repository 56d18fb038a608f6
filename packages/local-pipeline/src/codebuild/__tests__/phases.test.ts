// Phase order, shell state and CodeBuild's phase transitions, with real bash.
// https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { stopsBuild } from '../index';
import { build, createRepo, readBuilt, statuses, TEST_TIMEOUT_MS } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

/** Each phase appends its name, so the file records what ran, in order. */
const RECORD = (phase: string) => `echo ${phase} >> "$CODEBUILD_SRC_DIR/ran.txt"`;

describe('phases in one shell session', () => {
  it('when phases run, then they run in order and exports and cd carry over from install to post_build', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  install:
    commands:
      - ${RECORD('install')}
      - export FROM_INSTALL="set in install"
      - mkdir -p deep/dir && cd deep/dir
  pre_build:
    commands: ['${RECORD('pre_build')}']
  build:
    commands: ['${RECORD('build')}']
  post_build:
    commands:
      - ${RECORD('post_build')}
      - echo "$FROM_INSTALL" > seen-in-post-build.txt
`,
    });

    const { result } = await build(repo);

    expect(result.succeeded).toBe(true);
    expect(readBuilt(repo, 'ran.txt')).toBe('install\npre_build\nbuild\npost_build\n');
    // Written relative to the directory install cd'd into.
    expect(readBuilt(repo, 'deep/dir/seen-in-post-build.txt')).toBe('set in install\n');
    expect(statuses(result)).toEqual({
      install: 'SUCCEEDED',
      pre_build: 'SUCCEEDED',
      build: 'SUCCEEDED',
      post_build: 'SUCCEEDED',
      upload_artifacts: 'SUCCEEDED',
    });
  });

  it('when a command runs exit, then only that command fails and later phases still see the exported state', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands:
      - export KEPT=yes
      - exit 7
  post_build:
    commands:
      - echo "$KEPT" > kept.txt
`,
    });

    const { result } = await build(repo);

    expect(result.phases.find((p) => p.name === 'build')).toMatchObject({ status: 'FAILED', failedCommand: 'exit 7', exitCode: 7 });
    expect(readBuilt(repo, 'kept.txt')).toBe('yes\n');
  });
});

describe('phase transitions when a phase fails', () => {
  it.each(['install', 'pre_build'])(
    'when %s fails, then the later phases and upload_artifacts are skipped and the build fails',
    async (failing) => {
      const phase = (name: string) =>
        `  ${name}:\n    commands:\n      - ${RECORD(name)}\n${name === failing ? '      - "false"\n' : ''}`;
      const repo = createRepo({
        'buildspec.yml': `version: 0.2\nphases:\n${['install', 'pre_build', 'build', 'post_build'].map(phase).join('')}artifacts:\n  files: [ran.txt]\n`,
      });

      const { result } = await build(repo);

      expect(result.succeeded).toBe(false);
      expect(readBuilt(repo, 'ran.txt').trim().split('\n').at(-1)).toBe(failing);
      expect(result.phases.find((p) => p.name === failing)).toMatchObject({ status: 'FAILED', failedCommand: 'false', exitCode: 1 });
      expect(result.phases.filter((p) => p.status === 'SKIPPED').map((p) => p.name)).toEqual(
        failing === 'install' ? ['pre_build', 'build', 'post_build', 'upload_artifacts'] : ['build', 'post_build', 'upload_artifacts'],
      );
      expect(result.artifactDir).toBeUndefined();
    },
  );

  it('when build fails, then post_build still runs with CODEBUILD_BUILD_SUCCEEDING=0 and the artifact is still collected', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  install:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > succeeding-in-install.txt
  build:
    commands:
      - "false"
  post_build:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > succeeding-in-post-build.txt
artifacts:
  files: ['succeeding-*.txt']
`,
    });

    const { result } = await build(repo);

    expect(readBuilt(repo, 'succeeding-in-install.txt')).toBe('1\n');
    expect(readBuilt(repo, 'succeeding-in-post-build.txt')).toBe('0\n');
    expect(statuses(result)).toMatchObject({ build: 'FAILED', post_build: 'SUCCEEDED', upload_artifacts: 'SUCCEEDED' });
    expect(result.succeeded).toBe(false);
    expect(result.artifactDir).toBeDefined();
  });

  it('when post_build fails, then upload_artifacts is still attempted', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  post_build:
    commands: ['echo built > out.txt', 'exit 1']
artifacts:
  files: [out.txt]
`,
    });

    const { result } = await build(repo);

    expect(statuses(result)).toMatchObject({ post_build: 'FAILED', upload_artifacts: 'SUCCEEDED' });
    expect(existsSync(path.join(result.artifactDir ?? '', 'out.txt'))).toBe(true);
  });

  it('when a command fails, then the rest of commands is skipped and finally still runs, seeing the failure', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands:
      - echo first >> trace.txt
      - "false"
      - echo skipped >> trace.txt
    finally:
      - echo "finally $CODEBUILD_BUILD_SUCCEEDING" >> trace.txt
`,
    });

    const { result } = await build(repo);

    expect(readBuilt(repo, 'trace.txt')).toBe('first\nfinally 0\n');
    expect(result.phases.find((p) => p.name === 'build')).toMatchObject({ status: 'FAILED', failedCommand: 'false' });
  });

  it('when only a finally command fails, then the phase fails and names that command', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['true']
    finally: ['exit 4', 'echo not reached > f.txt']
`,
    });

    const { result } = await build(repo);

    expect(result.phases.find((p) => p.name === 'build')).toMatchObject({ status: 'FAILED', failedCommand: 'exit 4', exitCode: 4 });
    expect(existsSync(path.join(repo.srcDir, 'f.txt'))).toBe(false);
  });

  it('when the shell of a command is killed by a signal, then the command fails with 128 plus the signal number, as bash reports it', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands: ['kill -KILL $$']
`,
    });

    const { result } = await build(repo);

    expect(result.phases.find((p) => p.name === 'build')).toMatchObject({ status: 'FAILED', exitCode: 137 });
  });

  it('when pre_build fails with on-failure CONTINUE, then build and post_build run and the build still fails', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands: ['false']
  build:
    commands: ['${RECORD('build')}']
  post_build:
    commands: ['${RECORD('post_build')}']
`,
    });

    const { result } = await build(repo);

    expect(readBuilt(repo, 'ran.txt')).toBe('build\npost_build\n');
    expect(result.succeeded).toBe(false);
  });

  it('when build fails with on-failure ABORT, then post_build and upload_artifacts are skipped', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    on-failure: ABORT
    commands: ['false']
  post_build:
    commands: ['${RECORD('post_build')}']
`,
    });

    const { result } = await build(repo);

    expect(statuses(result)).toMatchObject({ build: 'FAILED', post_build: 'SKIPPED', upload_artifacts: 'SKIPPED' });
    expect(existsSync(path.join(repo.srcDir, 'ran.txt'))).toBe(false);
  });

  it.each([
    ['install', undefined, true],
    ['pre_build', undefined, true],
    ['build', undefined, false],
    ['post_build', undefined, false],
    ['install', 'CONTINUE', false],
    ['build', 'ABORT', true],
  ] as const)('when %s fails with on-failure %s, then the build stops: %s', (phase, onFailure, expected) => {
    expect(stopsBuild(phase, onFailure)).toBe(expected);
  });
});

describe('progress output', () => {
  it('when a command fails, then progress names it with its exit code and shows the last 30 lines of its output', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2
phases:
  build:
    commands:
      - for i in $(seq 1 40); do echo "line $i"; done; echo "oops" >&2; exit 2
`,
    });

    const { result, lines } = await build(repo);

    const failedAt = lines.findIndex((l) => l.includes('command failed with exit code 2: for i in'));
    expect(failedAt).toBeGreaterThan(-1);
    const tail = lines.slice(failedAt + 1, failedAt + 31);
    expect(tail[0]).toBe('[build]   | line 12');
    expect(tail.at(-1)).toBe('[build]   | oops');
    expect(lines).toContainEqual(expect.stringMatching(/^\[build\] build \.\.\. FAILED \(\d+\.\d s\)$/));
    // The full output is in the log file.
    expect(readFileSync(result.logFile, 'utf8')).toContain('line 1\n');
  });

  it('when verbose, then command output is echoed to progress as it runs', async () => {
    const repo = createRepo({ 'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands: ['echo hello from the build']\n` });

    const { lines } = await build(repo, { verbose: true });

    expect(lines).toContain('[build]   | hello from the build');
  });

  it('when install asks for another Node.js major, then a warning is printed and the build goes on', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2\nphases:\n  install:\n    runtime-versions:\n      nodejs: 22.x\n    commands: ['true']\n`,
    });

    const { result, progress } = await build(repo, { nodeVersion: '20.19.0' });

    expect(result.succeeded).toBe(true);
    expect(progress).toMatch(/warning: runtime-versions nodejs: 22\.x asks for Node\.js 22, this machine runs 20\.19\.0/);
  });
});
