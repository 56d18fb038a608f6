// The loop section's pure parts: the install trees it strips from the
// rehearsal's saved cache, the phase and task times it reads from the
// rehearsal's output, and the tables, goals and notes it reports.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// The rehearsal's own rendering of the task list, so a change to what it
// prints fails here instead of emptying the report's column.
import { renderTimings } from '@conveyor/local-pipeline/dist/codebuild/progress';

import {
  CHANGE_LOOP_GOAL_S,
  FIRST_REHEARSAL_GOAL_S,
  INSTALL_CACHE_GOAL,
  buildSeconds,
  dropInstallTrees,
  loopReps,
  loopResult,
  phaseSeconds,
  readRehearsal,
  taskTimes,
  type Rehearsal,
} from '../sections/loop';
import { tempDirPerTest } from './helpers';

const work = tempDirPerTest('loop');

describe('dropInstallTrees', () => {
  it('when the saved cache holds node_modules trees, then every one goes and the npm and Turborepo caches stay', () => {
    const cache = path.join(work(), 'cache');
    const files = path.join(cache, 'entries', 'deps-abc-123', 'files');
    const put = (rel: string) => {
      mkdirSync(path.dirname(path.join(files, rel)), { recursive: true });
      writeFileSync(path.join(files, rel), 'x');
    };
    put('node_modules/.package-lock.json');
    put('node_modules/pino/node_modules/x/index.js');
    put('apps/api/node_modules/.bin/tsc');
    put('infra/node_modules/aws-cdk-lib/package.json');
    put('.npm-cache/_cacache/index-v5/ab/cd');
    put('.turbo/cache/abc.tar.zst');
    writeFileSync(path.join(cache, 'entries', 'deps-abc-123', 'entry.json'), '{}');

    const removed = dropInstallTrees(cache);

    expect(removed).toBe(3);
    expect(['node_modules', 'apps/api/node_modules', 'infra/node_modules'].filter((rel) => existsSync(path.join(files, rel)))).toEqual([]);
    expect(['.npm-cache/_cacache/index-v5/ab/cd', '.turbo/cache/abc.tar.zst', 'apps/api'].every((rel) => existsSync(path.join(files, rel)))).toBe(true);
  });

  it('when there is no saved cache yet (a first rehearsal), then nothing is removed', () => {
    expect(dropInstallTrees(path.join(work(), 'none'))).toBe(0);
  });
});

/** The rehearsal's task list for these tasks: `[id, ran, seconds]`, as its build prints it. */
const taskList = (tasks: readonly (readonly [string, boolean, number])[]) =>
  renderTimings(tasks.map(([task, ran, s], i) => ({ task, ran, durationMs: s * 1000, endTime: i, exitCode: 0 }))).map((line) => `[build]   ${line}`);

const OUTPUT = [
  '[build] install started',
  '[build] install ... SUCCEEDED (12.3 s)',
  '[build] pre_build ... SUCCEEDED (3 s)',
  '[build]   $ npx turbo run lint typecheck test build --continue --summarize',
  '[build]   ▸ @conveyor/api#test',
  ...taskList([
    ['@conveyor/api#build', true, 4.04],
    ['@conveyor/infra#test', false, 90],
    ['@conveyor/api#test', true, 20],
    ...Array.from({ length: 6 }, (_, i) => [`p${i}#lint`, true, 1 + i / 10] as const),
  ]),
  '[build] build ... FAILED (61 s)',
  '[build] FAILED in 80.5 s (build #1, log: /tmp/x/build.log)',
  '[build]   cache: key x found',
].join('\n');

describe('phaseSeconds and buildSeconds', () => {
  it.each([
    ['install', 12.3],
    ['pre_build', 3],
    ['build', 61],
    ['post_build', undefined],
  ])('when the output has the %s phase, then its seconds are read', (phase, seconds) => {
    expect(phaseSeconds(OUTPUT, phase)).toBe(seconds);
  });

  it("when the build's last line is there, then its total is read, and not otherwise", () => {
    expect(buildSeconds(OUTPUT)).toBe(80.5);
    expect(buildSeconds('[build] install ... SUCCEEDED (1 s)')).toBeUndefined();
  });
});

describe('taskTimes', () => {
  it('when the build lists its tasks, then the executed ones are counted and the slowest listed, slowest first, replays left out', () => {
    const tasks = taskTimes(OUTPUT);

    expect(tasks).toMatchObject({ tasksRan: 8, tasksReplayed: 1 });
    expect(tasks.slowest?.map((t) => t.id)).toEqual(['@conveyor/api#test', '@conveyor/api#build', 'p5#lint', 'p4#lint', 'p3#lint', 'p2#lint']);
    expect(tasks.slowest?.[1]?.seconds).toBe(4);
  });

  it('when two Turborepo runs list their tasks, then the last list is read, and not the lines before it', () => {
    const output = [...taskList([['a#test', true, 50]]), '[build] build ... SUCCEEDED (60 s)', ...taskList([['b#test', true, 5], ['c#lint', false, 1]])].join('\n');

    expect(taskTimes(output)).toEqual({ tasksRan: 1, tasksReplayed: 1, slowest: [{ id: 'b#test', seconds: 5 }] });
  });

  it('when a task failed, then it still counts as one that ran', () => {
    const output = ['[build]   ✗ a#test 7.5 s', '[build]   turbo: 1 of 1 task ran, 0 replayed from the Turborepo cache'].join('\n');

    expect(taskTimes(output).slowest).toEqual([{ id: 'a#test', seconds: 7.5 }]);
  });

  it('when the build listed no tasks, then nothing is invented', () => {
    expect(taskTimes('[build] build ... SUCCEEDED (1 s)')).toEqual({});
  });
});

describe('readRehearsal', () => {
  it('when the output has phases and a task list, then both are read', () => {
    const rehearsal = readRehearsal(95, OUTPUT);

    expect(rehearsal).toMatchObject({ seconds: 95, buildTotal: 80.5, phases: { install: 12.3, pre_build: 3, build: 61 }, tasksRan: 8, tasksReplayed: 1 });
    expect(rehearsal.slowest).toHaveLength(6);
  });

  it('when there is no task list, then only the phases are known', () => {
    const phasesOnly = OUTPUT.split('\n').filter((line) => !/[✓✗]|turbo:/.test(line)).join('\n');

    expect(readRehearsal(95, phasesOnly)).toEqual({ seconds: 95, buildTotal: 80.5, phases: { install: 12.3, pre_build: 3, build: 61 } });
  });
});

describe('loopResult', () => {
  const rehearsal = (seconds: number, install?: number, slowest: Rehearsal['slowest'] = []): Rehearsal => ({
    seconds,
    phases: { install, build: seconds / 2 },
    buildTotal: seconds - 10,
    tasksRan: slowest.length,
    tasksReplayed: 3,
    slowest,
  });

  it('when both variants of the change ran, then the table has their medians and the ratios, and the goals judge the first rehearsal, the committed buildspec and what its install cache saves', () => {
    const result = loopResult([rehearsal(80, 30)], { cached: [rehearsal(40, 2)], uncached: [rehearsal(80, 25)] }, 1, 'method');

    const [table] = result.tables;
    expect(table?.rows[0]?.slice(1)).toEqual([1, '40 s (40–40)', '2 s (2–2)', '20 s (20–20)']);
    expect(table?.rows[2]).toEqual(['ratio install cache / none', '', '0.500', '0.0800', '0.500']);
    expect(result.goals).toEqual([
      { name: 'first rehearsal until serving, seconds (median)', value: 80, target: `≤ ${FIRST_REHEARSAL_GOAL_S}`, met: true },
      { name: 'one-line change until the new revision serves, seconds (median)', value: 40, target: `≤ ${CHANGE_LOOP_GOAL_S}`, met: true },
      { name: "a change's install phase, install cache / none (medians)", value: 0.08, target: `≤ ${INSTALL_CACHE_GOAL}`, met: true },
    ]);
  });

  it('when the rehearsals ran, then the breakdown shows the phases, the deployment as the rest, and the slowest tasks, of the first rehearsal and of the committed change', () => {
    const slowest = [
      { id: '@conveyor/api#test', seconds: 21 },
      { id: '@conveyor/api#build', seconds: 4 },
    ];
    const result = loopResult([rehearsal(200, 30)], { cached: [rehearsal(60, 2, slowest)], uncached: [rehearsal(90, 30)] }, 1, 'method');

    const breakdown = result.tables[1];
    expect(breakdown?.columns.slice(2, 7)).toEqual(['install', 'pre_build', 'build', 'post_build', 'upload_artifacts']);
    expect(breakdown?.rows[0]?.slice(0, 3)).toEqual(['first rehearsal', '200 s (200–200)', '30 s (30–30)']);
    const change = breakdown?.rows[1];
    expect(change?.[0]).toBe('one-line change');
    expect(change?.[2]).toBe('2 s (2–2)');
    expect(change?.[4]).toBe('30 s (30–30)');
    expect(change?.[7]).toBe('10 s (10–10)');
    expect(change?.[8]).toBe('2 ran, 3 replayed');
    expect(change?.[9]).toBe('@conveyor/api#test 21 s, @conveyor/api#build 4 s');
  });

  it('when a loop misses its goal, then a note says how many seconds have to go and what the build and its slowest task take', () => {
    const result = loopResult([rehearsal(80, 30)], { cached: [rehearsal(60, 2, [{ id: '@conveyor/api#test', seconds: 21 }])], uncached: [] }, 1, 'method');

    const needs = result.notes.filter((n) => n.startsWith('To bring'));
    expect(needs).toHaveLength(1);
    expect(needs[0]).toContain(`one-line change to ${CHANGE_LOOP_GOAL_S} s, ${60 - CHANGE_LOOP_GOAL_S} s of its 60 s`);
    expect(needs[0]).toContain('@conveyor/api#test, alone takes 21 s');
  });

  it('when a figure is missing (a phase line not found, a variant with no runs), then its cell says — and no goal is invented', () => {
    const result = loopResult([], { cached: [rehearsal(200)], uncached: [] }, 1, 'method');

    const [table] = result.tables;
    expect(table?.rows[0]?.[3]).toBe('—');
    expect(table?.rows[1]?.slice(1, 3)).toEqual([0, '—']);
    expect(table?.rows[2]?.[2]).toBe('—');
    expect(result.goals.map((g) => g.name)).toEqual(['one-line change until the new revision serves, seconds (median)']);
    expect(result.goals[0]?.met).toBe(false);
  });
});

describe('loopReps', () => {
  it.each([
    [1, 1],
    [3, 1],
    [5, 1],
    [6, 2],
    [9, 3],
  ])('when %i repetitions are asked for, then each variant of the change runs %i×', (reps, expected) => {
    expect(loopReps(reps)).toBe(expected);
  });
});
