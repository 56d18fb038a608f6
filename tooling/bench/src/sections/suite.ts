// Section 6: the test suite and synth. How long `npm test` takes when nothing
// is cached (what a fresh clone or a changed shared package costs), and how
// long one CDK synth takes (what every `cdk deploy` and `cdk diff` pays).
import { rmSync } from 'node:fs';
import path from 'node:path';

import { cell, fmt, type BenchContext, type Section, type SectionResult } from '../report';
import { summarize } from '../stats';
import { junitDirTotals, type TestTotals } from '../support/junit';
import { repoCopy, type RepoCopy } from '../support/repo-copy';
import { minuteLongReps } from '../support/reps';
import { runStep } from '../support/run-step';
import { runTurbo, slowestTasks, type TurboRun } from '../support/turbo';

const TEST_TIMEOUT_MS = 30 * 60_000;
const SYNTH_TIMEOUT_MS = 10 * 60_000;

const seconds = (ms: number) => ms / 1000;
const say = (ms: number) => `${seconds(ms).toFixed(1)} s`;

interface TestSample {
  readonly ms: number;
  readonly run: TurboRun;
  readonly totals: TestTotals;
}

/** `npm test` with an empty Turborepo cache, no dist/, no JUnit reports and a fresh TMPDIR (jest's transform cache). */
async function coldTest(ctx: BenchContext, copy: RepoCopy): Promise<TestSample> {
  for (const dir of copy.packageDirs) rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  const reports = path.join(copy.root, 'reports', 'junit');
  rmSync(reports, { recursive: true, force: true });
  const cacheDir = ctx.tempDir('turbo-cache');
  const tmp = ctx.tempDir('tmp');
  const step = 'npm test (empty cache)';
  // Arguments after -- go to `turbo run test`. --env-mode=loose passes TMPDIR to jest (strict mode would not);
  // --continue lets every suite finish and clean up when one fails.
  const args = ['test', '--', '--cache-dir', cacheDir, '--env-mode=loose', '--summarize', '--output-logs=errors-only', '--continue'];
  try {
    const { ms, run } = await runTurbo(step, 'npm', args, { cwd: copy.root, env: copy.env({ TMPDIR: tmp }), timeoutMs: TEST_TIMEOUT_MS, log: ctx.log });
    return { ms, run, totals: junitDirTotals(reports) };
  } finally {
    copy.endLeftovers(step, [tmp]);
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `npx cdk synth --quiet` in infra/, from no cdk.out; needs the workspaces it imports built (npm test builds them). */
async function synth(copy: RepoCopy): Promise<number> {
  const infra = path.join(copy.root, 'infra');
  rmSync(path.join(infra, 'cdk.out'), { recursive: true, force: true });
  // The CLI's telemetry and notices would try the network on every synth; the bench measures the synth.
  const env = copy.env({ CDK_DISABLE_CLI_TELEMETRY: 'true' });
  try {
    const ran = await runStep('cdk synth --quiet', 'npx', ['cdk', 'synth', '--quiet', '--no-notices'], { cwd: infra, env, timeoutMs: SYNTH_TIMEOUT_MS });
    return ran.ms;
  } finally {
    copy.endLeftovers('cdk synth');
  }
}

async function runSuiteSection(ctx: BenchContext): Promise<SectionResult> {
  const copy = repoCopy(ctx);
  await copy.ensureInstalled();

  const testReps = minuteLongReps(ctx.reps);
  const tests: TestSample[] = [];
  for (let rep = 1; rep <= testReps; rep += 1) {
    ctx.log(`suite: npm test, empty cache ${rep}/${testReps} (minutes on 2 cores)…`);
    const sample = await coldTest(ctx, copy);
    tests.push(sample);
    ctx.log(`suite: npm test, empty cache ${rep}/${testReps} … ${say(sample.ms)} (${sample.totals.tests} tests, ${sample.run.tasks.length} tasks)`);
  }

  const synths: number[] = [];
  for (let rep = 1; rep <= ctx.reps; rep += 1) {
    ctx.log(`suite: cdk synth ${rep}/${ctx.reps}…`);
    synths.push(await synth(copy));
    ctx.log(`suite: cdk synth ${rep}/${ctx.reps} … ${say(synths.at(-1)!)}`);
  }

  const testTime = summarize(tests.map((s) => seconds(s.ms)));
  const synthTime = summarize(synths.map(seconds));
  const last = tests.at(-1)!;
  return {
    id: 'suite',
    title: 'The test suite and synth',
    method:
      `In the throwaway copy of the working tree (its own node_modules): \`npm test\` (turbo run test: every workspace's jest suite and the builds it depends on) with an empty Turborepo cache dir, no dist/ and a fresh TMPDIR so jest's transform cache is empty too, ${testReps}× (minutes each on 2 cores: once per 3 requested repetitions); ` +
      `then \`npx cdk synth --quiet\` in infra/ (every stack, cdk-nag included) from no cdk.out, ${ctx.reps}×.`,
    tables: [
      {
        caption: 'Wall time',
        columns: ['command', 'runs', 'seconds, median (min–max)', 'what ran'],
        rows: [
          ['`npm test`, empty cache', tests.length, cell(testTime, 's'), `${fmt(last.totals.tests)} tests in ${last.totals.reports} workspaces, ${last.run.tasks.length} turbo tasks`],
          ['`npx cdk synth --quiet` (infra/)', synths.length, cell(synthTime, 's'), 'every stack, cdk-nag'],
        ],
      },
    ],
    goals: [],
    notes: [
      `Slowest tasks of the last cold \`npm test\` (turbo runs them in parallel, so they overlap): ${slowestTasks(last.run, 4).join(', ')}.`,
      `A second \`npm test\` with nothing changed replays from the Turborepo cache: see the full-cache pipeline figure in "Build cache effects".`,
    ],
    data: {
      npmTestCold: testTime,
      npmTestTests: last.totals.tests,
      npmTestFailures: last.totals.failures + last.totals.errors,
      npmTestReports: last.totals.reports,
      npmTestColdTaskMs: tests.map((s) => Object.fromEntries(s.run.tasks.map((t) => [t.id, t.ms ?? null]))),
      synth: synthTime,
    },
  };
}

export const suiteSection: Section = { id: 'suite', title: 'The test suite and synth', run: runSuiteSection };
