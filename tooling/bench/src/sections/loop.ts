// Section: the loop a developer lives in, in a throwaway copy of the working
// tree: the first `npm run rehearse` until the service serves, then one-line
// committed changes with and without buildspec.yml's install cache, and where
// their time goes.
import { appendFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { cell, fmt, goal, type BenchContext, type Section, type SectionResult } from '../report';
import { interleave, ratio, summarize, type Summary } from '../stats';
import { repoCopy, type RepoCopy } from '../support/repo-copy';
import { rehearsalCli } from '../support/service';

/** The goals the project set for the two loops, in seconds. */
export const FIRST_REHEARSAL_GOAL_S = 90;
export const CHANGE_LOOP_GOAL_S = 45;
/** The goal for a change's install phase with the install cache ÷ without it: what CodeBuild's `cache: key` should save. */
export const INSTALL_CACHE_GOAL = 0.3;
const REHEARSAL_TIMEOUT_MS = 40 * 60_000;
/** The file the one-line change goes into, relative to the repo. */
const CHANGED_FILE = 'apps/api/src/index.ts';
/** What buildspec.yml's install prints when it keeps the node_modules the cache restored. */
const NPM_CI_SKIPPED = 'npm ci skipped';
/** The build phases in the order CodeBuild runs them, as the rehearsal names them. */
const BUILD_PHASES = ['install', 'pre_build', 'build', 'post_build', 'upload_artifacts'] as const;
/**
 * Changes per variant: one per 3 requested repetitions, at least one (each is
 * a rehearsal of minutes on 2 cores). At the default 3 each variant runs
 * once; `--reps 6` gives it two samples.
 */
export const loopReps = (reps: number): number => Math.max(1, Math.floor(reps / 3));
/** Slowest executed Turborepo tasks kept per rehearsal. */
const SLOWEST_TASKS = 6;

const secondsOf = (match: RegExpExecArray | null) => (match?.[1] === undefined ? undefined : Number(match[1]));

/** A phase's time as the rehearsal prints it (`[build] install ... SUCCEEDED (12.3 s)`), in seconds. */
export const phaseSeconds = (output: string, phase: string): number | undefined =>
  secondsOf(new RegExp(`^\\[build\\] ${phase} \\.\\.\\. (?:SUCCEEDED|FAILED) \\((\\d+(?:\\.\\d+)?) s\\)$`, 'm').exec(output));

/** The whole build's time (`[build] SUCCEEDED in 286.2 s (build #1, ...)`), in seconds. */
export const buildSeconds = (output: string): number | undefined => secondsOf(/^\[build\] (?:SUCCEEDED|FAILED) in (\d+(?:\.\d+)?) s\b/m.exec(output));

/** A task the rehearsal lists once its Turborepo run is over: `[build]   ✓ @conveyor/api#test 21.0 s` (✗ when it failed). */
const TASK_LINE = /^\[build\]\s+[✓✗] (\S+#\S+) (\d+(?:\.\d+)?) s$/;
/** The line that closes that list: `[build]   turbo: 8 of 28 tasks ran, 20 replayed from the Turborepo cache`. */
const TURBO_LINE = /^\[build\]\s+turbo: (\d+) of \d+ tasks? ran, (\d+) replayed/;

/**
 * The build's Turborepo tasks as the rehearsal prints them at the end of the
 * run (from the run summary, `--summarize`): how many ran and were replayed,
 * and the slowest that ran, slowest first. The list holds the slowest dozen,
 * so the few kept here are always in it.
 */
export function taskTimes(output: string): Pick<Rehearsal, 'tasksRan' | 'tasksReplayed' | 'slowest'> {
  const lines = output.split(/\r?\n/);
  const end = lines.findLastIndex((line) => TURBO_LINE.test(line));
  if (end === -1) return {};
  const [, ran, replayed] = TURBO_LINE.exec(lines[end]!)!;
  const tasks: TaskTime[] = [];
  for (let i = end - 1; i >= 0; i -= 1) {
    const task = TASK_LINE.exec(lines[i]!);
    if (task === null) break;
    tasks.push({ id: task[1]!, seconds: Number(task[2]) });
  }
  const slowest = tasks.sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST_TASKS);
  return { tasksRan: Number(ran), tasksReplayed: Number(replayed), slowest };
}

/**
 * Removes every install tree (a `node_modules` not inside another: what
 * buildspec.yml's `cache: paths` keep of an install) from the rehearsal's
 * saved cache, so the next build restores the npm and Turborepo caches but no
 * node_modules, and its install runs `npm ci` from the npm cache, with every
 * committed file unchanged. Returns how many trees were removed.
 */
export function dropInstallTrees(cacheDir: string): number {
  let removed = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (!entry.isDirectory()) continue;
      if (entry.name === 'node_modules') {
        rmSync(abs, { recursive: true, force: true });
        removed += 1;
        // The npm and Turborepo caches hold no install tree: not walked (tens of thousands of files).
      } else if (entry.name !== '.npm-cache' && entry.name !== '.turbo') walk(abs);
    }
  };
  if (existsSync(cacheDir)) walk(cacheDir);
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
  /** Tasks the build's Turborepo run executed and replayed, when the rehearsal listed them. */
  readonly tasksRan?: number;
  readonly tasksReplayed?: number;
  /** The slowest executed tasks, slowest first. */
  readonly slowest?: readonly TaskTime[];
}

/** The parts of a rehearsal's output the report uses: pure, unit-tested. */
export function readRehearsal(seconds: number, output: string): Rehearsal {
  const phases = Object.fromEntries(BUILD_PHASES.map((phase) => [phase, phaseSeconds(output, phase)] as const).filter(([, s]) => s !== undefined));
  return { seconds, phases, buildTotal: buildSeconds(output), ...taskTimes(output) };
}

export type VariantId = 'cached' | 'uncached';

const VARIANTS: Readonly<Record<VariantId, string>> = {
  cached: 'install cache as committed (node_modules restored by lockfile)',
  uncached: 'no node_modules restored (npm ci from the npm cache)',
};
const VARIANT_IDS = Object.keys(VARIANTS) as VariantId[];

/** The rehearsals of one state dir: a first one from nothing, then one-line changes, the two variants interleaved. */
async function rehearsals(ctx: BenchContext, copy: RepoCopy, reps: number): Promise<{ first: Rehearsal; changes: Map<string, Rehearsal[]> }> {
  const stateDir = path.join(ctx.tempDir('loop'), 'state');
  const cli = await rehearsalCli(stateDir, { cwd: copy.root, env: copy.env(), timeoutMs: REHEARSAL_TIMEOUT_MS, log: ctx.log });
  const rehearse = async (what: string, variant?: VariantId): Promise<Rehearsal> => {
    ctx.log(`loop: ${what}, rehearsing (minutes)…`);
    const { ms, output } = await cli.run(what);
    if (variant === 'uncached' && output.includes(NPM_CI_SKIPPED)) {
      throw new Error('loop: a change built without node_modules in the cache still skipped npm ci: the variant did not measure what it says');
    }
    const result = readRehearsal(ms / 1000, output);
    ctx.log(`loop: ${what} → serving … ${fmt(result.seconds)} s (install ${result.phases.install ?? '?'} s, build ${result.phases.build ?? '?'} s)`);
    return result;
  };
  let changes = 0;
  const change = async (variant: VariantId): Promise<Rehearsal> => {
    changes += 1;
    appendFileSync(path.join(copy.root, CHANGED_FILE), `// bench: one-line change ${changes}\n`);
    copy.commit('bench: a one-line change in apps/api', [CHANGED_FILE]);
    if (variant === 'uncached') ctx.log(`loop: removed ${dropInstallTrees(path.join(stateDir, 'cache'))} node_modules trees from the rehearsal's saved cache`);
    return rehearse(`change ${changes} (${variant}) in ${CHANGED_FILE}`, variant);
  };
  try {
    const first = await rehearse('first rehearsal (fresh state, empty cache)');
    return { first, changes: await interleave(VARIANT_IDS.map((variant) => ({ name: variant, run: () => change(variant) })), reps) };
  } finally {
    await cli.run('stop', ['stop']).catch((error: unknown) => ctx.log(`loop: stopping the rehearsal failed: ${(error as Error).message}`));
    // The load balancer runs the checkout's proxy (not the copy's files) with the port as an argument.
    copy.endLeftovers('loop', [stateDir], [String(cli.port)]);
  }
}

type Part = (r: Rehearsal) => number | undefined;

/** The median (min–max) of one part over some rehearsals; undefined when none has it. */
function medianOf(runs: readonly Rehearsal[], part: Part): Summary | undefined {
  const present = runs.map(part).filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : summarize(present);
}

/** The section's tables, goals and notes from its samples: pure, so the report's shape is unit-tested. */
export function loopResult(first: readonly Rehearsal[], changes: Readonly<Record<VariantId, readonly Rehearsal[]>>, reps: number, method: string): SectionResult {
  const show = (runs: readonly Rehearsal[], part: Part) => {
    const m = medianOf(runs, part);
    return m === undefined ? '—' : cell(m, 's');
  };
  const cacheRatio = (part: Part) => {
    const [a, b] = [medianOf(changes.cached, part), medianOf(changes.uncached, part)];
    return a && b ? ratio(a, b) : undefined;
  };
  const total: Part = (r) => r.seconds;
  const parts: Part[] = [total, (r) => r.phases.install, (r) => r.phases.build];
  const rows = [
    ...VARIANT_IDS.map((variant) => [VARIANTS[variant], changes[variant].length, ...parts.map((part) => show(changes[variant], part))]),
    ['ratio install cache / none', '', ...parts.map((part) => {
      const r = cacheRatio(part);
      return r === undefined ? '—' : fmt(r);
    })],
  ];

  // Where the time goes, with the install cache as committed: medians of each part.
  const loops = [
    { name: 'first rehearsal', runs: first, goalS: FIRST_REHEARSAL_GOAL_S, goal: 'first rehearsal until serving, seconds (median)' },
    { name: 'one-line change', runs: changes.cached, goalS: CHANGE_LOOP_GOAL_S, goal: 'one-line change until the new revision serves, seconds (median)' },
  ] as const;
  const breakdownRows = loops.map(({ name, runs }) => {
    const last = runs.at(-1);
    return [
      name,
      show(runs, total),
      ...BUILD_PHASES.map((phase) => show(runs, (r) => r.phases[phase])),
      show(runs, (r) => (r.buildTotal === undefined ? undefined : r.seconds - r.buildTotal)),
      last?.tasksRan === undefined ? '—' : `${last.tasksRan} ran, ${last.tasksReplayed ?? 0} replayed`,
      last?.slowest?.length ? last.slowest.map((t) => `${t.id} ${fmt(t.seconds)} s`).join(', ') : '—',
    ];
  });

  const installRatio = cacheRatio((r) => r.phases.install);
  const goals = [
    ...loops.flatMap((loop) => {
      const m = medianOf(loop.runs, total);
      return m ? [goal(loop.goal, Number(m.median.toFixed(1)), `≤ ${loop.goalS}`)] : [];
    }),
    ...(installRatio === undefined ? [] : [goal("a change's install phase, install cache / none (medians)", Number(installRatio.toPrecision(3)), `≤ ${INSTALL_CACHE_GOAL}`)]),
  ];

  // What reaching each goal would take: the seconds past it set against the parts that could give them.
  const needs = loops.flatMap(({ name, runs, goalS }) => {
    const seconds = (part: Part) => medianOf(runs, part)?.median;
    const totalS = seconds(total);
    if (totalS === undefined || totalS <= goalS) return [];
    const [build, install] = [seconds((r) => r.phases.build), seconds((r) => r.phases.install)];
    const slowest = runs.at(-1)?.slowest?.[0];
    return [
      `To bring the ${name} to ${goalS} s, ${fmt(totalS - goalS)} s of its ${fmt(totalS)} s have to go: ` +
        `its Turborepo build phase takes ${build === undefined ? '?' : fmt(build)} s and its install ${install === undefined ? '?' : fmt(install)} s` +
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
        rows,
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
    const reps = loopReps(ctx.reps);
    const copy = repoCopy(ctx);
    const { first, changes } = await rehearsals(ctx, copy, reps);
    const method =
      `In the throwaway copy of the working tree (committed), \`npm run rehearse\`'s CLI (build with buildspec.yml, then the blue/green deployment) from a fresh state dir until it prints where the service serves; ` +
      `then, in the same state dir, one-line changes in ${CHANGED_FILE}, each committed, and the CLI again until the new revision serves. ` +
      `The changes alternate between two variants, ${reps}× each (minutes each on 2 cores: one per 3 requested repetitions): ${VARIANTS.cached}, and ${VARIANTS.uncached}. ` +
      `The second is what the install cache replaces: before each of its builds the bench deletes every node_modules tree from the rehearsal's saved cache (the state dir's \`cache/\`), ` +
      `so the build restores the npm and Turborepo caches as before but finds no node_modules, and buildspec.yml's install runs \`npm ci\` from the npm cache; ` +
      `no committed file differs between the variants, and a build of the second that still prints "${NPM_CI_SKIPPED}" fails the section. ` +
      `The breakdown reads from the rehearsal's output each build phase's time and the Turborepo tasks the rehearsal lists at the end of its build (from the run summary, \`--summarize\`); the deployment is the rest of the total.`;
    return loopResult([first], { cached: changes.get('cached') ?? [], uncached: changes.get('uncached') ?? [] }, reps, method);
  },
};
