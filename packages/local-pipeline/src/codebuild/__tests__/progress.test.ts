// The progress view of a running build: Turborepo tasks as they start and
// fail, a heartbeat or status line while a command is quiet, each task's time
// from the run summary once Turborepo is done.
import fc from 'fast-check';

import { CommandWatch, duration, MAX_LISTED_TASKS, renderTimings, taskTimings, turboEvent, type TurboEvent } from '../progress';
import { build, createRepo, TEST_TIMEOUT_MS } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

describe('turboEvent', () => {
  it.each([
    ['@scope/api:test: cache miss, executing 2ff7bfd9bf1a985d', { kind: 'started', task: '@scope/api#test' }],
    ['a:t: cache bypass, force executing 2ff7bfd9bf1a985d', { kind: 'started', task: 'a#t' }],
    ['@scope/pipe:test:e2e: cache miss, executing 1234', { kind: 'started', task: '@scope/pipe#test:e2e' }],
    ['@scope/api:build: cache hit, replaying logs 2ff7bfd9', { kind: 'replayed', task: '@scope/api#build' }],
    ['@scope/api:test: ERROR: command finished with error: command (/x) /usr/bin/npm run test exited (1)', { kind: 'failed', task: '@scope/api#test' }],
    ['@scope/api:test: PASS src/__tests__/app.test.ts', { kind: 'output', task: '@scope/api#test' }],
    ['@scope/api:test:', { kind: 'output', task: '@scope/api#test' }],
    ['\u001b[35m@scope/api:lint: \u001b[0mcache miss, executing abcd', { kind: 'started', task: '@scope/api#lint' }],
    ['Summary:    /tmp/src/.turbo/runs/3N1Kq.json', { kind: 'summary', file: '/tmp/src/.turbo/runs/3N1Kq.json' }],
  ])('when a line reads %j, then it is %j', (line, event) => {
    expect(turboEvent(line)).toEqual(event);
  });

  it.each([' Tasks:    2 successful, 2 total', 'Error: something broke', 'https://example.com/a:b', 'npm warn deprecated x@1: use y'])(
    'when a line is not task output (%j), then it is no event',
    (line) => {
      expect(turboEvent(line)).toBeUndefined();
    },
  );
});

describe('taskTimings and renderTimings', () => {
  const summary = (tasks: readonly unknown[]) => ({ id: 'x', tasks });
  const task = (taskId: string, start: number, end: number, status = 'MISS', exitCode = 0) => ({
    taskId,
    cache: { status },
    execution: { startTime: start, endTime: end, exitCode },
  });

  it('when tasks ran and others were replayed, then the ones that ran are listed in the order they finished, with their times', () => {
    const timings = taskTimings(
      summary([task('a#build', 0, 2_000), task('b#test', 1_000, 61_500), task('c#lint', 0, 5_000, 'HIT'), task('a#test', 2_000, 9_000, 'MISS', 1)]),
    );

    expect(renderTimings(timings)).toEqual([
      '✓ a#build 2.0 s',
      '✗ a#test 7.0 s',
      '✓ b#test 60.5 s',
      'turbo: 3 of 4 tasks ran, 1 replayed from the Turborepo cache',
    ]);
  });

  it('when the summary holds entries it cannot read, then they are left out and nothing throws', () => {
    const timings = taskTimings(summary([null, { taskId: 'a#b' }, { taskId: 1, execution: {} }, task('ok#build', 0, 1_000)]));

    expect(timings.map((t) => t.task)).toEqual(['ok#build']);
    expect(taskTimings('not json')).toEqual([]);
  });

  it('when many tasks ran, then only the slowest are listed and the rest counted, whatever their times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600_000 }), { minLength: 0, maxLength: 40 }), (durations) => {
        const timings = taskTimings(summary(durations.map((d, i) => task(`p${i}#test`, 0, d))));
        const lines = renderTimings(timings);
        const listed = lines.slice(0, -1);

        const slowest = [...durations].sort((a, b) => b - a).slice(0, MAX_LISTED_TASKS);
        const shown = listed.map((line) => / ([\d.]+) s$/.exec(line)?.[1]);
        expect(shown.sort()).toEqual(slowest.map((d) => (d / 1000).toFixed(1)).sort());
        expect(lines.at(-1)).toContain(`${durations.length} of ${durations.length} task`);
        const unlisted = durations.length - MAX_LISTED_TASKS;
        expect(lines.at(-1)?.includes(`${unlisted} shorter ones not listed`)).toBe(unlisted > 0);
      }),
    );
  });
});

describe('CommandWatch', () => {
  it('when output arrives in chunks that split lines, then each task start is reported once, whole', () => {
    const events: TurboEvent[] = [];
    const watch = new CommandWatch((e) => events.push(e));

    watch.push('@scope/api:build: cache mi');
    watch.push('ss, executing 1\n@scope/api:build: > tsc\n@scope/config:build: cache hit, replaying logs 2\n');
    watch.push('@scope/api:test: ERROR: command finished with error\nSummary:    /x/.turbo/runs/r.json');
    watch.end();

    expect(events).toEqual([
      { kind: 'started', task: '@scope/api#build' },
      { kind: 'failed', task: '@scope/api#test' },
    ]);
    expect(watch.replayed).toBe(1);
    expect(watch.summaryFile).toBe('/x/.turbo/runs/r.json');
    expect(watch.lastLine).toBe('Summary:    /x/.turbo/runs/r.json');
  });

  it('when described, then it says how long it ran, what Turborepo did and how long the output has been quiet', () => {
    let now = 0;
    const watch = new CommandWatch(() => undefined, () => now);
    watch.push('@scope/infra:test: cache miss, executing 1\n@scope/infra:test: PASS a.test.ts\n');
    now = 12_000;

    expect(watch.describe(95_000)).toBe('running for 1m35s; 1 task started, 0 replayed from the cache; last output 12s ago, from @scope/infra#test');
  });

  it('when a line is redrawn with carriage returns, then the last line is what a terminal would show', () => {
    const watch = new CommandWatch(() => undefined);
    watch.push('progress 10%\rprogress 90%\r\n');

    expect(watch.lastLine).toBe('progress 90%');
  });

  it.each([
    [0, '0s'],
    [59_400, '59s'],
    [60_000, '1m00s'],
    [3_725_000, '62m05s'],
  ])('when %i ms pass, then duration says %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

/** A command that prints what `turbo run --summarize` prints, and writes the summary it names. */
const FAKE_TURBO = `version: 0.2
phases:
  build:
    commands:
      - |
        mkdir -p .turbo/runs
        echo '{"tasks":[{"taskId":"@scope/api#build","cache":{"status":"MISS"},"execution":{"startTime":1000,"endTime":4500,"exitCode":0}},{"taskId":"@scope/config#build","cache":{"status":"HIT"},"execution":{"startTime":1000,"endTime":1100,"exitCode":0}}]}' > .turbo/runs/r1.json
        echo '@scope/config:build: cache hit, replaying logs 1'
        echo '@scope/api:build: cache miss, executing 2'
        echo '@scope/api:build: > tsc'
        echo 'Summary:    .turbo/runs/r1.json'
`;

describe('progress of a build', () => {
  it('when a command runs Turborepo, then its task starts show as they come and each task time once it is over, not its output', async () => {
    const repo = createRepo({ 'buildspec.yml': FAKE_TURBO });

    const { lines, result } = await build(repo);

    expect(result.succeeded).toBe(true);
    const shown = lines.map((l) => l.replace(/^\[build\] /, ''));
    const start = shown.indexOf('  ▸ @scope/api#build');
    expect(start).toBeGreaterThan(shown.findIndex((l) => l.startsWith('  $ ')));
    expect(shown.slice(start + 1, start + 3)).toEqual(['  ✓ @scope/api#build 3.5 s', '  turbo: 1 of 2 tasks ran, 1 replayed from the Turborepo cache']);
    expect(shown.join('\n')).not.toContain('> tsc');
    expect(shown.join('\n')).not.toContain('@scope/config#build 0.1 s');
  });

  it('when a command is quiet for longer than the heartbeat, then a plain line says it is still running and what it printed last', async () => {
    const repo = createRepo({ 'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - echo warming up; sleep 1.5\n` });

    const { progress } = await build(repo, { heartbeatMs: 400 });

    expect(progress).toMatch(/\[build\] {3}… running for \ds; last output \ds ago/);
  });

  it('when there is a terminal, then the status line is drawn in place and erased, and progress lines stay plain', async () => {
    const repo = createRepo({ 'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - echo first line; sleep 2.5\n` });
    let drawn = '';
    const terminal = { columns: 60, write: (text: string) => ((drawn += text), true) };

    const { progress } = await build(repo, { statusLine: terminal, heartbeatMs: 400 });

    // eslint-disable-next-line no-control-regex -- the status line is made of terminal escape codes
    expect(drawn).toMatch(/\r\u001b\[K {2}… running for \ds; last output \ds ago · first line/);
    expect(drawn.endsWith('\r\u001b[K')).toBe(true);
    for (const segment of drawn.split('\r\u001b[K')) expect(segment.length).toBeLessThanOrEqual(59);
    expect(progress).not.toContain('running for');
    expect(progress).not.toContain('\u001b');
  });
});
