// Section: the loop a developer lives in. The first `npm run rehearse` of a
// fresh clone until the service serves, and a one-line committed change in
// apps/api until the new revision serves, each with buildspec.yml as
// committed (node_modules cached by lockfile) and with the install cache
// disabled (the npm and Turborepo caches only, npm ci on every build),
// interleaved, in a throwaway copy of the working tree.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseBuildspec } from '@conveyor/local-pipeline';

import { cell, fmt, goal, type BenchContext, type Section, type SectionResult } from '../report';
import { interleave, ratio, summarize } from '../stats';
import { freePort } from '../support/processes';
import { repoCopy, type RepoCopy } from '../support/repo-copy';
import { minuteLongReps } from '../support/reps';
import { runStep } from '../support/run-step';

/** The goals the project set for the two loops, in seconds. */
export const FIRST_REHEARSAL_GOAL_S = 90;
export const CHANGE_LOOP_GOAL_S = 45;
const REHEARSAL_TIMEOUT_MS = 40 * 60_000;
/** The file the one-line change goes into, relative to the repo. */
export const CHANGED_FILE = 'apps/api/src/index.ts';

/**
 * buildspec.yml with its install cache disabled, as it was before
 * node_modules was cached: no `key`, no `fallback-keys`, no `node_modules`
 * path under `cache:`. The install's `if` then never finds a node_modules
 * and always runs `npm ci` from the npm cache. Only the `cache:` section
 * changes.
 */
export function withoutInstallCache(buildspec: string): string {
  const out: string[] = [];
  let inCache = false;
  let inFallbacks = false;
  for (const line of buildspec.split('\n')) {
    if (/^\S/.test(line)) inCache = /^cache:\s*$/.test(line);
    if (inCache) {
      const indent = /^(\s*)/.exec(line)?.[1]?.length ?? 0;
      if (inFallbacks && (indent > 2 || /^\s*-/.test(line))) continue;
      inFallbacks = /^\s+fallback-keys:/.test(line);
      if (inFallbacks || /^\s+key:/.test(line) || /node_modules/.test(line)) continue;
    }
    out.push(line);
  }
  const text = out.join('\n');
  const cache = parseBuildspec(text).cache;
  if (cache?.key !== undefined || cache?.paths.some((p) => p.includes('node_modules')) === true) {
    throw new Error('loop: could not take the install cache out of buildspec.yml; its cache: section has an unexpected shape');
  }
  return text;
}

/** A phase's time as the rehearsal prints it (`[build] install ... SUCCEEDED (12.3 s)`), in seconds. */
export function phaseSeconds(output: string, phase: string): number | undefined {
  const match = new RegExp(`^\\[build\\] ${phase} \\.\\.\\. (?:SUCCEEDED|FAILED) \\((\\d+(?:\\.\\d+)?) s\\)$`, 'm').exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

interface Rehearsal {
  /** From start to the CLI's exit after "Serving ..." (the new revision answers through the load balancer). */
  readonly seconds: number;
  readonly install: number | undefined;
  readonly build: number | undefined;
}

interface LoopSample {
  readonly first: Rehearsal;
  readonly change: Rehearsal;
}

type VariantId = 'cached' | 'uncached';

const VARIANTS: Readonly<Record<VariantId, string>> = {
  cached: 'buildspec.yml as committed (node_modules cached by lockfile)',
  uncached: 'install cache disabled (npm ci on every build, npm cache only)',
};

/** One rehearsal run of the checkout's CLI in the copy, its own state dir and ports. */
async function rehearse(copy: RepoCopy, log: (line: string) => void, step: string, stateDir: string, args: readonly string[] = []): Promise<Rehearsal> {
  const cli = path.join(path.dirname(require.resolve('@conveyor/local-pipeline/package.json')), 'dist', 'cli.js');
  const port = await freePort();
  const slots = `${await freePort()},${await freePort()}`;
  const run = await runStep(step, process.execPath, [cli, ...args, '--state-dir', stateDir, '--port', String(port), '--slot-ports', slots], {
    cwd: copy.root,
    env: copy.env(),
    timeoutMs: REHEARSAL_TIMEOUT_MS,
    log,
  });
  return { seconds: run.ms / 1000, install: phaseSeconds(run.output, 'install'), build: phaseSeconds(run.output, 'build') };
}

/** Writes and commits a file in the copy, as a developer would before rehearsing. */
function commitFile(copy: RepoCopy, file: string, change: (abs: string) => void, message: string): void {
  change(path.join(copy.root, file));
  // Already as wanted (the committed buildspec, the first time): nothing to commit.
  if (execFileSync('git', ['status', '--porcelain', '--', file], { cwd: copy.root, env: copy.env(), encoding: 'utf8' }).trim() === '') return;
  execFileSync('git', ['add', '--', file], { cwd: copy.root, env: copy.env(), stdio: 'ignore' });
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', message, '--', file], {
    cwd: copy.root,
    env: copy.env(),
    stdio: 'ignore',
  });
}

async function loop(ctx: BenchContext, copy: RepoCopy, variant: VariantId, buildspecs: Readonly<Record<VariantId, string>>, rep: number): Promise<LoopSample> {
  const stateDir = path.join(ctx.tempDir(`loop-${variant}`), 'state');
  commitFile(copy, 'buildspec.yml', (abs) => writeFileSync(abs, buildspecs[variant]), `bench: ${variant} buildspec`);
  try {
    ctx.log(`loop: ${variant}, rep ${rep + 1}: first rehearsal (fresh state, empty cache; minutes)…`);
    const first = await rehearse(copy, ctx.log, `first rehearsal (${variant})`, stateDir);
    ctx.log(`loop: ${variant}, rep ${rep + 1}: first rehearsal … ${fmt(first.seconds)} s (install ${first.install ?? '?'} s, build ${first.build ?? '?'} s)`);
    commitFile(copy, CHANGED_FILE, (abs) => appendFileSync(abs, `// bench: one-line change ${variant} ${rep + 1}\n`), 'bench: a one-line change in apps/api');
    ctx.log(`loop: ${variant}, rep ${rep + 1}: one-line change in ${CHANGED_FILE}, committed, rehearsing…`);
    const change = await rehearse(copy, ctx.log, `change loop (${variant})`, stateDir);
    ctx.log(`loop: ${variant}, rep ${rep + 1}: change → serving … ${fmt(change.seconds)} s (install ${change.install ?? '?'} s, build ${change.build ?? '?'} s)`);
    return { first, change };
  } finally {
    await rehearse(copy, ctx.log, `stop (${variant})`, stateDir, ['stop']).catch((error: unknown) => ctx.log(`loop: stopping the ${variant} rehearsal failed: ${String(error)}`));
    copy.endLeftovers(`loop (${variant})`, [stateDir]);
  }
}

/** The section's tables, goals and notes from its samples: pure, so the report's shape is unit-tested. */
export function loopResult(samples: Readonly<Record<VariantId, readonly LoopSample[]>>, reps: number, method: string): SectionResult {
  const figure = (variant: VariantId, pick: (s: LoopSample) => number | undefined) => {
    const values = samples[variant].map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : summarize(values);
  };
  const show = (s: ReturnType<typeof figure>) => (s === undefined ? '—' : cell(s, 's'));
  const rows = (Object.keys(VARIANTS) as VariantId[]).map((variant) => [
    VARIANTS[variant],
    samples[variant].length,
    show(figure(variant, (s) => s.first.seconds)),
    show(figure(variant, (s) => s.change.seconds)),
    show(figure(variant, (s) => s.change.install)),
    show(figure(variant, (s) => s.change.build)),
  ]);
  const cachedFirst = figure('cached', (s) => s.first.seconds);
  const cachedChange = figure('cached', (s) => s.change.seconds);
  const uncachedFirst = figure('uncached', (s) => s.first.seconds);
  const uncachedChange = figure('uncached', (s) => s.change.seconds);
  const ratios: (string | number)[] = [
    'ratio committed / install cache disabled',
    '',
    cachedFirst && uncachedFirst ? fmt(ratio(cachedFirst, uncachedFirst)) : '—',
    cachedChange && uncachedChange ? fmt(ratio(cachedChange, uncachedChange)) : '—',
    '',
    '',
  ];
  const goals = [
    ...(cachedFirst ? [goal('first rehearsal until serving, seconds (median)', Number(cachedFirst.median.toFixed(1)), `≤ ${FIRST_REHEARSAL_GOAL_S}`)] : []),
    ...(cachedChange ? [goal('one-line change until the new revision serves, seconds (median)', Number(cachedChange.median.toFixed(1)), `≤ ${CHANGE_LOOP_GOAL_S}`)] : []),
  ];
  return {
    id: 'loop',
    title: 'The change loop: first rehearsal, and a one-line change until it serves',
    method,
    tables: [
      {
        columns: ['buildspec', 'runs', 'first rehearsal until serving', 'one-line change → new revision serving', 'install phase of the change', 'build phase of the change'],
        rows: [...rows, ratios],
      },
    ],
    goals,
    notes: [
      `The first rehearsal starts from an empty state dir (no cache, nothing deployed): its build runs \`npm ci\` and every task cold. The change appends one comment line to ${CHANGED_FILE} and commits it, so every apps/api task and what depends on it runs again; the rest is replayed from the Turborepo cache the first build saved.`,
      `Both variants run with reps = ${reps}; a variant is one fresh state dir per repetition, and the repetitions are interleaved.`,
    ],
    data: { reps, samples: { cached: [...samples.cached], uncached: [...samples.uncached] } },
  };
}

export const loopSection: Section = {
  id: 'loop',
  title: 'The change loop: first rehearsal, and a one-line change until it serves',
  async run(ctx) {
    const reps = minuteLongReps(ctx.reps);
    const copy = repoCopy(ctx);
    const committed = readFileSync(path.join(copy.root, 'buildspec.yml'), 'utf8');
    const buildspecs: Record<VariantId, string> = { cached: committed, uncached: withoutInstallCache(committed) };
    const done: Record<VariantId, number> = { cached: 0, uncached: 0 };
    const samples = await interleave<LoopSample>(
      (Object.keys(VARIANTS) as VariantId[]).map((variant) => ({ name: variant, run: () => loop(ctx, copy, variant, buildspecs, done[variant]++) })),
      reps,
    );
    // Leave the copy's buildspec as committed for the sections that follow.
    commitFile(copy, 'buildspec.yml', (abs) => writeFileSync(abs, committed), 'bench: buildspec as committed');
    const method =
      `In the throwaway copy of the working tree (committed), \`npm run rehearse\`'s CLI (build with buildspec.yml, then the blue/green deployment) from a fresh state dir until it prints where the service serves; ` +
      `then a one-line change in ${CHANGED_FILE}, committed, and the CLI again until the new revision serves. ` +
      `Two variants, interleaved, ${reps}× each (minutes each on 2 cores: one per 3 requested repetitions): ${VARIANTS.cached}, and ${VARIANTS.uncached}.`;
    return loopResult({ cached: samples.get('cached') ?? [], uncached: samples.get('uncached') ?? [] }, reps, method);
  },
};
