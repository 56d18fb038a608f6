import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parseBuildspec } from '@conveyor/local-pipeline';

import { childEnv } from '../support/child-env';
import { junitDirTotals, junitTotals } from '../support/junit';
import { npmCiArgs } from '../support/repo-copy';
import { minuteLongReps } from '../support/reps';
import { StepError } from '../support/run-step';
import { explainTurboFailure, parseTurboSummary, slowestTasks, summaryPath } from '../support/turbo';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

function buildspecWith(install: string): ReturnType<typeof parseBuildspec> {
  return parseBuildspec(`version: 0.2\nphases:\n  install:\n    commands:\n      - node --version\n      - ${install}\n`);
}

describe('npmCiArgs', () => {
  it("when the repo's buildspec.yml is read, then npm ci keeps its flags and its one --cache points at the bench's dir", () => {
    const buildspec = parseBuildspec(readFileSync(path.join(REPO_ROOT, 'buildspec.yml'), 'utf8'));

    const args = npmCiArgs(buildspec, '/tmp/npm-cache-1');

    expect(args[0]).toBe('ci');
    expect(args).toEqual(expect.arrayContaining(['--prefer-offline', '--no-audit', '--no-fund']));
    expect(args.filter((arg) => arg === '--cache' || arg.startsWith('--cache='))).toEqual(['--cache']);
    expect(args[args.indexOf('--cache') + 1]).toBe('/tmp/npm-cache-1');
  });

  it('when the buildspec writes --cache=<dir> and no audit flags, then the dir is replaced and the flags added', () => {
    const args = npmCiArgs(buildspecWith('npm ci --cache=.npm --prefer-offline'), '/c');

    expect(args).toEqual(['ci', '--prefer-offline', '--cache', '/c', '--no-audit', '--no-fund']);
  });

  it('when npm ci is a line of a block, then that line is read', () => {
    const args = npmCiArgs(buildspecWith('|\n        if [[ -d node_modules ]]; then\n          echo kept\n        else\n          npm ci --cache .npm --no-audit\n        fi'), '/c');

    expect(args).toEqual(['ci', '--no-audit', '--cache', '/c', '--no-fund']);
  });

  it('when the buildspec runs no npm ci, then it refuses, saying so', () => {
    expect(() => npmCiArgs(buildspecWith('npm install'), '/c')).toThrow(/runs no `npm ci` command/);
  });

  it('when the npm ci command uses shell syntax, then it refuses rather than guess', () => {
    expect(() => npmCiArgs(buildspecWith('npm ci --cache "$HOME/x"'), '/c')).toThrow(/uses shell syntax/);
  });
});

describe('childEnv', () => {
  it("when the parent has npm run's local prefix and unlisted variables, then the child gets neither, but PATH, HOME and npm configuration", () => {
    const parent = { PATH: '/bin', HOME: '/root', npm_config_registry: 'https://r', npm_config_local_prefix: '/work/main', AWS_SECRET_ACCESS_KEY: 's', NODE_OPTIONS: '--inspect' };

    const env = childEnv(parent);

    expect(env).toEqual({ PATH: '/bin', HOME: '/root', npm_config_registry: 'https://r' });
  });

  it("when extra variables are given, then they win over the parent's", () => {
    const env = childEnv({ PATH: '/bin', TMPDIR: '/tmp' }, { TMPDIR: '/scratch', CI: 'true' });

    expect(env).toEqual({ PATH: '/bin', TMPDIR: '/scratch', CI: 'true' });
  });
});

describe('Turborepo run summaries', () => {
  const task = (taskId: string, status: string, ms?: number) => ({
    taskId,
    cache: { status },
    ...(ms === undefined ? {} : { execution: { startTime: 1_000, endTime: 1_000 + ms, exitCode: 0 } }),
  });

  it('when every task hit the cache, then the run is fully cached', () => {
    const run = parseTurboSummary(JSON.stringify({ tasks: [task('a#build', 'HIT', 5), task('a#test', 'HIT', 7)] }));

    expect(run).toMatchObject({ hits: 2, fullyCached: true, misses: [] });
  });

  it('when one task ran, then the run is not fully cached and names it', () => {
    const run = parseTurboSummary(JSON.stringify({ tasks: [task('a#build', 'HIT', 5), task('b#test', 'MISS', 9_000)] }));

    expect(run).toMatchObject({ hits: 1, fullyCached: false, misses: ['b#test'] });
    expect(run.tasks[1]).toEqual({ id: 'b#test', cache: 'MISS', ms: 9_000, exitCode: 0 });
  });

  it('when the file has no task list, then it is refused', () => {
    expect(() => parseTurboSummary('{"execution":{}}')).toThrow(/no "tasks" list/);
  });

  it('when listing the slowest tasks, then only executed ones count, slowest first', () => {
    const run = parseTurboSummary(JSON.stringify({ tasks: [task('a', 'MISS', 1_000), task('b', 'HIT', 90_000), task('c', 'MISS', 3_500), task('d', 'MISS')] }));

    expect(slowestTasks(run, 2)).toEqual(['c 3.5 s', 'a 1.0 s']);
  });

  it("when turbo's output names its summary, then the path is found and resolved against the run's directory", () => {
    const output = ' Tasks:    24 successful, 24 total\nCached:    24 cached, 24 total\n  Time:    1.2s >>> FULL TURBO\nSummary:    .turbo/runs/3MR.json\n';

    expect(summaryPath(output, '/copy')).toBe('/copy/.turbo/runs/3MR.json');
    expect(summaryPath('no summary here', '/copy')).toBeUndefined();
  });
});

describe('a failed turbo run', () => {
  it("when a task failed, then the error names it and quotes the end of its own log without npm's lines", () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'conveyor-bench-turbo-'));
    mkdirSync(path.join(cwd, '.turbo', 'runs'), { recursive: true });
    mkdirSync(path.join(cwd, 'packages', 'docs', '.turbo'), { recursive: true });
    const summary = {
      tasks: [
        { taskId: 'a#build', cache: { status: 'MISS' }, execution: { startTime: 0, endTime: 5, exitCode: 0 }, logFile: 'a/.turbo/turbo-build.log' },
        { taskId: 'docs#test', cache: { status: 'MISS' }, execution: { startTime: 0, endTime: 9, exitCode: 1 }, logFile: 'packages/docs/.turbo/turbo-test.log' },
      ],
    };
    writeFileSync(path.join(cwd, '.turbo', 'runs', 'r1.json'), JSON.stringify(summary));
    writeFileSync(path.join(cwd, 'packages', 'docs', '.turbo', 'turbo-test.log'), '  ● links › when a link is broken, then it fails\nTests: 1 failed\nnpm error Lifecycle script `test` failed with error:\nnpm error code 1\n');
    const failed = new StepError('npm test: exited with code 1 after 9.0 s; last 20 lines of its output:\n    npm error code 1', 'lots of output\nSummary:    .turbo/runs/r1.json\n');

    const explained = explainTurboFailure(failed, 'npm test (empty cache)', cwd) as Error;
    rmSync(cwd, { recursive: true, force: true });

    expect(explained.message).toBe(
      'npm test (empty cache): docs#test failed\ndocs#test exited with code 1; last 2 lines of its log:\n      ● links › when a link is broken, then it fails\n    Tests: 1 failed',
    );
  });

  it('when the error is not a failed step, or printed no summary, then it is passed on unchanged', () => {
    const plain = new Error('could not start npx');
    const noSummary = new StepError('turbo: exited with code 1', 'no summary line');

    expect(explainTurboFailure(plain, 'turbo', '/tmp')).toBe(plain);
    expect(explainTurboFailure(noSummary, 'turbo', '/tmp')).toBe(noSummary);
  });
});

describe('JUnit totals', () => {
  const xml = (tests: number, failures: number) =>
    `<?xml version="1.0"?>\n<testsuites name="x" tests="${tests}" failures="${failures}" errors="0" time="1.2">\n  <testsuite name="s" tests="999" failures="9"></testsuite>\n</testsuites>\n`;

  it('when reading a report, then the totals of the root element count, not those of a suite', () => {
    expect(junitTotals(xml(21, 1))).toEqual({ tests: 21, failures: 1, errors: 0 });
  });

  it("when reading a folder of reports, then every workspace's totals add up", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'conveyor-bench-junit-'));
    writeFileSync(path.join(dir, 'api.xml'), xml(10, 0));
    writeFileSync(path.join(dir, 'infra.xml'), xml(191, 2));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a report');

    const totals = junitDirTotals(dir);
    rmSync(dir, { recursive: true, force: true });

    expect(totals).toEqual({ tests: 201, failures: 2, errors: 0, reports: 2 });
  });

  it('when the folder does not exist, then nothing is counted', () => {
    expect(junitDirTotals('/nonexistent/conveyor/junit')).toEqual({ tests: 0, failures: 0, errors: 0, reports: 0 });
  });
});

describe('repetitions of minute-long variants', () => {
  it.each([
    [1, 1],
    [3, 1],
    [5, 1],
    [6, 2],
    [9, 3],
  ])('when %i repetitions are asked for, then a minute-long variant runs %i×', (reps, expected) => {
    expect(minuteLongReps(reps)).toBe(expected);
  });
});
