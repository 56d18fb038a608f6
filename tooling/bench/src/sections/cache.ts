// Section 4: what the build caches buy. Turborepo replaying a whole pipeline
// from its cache against running it cold, and `npm ci` with a warm npm cache
// (what CodeBuild's S3 cache restores) against an empty one.
import { rmSync } from 'node:fs';
import path from 'node:path';

import { cell, fmt, goal, type BenchContext, type Section, type SectionResult } from '../report';
import { interleave, ratio, summarize } from '../stats';
import { repoCopy, type RepoCopy } from '../support/repo-copy';
import { minuteLongReps } from '../support/reps';
import type { NpmPhases } from '../support/npm-timing';
import { treeSize } from '../support/tree';
import { runTurbo, slowestTasks, type TurboRun } from '../support/turbo';

/** The full pipeline: buildspec.yml runs the same tasks. */
export const PIPELINE_TASKS = ['build', 'lint', 'typecheck', 'test'] as const;
const PIPELINE_TIMEOUT_MS = 30 * 60_000;
/** The goal for npm ci, warm cache / empty cache: the install a cache hit should save. */
const NPM_GOAL = 0.4;

/** The phases of an npm ci the report shows, with the npm timer each comes from (see support/npm-timing). */
const NPM_PHASES: readonly (readonly [keyof NpmPhases, string])[] = [
  ['resolve', '`idealTree`'],
  ['unpack', '`reify:unpack` (fetch and write node_modules)'],
  ['build', '`reify:build` (install scripts, bin links)'],
  ['other', '`npm` less the three above'],
  ['total', '`npm`'],
];

const seconds = (ms: number) => ms / 1000;
const say = (ms: number) => `${seconds(ms).toFixed(1)} s`;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Deletes every workspace's dist/: a cold build starts from source only, as CodeBuild's does. */
function removeBuildOutputs(copy: RepoCopy): void {
  for (const dir of copy.packageDirs) rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
}

interface PipelineSample {
  readonly ms: number;
  readonly run: TurboRun;
}

/** `npx turbo run build lint typecheck test` in the copy with this Turborepo cache dir and temp dir. */
async function pipeline(ctx: BenchContext, copy: RepoCopy, label: string, cacheDir: string): Promise<PipelineSample> {
  const tmp = ctx.tempDir('tmp');
  const step = `turbo run ${PIPELINE_TASKS.join(' ')} (${label})`;
  // --env-mode=loose: strict mode would not pass TMPDIR to the tasks, and jest
  // would reuse the machine's shared transform cache in /tmp. --continue, as in
  // buildspec.yml: a failing task does not abort the others, whose suites then
  // clean up after themselves.
  const args = ['turbo', 'run', ...PIPELINE_TASKS, '--cache-dir', cacheDir, '--env-mode=loose', '--summarize', '--output-logs=errors-only', '--continue'];
  try {
    return await runTurbo(step, 'npx', args, { cwd: copy.root, env: copy.env({ TMPDIR: tmp }), timeoutMs: PIPELINE_TIMEOUT_MS, log: ctx.log });
  } finally {
    copy.endLeftovers(step, [tmp]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function measurePipeline(ctx: BenchContext, copy: RepoCopy) {
  const coldReps = minuteLongReps(ctx.reps);
  const cachedReps = Math.max(ctx.reps, coldReps);
  const cold: PipelineSample[] = [];
  const cached: PipelineSample[] = [];
  let filledCache: string | undefined;

  const runCold = async () => {
    ctx.log(`cache: turbo pipeline, empty cache ${cold.length + 1}/${coldReps} (minutes on 2 cores)…`);
    removeBuildOutputs(copy);
    const cacheDir = ctx.tempDir('turbo-cache');
    const sample = await pipeline(ctx, copy, 'empty cache', cacheDir);
    if (filledCache !== undefined) rmSync(filledCache, { recursive: true, force: true });
    filledCache = cacheDir;
    cold.push(sample);
    ctx.log(`cache: turbo pipeline, empty cache ${cold.length}/${coldReps} … ${say(sample.ms)} (${sample.run.tasks.length} tasks)`);
    return sample;
  };
  const runCached = async () => {
    if (filledCache === undefined) throw new Error('turbo pipeline (full cache): no cold run has filled a cache yet');
    ctx.log(`cache: turbo pipeline, full cache ${cached.length + 1}/${cachedReps}…`);
    const sample = await pipeline(ctx, copy, 'full cache', filledCache);
    cached.push(sample);
    const replay = sample.run.fullyCached ? 'FULL TURBO' : `${sample.run.misses.length} tasks ran: ${sample.run.misses.join(', ')}`;
    ctx.log(`cache: turbo pipeline, full cache ${cached.length}/${cachedReps} … ${say(sample.ms)} (${replay})`);
    return sample;
  };

  // Interleaved where both variants repeat; a cached run always follows a completed cold one.
  await interleave([{ name: 'cold', run: runCold }, { name: 'cached', run: runCached }], coldReps);
  while (cached.length < cachedReps) await runCached();
  return { cold, cached, coldReps, cachedReps };
}

async function measureInstall(ctx: BenchContext, copy: RepoCopy) {
  const reps = minuteLongReps(ctx.reps);
  const empty: number[] = [];
  const warm: number[] = [];
  const emptyPhases: NpmPhases[] = [];
  const warmPhases: NpmPhases[] = [];
  let warmCache: string | undefined;
  let warmCacheSize: ReturnType<typeof treeSize> | undefined;

  const runEmpty = async () => {
    const cacheDir = path.join(ctx.tempDir('npm-cache'), 'cache');
    ctx.log(`cache: npm ci (empty npm cache) ${empty.length + 1}/${reps}…`);
    const { ms, phases } = await copy.npmCi('npm ci (empty npm cache)', cacheDir);
    empty.push(ms);
    emptyPhases.push(phases);
    ctx.log(`cache: npm ci (empty npm cache) ${empty.length}/${reps} … ${say(ms)}`);
    // The first install's cache becomes the warm one: "the same dir after one install".
    if (warmCache === undefined) {
      warmCache = cacheDir;
      warmCacheSize = treeSize(cacheDir);
    } else rmSync(path.dirname(cacheDir), { recursive: true, force: true });
    return ms;
  };
  const runWarm = async () => {
    if (warmCache === undefined) throw new Error('npm ci (warm npm cache): no install has filled the cache yet');
    ctx.log(`cache: npm ci (warm npm cache) ${warm.length + 1}/${reps}…`);
    const { ms, phases } = await copy.npmCi('npm ci (warm npm cache)', warmCache);
    warm.push(ms);
    warmPhases.push(phases);
    ctx.log(`cache: npm ci (warm npm cache) ${warm.length}/${reps} … ${say(ms)}`);
    return ms;
  };
  // Empty first: its cache is the one the warm runs use (empty, warm, warm, empty, ...).
  await interleave([{ name: 'empty', run: runEmpty }, { name: 'warm', run: runWarm }], reps);
  if (warmCache !== undefined) rmSync(path.dirname(warmCache), { recursive: true, force: true });
  const nodeModules = treeSize(path.join(copy.root, 'node_modules'));
  return { empty, warm, emptyPhases, warmPhases, reps, warmCacheSize, nodeModules };
}

async function runCacheSection(ctx: BenchContext): Promise<SectionResult> {
  const copy = repoCopy(ctx);
  const install = await measureInstall(ctx, copy);
  const turbo = await measurePipeline(ctx, copy);

  const npmEmpty = summarize(install.empty.map(seconds));
  const npmWarm = summarize(install.warm.map(seconds));
  const npmRatio = ratio(npmWarm, npmEmpty);
  const turboCold = summarize(turbo.cold.map((s) => seconds(s.ms)));
  const turboCached = summarize(turbo.cached.map((s) => seconds(s.ms)));
  const turboRatio = ratio(turboCached, turboCold);
  const fullyCached = turbo.cached.filter((s) => s.run.fullyCached).length;
  const taskCount = turbo.cold[0]?.run.tasks.length ?? 0;
  const cachedHits = summarize(turbo.cached.map((s) => s.run.hits));
  const slowest = turbo.cold.at(-1) ? slowestTasks(turbo.cold.at(-1)!.run, 4) : [];
  const misses = [...new Set(turbo.cached.flatMap((s) => s.run.misses))];

  const phase = (runs: readonly NpmPhases[], key: keyof NpmPhases) => summarize(runs.map((r) => seconds(r[key])));
  const unpackWarm = phase(install.warmPhases, 'unpack');
  const totalWarm = phase(install.warmPhases, 'total');
  const unpackSaved = phase(install.emptyPhases, 'unpack').median - unpackWarm.median;
  const npmGoal = goal('npm ci, warm npm cache / empty npm cache', npmRatio, `≤ ${NPM_GOAL}`);

  const notes = [
    fullyCached === turbo.cached.length
      ? `Every full-cache run replayed all ${taskCount} tasks from the cache (FULL TURBO, checked task by task in the run summary): nothing ran, the ${fmt(turboCached.median)} s are npx and turbo starting, hashing the inputs and restoring outputs from the cache.`
      : `Only ${fullyCached} of ${turbo.cached.length} full-cache runs replayed every task; tasks that ran again: ${misses.join(', ')}. Something they read changes on every run, and the cache cannot help them.`,
    `Slowest tasks of the cold run (they overlap: turbo runs tasks in parallel): ${slowest.join(', ')}.`,
    ...(!npmGoal.met
      ? [
          `npm ci with a warm cache took ${fmt(npmRatio)} of the time of one with an empty cache, not ≤ ${NPM_GOAL}. By npm's own timers (table above) both runs spend most of their time writing node_modules ` +
            `(reify:unpack, ${Math.round((100 * unpackWarm.median) / totalWarm.median)} % of the warm run), and a warm cache saves only the downloads inside that phase: ${fmt(unpackSaved)} s here, where the registry answers quickly. ` +
            "What would reach the goal is caching node_modules itself, keyed on the lockfile's hash (a CodeBuild S3 cache with `key: npm-$(codebuild-hash-files package-lock.json)` over every node_modules folder) and skipping `npm ci` on a hit. " +
            'The project caches only the npm cache: a restored node_modules would skip the install scripts and the lockfile check that `npm ci` makes on every build.',
        ]
      : []),
    `After one install the warm npm cache held ${fmt(mib(install.warmCacheSize?.bytes ?? 0))} MiB in ${fmt(install.warmCacheSize?.files ?? 0)} files; every install, warm or not, writes node_modules anew: ${fmt(mib(install.nodeModules.bytes))} MiB in ${fmt(install.nodeModules.files)} files.`,
  ];

  return {
    id: 'cache',
    title: 'Build cache effects',
    method:
      `In a throwaway copy of the working tree (committed once, its own node_modules): \`npx turbo run ${PIPELINE_TASKS.join(' ')} --summarize --output-logs=errors-only --continue\` with an empty Turborepo cache dir, no dist/ and a fresh TMPDIR (jest's cache), ${turbo.coldReps}× (minutes each on 2 cores), ` +
      `then with the cache the previous cold run filled and nothing changed, ${turbo.cachedReps}×, interleaved; and buildspec.yml's \`npm ci\` after removing node_modules, ` +
      `with an empty npm cache dir or with the dir one install filled, ${install.reps}× each, interleaved (minute-long variants run once per 3 requested repetitions).`,
    tables: [
      {
        caption: `Turborepo, \`turbo run ${PIPELINE_TASKS.join(' ')}\` (${taskCount} tasks), wall time`,
        columns: ['Turborepo cache', 'runs', 'seconds, median (min–max)', 'tasks replayed from the cache'],
        rows: [
          ['empty (cold)', turbo.cold.length, cell(turboCold, 's'), '0'],
          ['full, nothing changed', turbo.cached.length, cell(turboCached, 's'), `${fmt(cachedHits.median)} of ${taskCount}; FULL TURBO in ${fullyCached} of ${turbo.cached.length} runs`],
          ['ratio full / empty', '', fmt(turboRatio), ''],
        ],
      },
      {
        caption: "`npm ci` as buildspec.yml runs it, node_modules removed first, wall time",
        columns: ['npm cache', 'runs', 'seconds, median (min–max)'],
        rows: [
          ['empty', install.empty.length, cell(npmEmpty, 's')],
          ['warm (after one install)', install.warm.length, cell(npmWarm, 's')],
          ['ratio warm / empty', '', fmt(npmRatio)],
        ],
      },
      {
        caption: "Where `npm ci`'s time goes, by npm's own timers (`--timing`), seconds, median (min–max)",
        columns: ['phase', 'npm timer', 'empty npm cache', 'warm npm cache'],
        rows: NPM_PHASES.map(([key, timer]) => [key, timer, cell(phase(install.emptyPhases, key), 's'), cell(phase(install.warmPhases, key), 's')]),
      },
    ],
    goals: [goal('Turborepo pipeline, full cache / empty cache', turboRatio, '≤ 0.05'), npmGoal],
    notes,
    data: {
      turboCold,
      turboCached,
      turboRatio,
      turboTaskCount: taskCount,
      turboCachedRunsFullyCached: turbo.cached.map((s) => s.run.fullyCached),
      turboCachedMisses: misses,
      turboColdTaskMs: turbo.cold.map((s) => Object.fromEntries(s.run.tasks.map((t) => [t.id, t.ms ?? null]))),
      npmEmpty,
      npmWarm,
      npmRatio,
      npmEmptyPhasesMs: install.emptyPhases,
      npmWarmPhasesMs: install.warmPhases,
      npmWarmCacheBytes: install.warmCacheSize?.bytes ?? 0,
      npmWarmCacheFiles: install.warmCacheSize?.files ?? 0,
      nodeModulesBytes: install.nodeModules.bytes,
      nodeModulesFiles: install.nodeModules.files,
    },
  };
}

export const cacheSection: Section = { id: 'cache', title: 'Build cache effects', run: runCacheSection };
