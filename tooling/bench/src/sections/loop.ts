// Section: the loop a developer lives in. The first `npm run rehearse` of a
// fresh clone until the service serves, and a one-line committed change in
// apps/api until the new revision serves, each with buildspec.yml's install
// cache as committed (node_modules restored from the cache entry of the same
// lockfile) and without it (the rehearsal's saved cache stripped of every
// node_modules before each build: npm ci from the npm cache), interleaved, in
// a throwaway copy of the working tree. Also where the time goes: each build
// phase, the deployment, and the slowest Turborepo tasks from the build's run
// summary.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '@conveyor/tooling-support';

import { cell, fmt, goal, type BenchContext, type Section, type SectionResult } from '../report';
import { interleave, ratio, summarize, type Summary } from '../stats';
import { repoCopy, type RepoCopy } from '../support/repo-copy';
import { minuteLongReps } from '../support/reps';
import { runStep, StepError } from '../support/run-step';
import { parseTurboSummary, type TurboRun } from '../support/turbo';

/** The goals the project set for the two loops, in seconds. */
export const FIRST_REHEARSAL_GOAL_S = 90;
export const CHANGE_LOOP_GOAL_S = 45;
const REHEARSAL_TIMEOUT_MS = 40 * 60_000;
/** The file the one-line change goes into, relative to the repo. */
export const CHANGED_FILE = 'apps/api/src/index.ts';
/** What buildspec.yml's install prints when it keeps the node_modules the cache restored. */
export const NPM_CI_SKIPPED = 'npm ci skipped';
/** The build phases in the order CodeBuild runs them, as the rehearsal names them. */
export const BUILD_PHASES = ['install', 'pre_build', 'build', 'post_build', 'upload_artifacts'] as const;
/** Slowest executed Turborepo tasks kept per rehearsal. */
const SLOWEST_TASKS = 6;

/** A phase's time as the rehearsal prints it (`[build] install ... SUCCEEDED (12.3 s)`), in seconds. */
export function phaseSeconds(output: string, phase: string): number | undefined {
  const match = new RegExp(`^\\[build\\] ${phase} \\.\\.\\. (?:SUCCEEDED|FAILED) \\((\\d+(?:\\.\\d+)?) s\\)$`, 'm').exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The whole build's time (`[build] SUCCEEDED in 286.2 s (build #1, ...)`), in seconds. */
export function buildSeconds(output: string): number | undefined {
  const match = /^\[build\] (?:SUCCEEDED|FAILED) in (\d+(?:\.\d+)?) s\b/m.exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The last run summary the build's Turborepo run names (`| Summary: <file>`), absolute. */
export function rehearsalSummaryPath(output: string): string | undefined {
  const files = [...output.matchAll(/Summary:\s+(\/\S+\.json)\s*$/gm)].map((m) => m[1]!);
  return files.at(-1);
}

/**
 * Whether `rel` (a path inside a cache entry, `/`-separated) is an install
 * tree: a `node_modules` directory that is not itself inside one. These are
 * what buildspec.yml's `cache: paths` keep of an install (the root's and each
 * workspace's); the npm cache (`.npm-cache`) and the Turborepo cache are not.
 */
export function isInstallTree(rel: string): boolean {
  const parts = rel.split('/');
  return parts.at(-1) === 'node_modules' && parts.indexOf('node_modules') === parts.length - 1;
}

/**
 * Removes every install tree from the rehearsal's saved cache (`<state>/cache`,
 * all entries), so the next build restores the npm and Turborepo caches but no
 * node_modules, and its install runs `npm ci` from the npm cache: the build as
 * it was before node_modules was cached, with buildspec.yml and every
 * committed file unchanged. Returns how many trees were removed.
 */
export function dropInstallTrees(cacheDir: string): number {
  let removed = 0;
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (isInstallTree(childRel)) {
        rmSync(abs, { recursive: true, force: true });
        removed += 1;
      } else if (name !== '.npm-cache' && name !== '.turbo') {
        // The npm and Turborepo caches hold no install tree: not walked (tens of thousands of files).
        walk(abs, childRel);
      }
    }
  };
  if (existsSync(cacheDir)) walk(cacheDir, '');
  return removed;
}

/** One executed Turborepo task and its time. */
export interface TaskTime {
  readonly id: string;
  readonly seconds: number;
}

export interface Rehearsal {
  /** From start to the CLI's exit after "Serving ..." (the new revision answers through the load balancer). */
  readonly seconds: number;
  /** Each build phase's seconds, as the rehearsal printed them. */
  readonly phases: Readonly<Partial<Record<(typeof BUILD_PHASES)[number], number>>>;
  /** The whole build; the rest of `seconds` is the blue/green deployment (and the CLI's start). */
  readonly buildTotal: number | undefined;
  /** Tasks the build's Turborepo run executed and replayed, when its summary was found. */
  readonly tasksRan?: number;
  readonly tasksReplayed?: number;
  /** The slowest executed tasks, slowest first. */
  readonly slowest?: readonly TaskTime[];
}

/** The parts of a rehearsal's output (and its run summary) the report uses: pure, unit-tested. */
export function readRehearsal(seconds: number, output: string, turbo: TurboRun | undefined): Rehearsal {
  const phases: Partial<Record<(typeof BUILD_PHASES)[number], number>> = {};
  for (const phase of BUILD_PHASES) {
    const value = phaseSeconds(output, phase);
    if (value !== undefined) phases[phase] = value;
  }
  const tasks =
    turbo === undefined
      ? {}
      : {
          tasksRan: turbo.misses.length,
          tasksReplayed: turbo.hits,
          slowest: turbo.tasks
            .filter((t): t is typeof t & { ms: number } => t.cache !== 'HIT' && t.ms !== undefined)
            .sort((a, b) => b.ms - a.ms)
            .slice(0, SLOWEST_TASKS)
            .map((t) => ({ id: t.id, seconds: Number((t.ms / 1000).toFixed(1)) })),
        };
  return { seconds, phases, buildTotal: buildSeconds(output), ...tasks };
}

export type VariantId = 'cached' | 'uncached';

const VARIANTS: Readonly<Record<VariantId, string>> = {
  cached: 'install cache as committed (node_modules restored by lockfile)',
  uncached: 'no node_modules restored (npm ci from the npm cache)',
};

interface Ports {
  readonly proxy: number;
  readonly slots: string;
}

/** One rehearsal run of the checkout's CLI in the copy, its own state dir and ports. */
async function rehearse(copy: RepoCopy, log: (line: string) => void, step: string, stateDir: string, ports: Ports, args: readonly string[] = []): Promise<{ seconds: number; output: string }> {
  const cli = path.join(path.dirname(require.resolve('@conveyor/local-pipeline/package.json')), 'dist', 'cli.js');
  const run = await runStep(step, process.execPath, [cli, ...args, '--state-dir', stateDir, '--port', String(ports.proxy), '--slot-ports', ports.slots], {
    cwd: copy.root,
    env: copy.env(),
    timeoutMs: REHEARSAL_TIMEOUT_MS,
    log,
  });
  return { seconds: run.ms / 1000, output: run.output };
}

/**
 * The newest run summary in the build's source copy (`<state>/build/src/.turbo/runs`):
 * the rehearsal's progress view shows the tasks but not the summary's path.
 */
export function newestSummary(stateDir: string): string | undefined {
  const dir = path.join(stateDir, 'build', 'src', '.turbo', 'runs');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => path.join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

/** The rehearsal's figures, with the build's run summary when one can be found and read. */
function measured(run: { seconds: number; output: string }, stateDir: string, log: (line: string) => void): Rehearsal {
  const file = rehearsalSummaryPath(run.output) ?? newestSummary(stateDir);
  let turbo: TurboRun | undefined;
  try {
    if (file !== undefined) turbo = parseTurboSummary(readFileSync(file, 'utf8'));
  } catch (error) {
    log(`loop: could not read the build's run summary ${file}: ${String(error)}`);
  }
  return readRehearsal(run.seconds, run.output, turbo);
}

/** Writes and commits a file in the copy, as a developer would before rehearsing. */
function commitFile(copy: RepoCopy, file: string, change: (abs: string) => void, message: string): void {
  change(path.join(copy.root, file));
  execFileSync('git', ['add', '--', file], { cwd: copy.root, env: copy.env(), stdio: 'ignore' });
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', message, '--', file], {
    cwd: copy.root,
    env: copy.env(),
    stdio: 'ignore',
  });
}

/** The rehearsals of one state dir: a first one from nothing, then one-line changes, the two variants interleaved. */
async function rehearsals(ctx: BenchContext, copy: RepoCopy, reps: number): Promise<{ first: Rehearsal; changes: Map<string, Rehearsal[]> }> {
  const stateDir = path.join(ctx.tempDir('loop'), 'state');
  // The same ports for every command of this state dir: a rehearsal on another
  // port would start a second load balancer and leave the first one running.
  const ports: Ports = { proxy: await freePort(), slots: `${await freePort()},${await freePort()}` };
  let changes = 0;
  const change = async (variant: VariantId): Promise<Rehearsal> => {
    changes += 1;
    commitFile(copy, CHANGED_FILE, (abs) => appendFileSync(abs, `// bench: one-line change ${changes}\n`), 'bench: a one-line change in apps/api');
    if (variant === 'uncached') {
      const dropped = dropInstallTrees(path.join(stateDir, 'cache'));
      ctx.log(`loop: change ${changes} (${variant}): removed ${dropped} node_modules trees from the rehearsal's saved cache`);
    }
    ctx.log(`loop: change ${changes} (${variant}): one-line change in ${CHANGED_FILE}, committed, rehearsing…`);
    const run = await rehearse(copy, ctx.log, `change loop (${variant})`, stateDir, ports);
    if (variant === 'uncached' && run.output.includes(NPM_CI_SKIPPED)) {
      throw new Error('loop: a change built without node_modules in the cache still skipped npm ci: the variant did not measure what it says');
    }
    const result = measured(run, stateDir, ctx.log);
    ctx.log(`loop: change ${changes} (${variant}) → serving … ${fmt(result.seconds)} s (install ${result.phases.install ?? '?'} s, build ${result.phases.build ?? '?'} s)`);
    return result;
  };
  try {
    ctx.log('loop: first rehearsal (fresh state, empty cache; minutes)…');
    const first = measured(await rehearse(copy, ctx.log, 'first rehearsal', stateDir, ports), stateDir, ctx.log);
    ctx.log(`loop: first rehearsal … ${fmt(first.seconds)} s (install ${first.phases.install ?? '?'} s, build ${first.phases.build ?? '?'} s)`);
    const samples = await interleave<Rehearsal>(
      (Object.keys(VARIANTS) as VariantId[]).map((variant) => ({ name: variant, run: () => change(variant) })),
      reps,
    );
    return { first, changes: samples };
  } finally {
    await rehearse(copy, ctx.log, 'stop', stateDir, ports, ['stop']).catch((error: unknown) =>
      ctx.log(`loop: stopping the rehearsal failed: ${error instanceof StepError ? error.message : String(error)}`),
    );
    // The load balancer runs the checkout's proxy (not the copy's files) with the port as an argument.
    copy.endLeftovers('loop', [stateDir], [String(ports.proxy)]);
  }
}

const median = (values: readonly (number | undefined)[]): Summary | undefined => {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : summarize(present);
};

/** "a 12.3 s, b 4.5 s" */
function taskList(tasks: readonly TaskTime[] | undefined): string {
  return tasks === undefined || tasks.length === 0 ? '—' : tasks.map((t) => `${t.id} ${fmt(t.seconds)} s`).join(', ');
}

/** The section's tables, goals and notes from its samples: pure, so the report's shape is unit-tested. */
export function loopResult(first: readonly Rehearsal[], changes: Readonly<Record<VariantId, readonly Rehearsal[]>>, reps: number, method: string): SectionResult {
  const show = (s: Summary | undefined) => (s === undefined ? '—' : cell(s, 's'));
  const of = (runs: readonly Rehearsal[], f: (r: Rehearsal) => number | undefined) => median(runs.map(f));
  const variants = Object.keys(VARIANTS) as VariantId[];
  const parts = [(r: Rehearsal) => r.seconds, (r: Rehearsal) => r.phases.install, (r: Rehearsal) => r.phases.build];
  const rows = variants.map((variant) => [VARIANTS[variant], changes[variant].length, ...parts.map((f) => show(of(changes[variant], f)))]);
  const ratios: (string | number)[] = [
    'ratio install cache / none',
    '',
    ...parts.map((f) => {
      const a = of(changes.cached, f);
      const b = of(changes.uncached, f);
      return a && b ? fmt(ratio(a, b)) : '—';
    }),
  ];

  // Where the time goes, with the install cache as committed: medians of each part.
  const loops = [
    { name: 'first rehearsal', runs: first, goalS: FIRST_REHEARSAL_GOAL_S },
    { name: 'one-line change', runs: changes.cached, goalS: CHANGE_LOOP_GOAL_S },
  ] as const;
  const breakdownRows = loops.map(({ name, runs }) => {
    const last = runs.at(-1);
    return [
      name,
      show(of(runs, (r) => r.seconds)),
      ...BUILD_PHASES.map((phase) => show(of(runs, (r) => r.phases[phase]))),
      show(of(runs, (r) => (r.buildTotal === undefined ? undefined : r.seconds - r.buildTotal))),
      last?.tasksRan === undefined ? '—' : `${last.tasksRan} ran, ${last.tasksReplayed ?? 0} replayed`,
      taskList(last?.slowest),
    ];
  });

  const firstS = of(first, (r) => r.seconds);
  const changeS = of(changes.cached, (r) => r.seconds);
  const goals = [
    ...(firstS ? [goal('first rehearsal until serving, seconds (median)', Number(firstS.median.toFixed(1)), `≤ ${FIRST_REHEARSAL_GOAL_S}`)] : []),
    ...(changeS ? [goal('one-line change until the new revision serves, seconds (median)', Number(changeS.median.toFixed(1)), `≤ ${CHANGE_LOOP_GOAL_S}`)] : []),
  ];

  // What reaching each goal would take, from the breakdown: the seconds past
  // the goal set against the parts that could give them.
  const needs = loops.flatMap(({ name, runs, goalS }) => {
    const total = of(runs, (r) => r.seconds);
    if (total === undefined || total.median <= goalS) return [];
    const build = of(runs, (r) => r.phases.build);
    const install = of(runs, (r) => r.phases.install);
    const slowest = runs.at(-1)?.slowest?.[0];
    return [
      `To bring the ${name} to ${goalS} s, ${fmt(total.median - goalS)} s of its ${fmt(total.median)} s have to go: ` +
        `its Turborepo build phase takes ${build === undefined ? '?' : fmt(build.median)} s and its install ${install === undefined ? '?' : fmt(install.median)} s` +
        (slowest === undefined ? '.' : `; its slowest task, ${slowest.id}, alone takes ${fmt(slowest.seconds)} s, and on 2 cores the tasks run at most two at a time.`),
    ];
  });

  return {
    id: 'loop',
    title: 'The change loop: first rehearsal, and a one-line change until it serves',
    method,
    tables: [
      {
        caption: 'A one-line change in apps/api, committed, until the new revision serves',
        columns: ['variant', 'runs', 'change → new revision serving', 'install phase', 'build phase'],
        rows: [...rows, ratios],
      },
      {
        caption: 'Where the time goes (install cache as committed)',
        columns: ['rehearsal', 'total', ...BUILD_PHASES, 'deployment (rest)', 'Turborepo tasks', 'slowest tasks that ran'],
        rows: breakdownRows,
      },
    ],
    goals,
    notes: [
      `The first rehearsal starts from an empty state dir (no cache, nothing deployed): its build runs \`npm ci\` from an empty npm cache and every task cold. No cache exists yet, so the install cache cannot change it: it is measured once, with the buildspec as committed. Each change appends one comment line to ${CHANGED_FILE} and commits it, so every task whose inputs include apps/api runs again and the rest is replayed from the Turborepo cache the build before it saved.`,
      `Changes per variant: ${reps}, interleaved, all in the one state dir of the first rehearsal.`,
      ...needs,
    ],
    data: { reps, first: [...first], changes: { cached: [...changes.cached], uncached: [...changes.uncached] } },
  };
}

export const loopSection: Section = {
  id: 'loop',
  title: 'The change loop: first rehearsal, and a one-line change until it serves',
  async run(ctx) {
    const reps = minuteLongReps(ctx.reps);
    const copy = repoCopy(ctx);
    const { first, changes } = await rehearsals(ctx, copy, reps);
    const method =
      `In the throwaway copy of the working tree (committed), \`npm run rehearse\`'s CLI (build with buildspec.yml, then the blue/green deployment) from a fresh state dir until it prints where the service serves; ` +
      `then, in the same state dir, one-line changes in ${CHANGED_FILE}, each committed, and the CLI again until the new revision serves. ` +
      `The changes alternate between two variants, ${reps}× each (minutes each on 2 cores: one per 3 requested repetitions): ${VARIANTS.cached}, and ${VARIANTS.uncached}. ` +
      `The second is what the install cache replaces: before each of its builds the bench deletes every node_modules tree from the rehearsal's saved cache (the state dir's \`cache/\`), ` +
      `so the build restores the npm and Turborepo caches as before but finds no node_modules, and buildspec.yml's install runs \`npm ci\` from the npm cache; ` +
      `no committed file differs between the variants, and a build of the second that still prints "${NPM_CI_SKIPPED}" fails the section. ` +
      `The breakdown reads each build phase's time from the rehearsal's output and the tasks from the build's Turborepo run summary (\`--summarize\`); the deployment is the rest of the total.`;
    return loopResult([first], { cached: changes.get('cached') ?? [], uncached: changes.get('uncached') ?? [] }, reps, method);
  },
};
