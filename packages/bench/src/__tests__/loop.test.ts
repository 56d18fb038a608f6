// The loop section's pure parts: the baseline buildspec it derives, the phase
// times it reads from the rehearsal's output, and the table and goals it reports.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { parseBuildspec } from '@conveyor/local-pipeline';

import { CHANGE_LOOP_GOAL_S, FIRST_REHEARSAL_GOAL_S, loopResult, phaseSeconds, withoutInstallCache } from '../sections/loop';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const COMMITTED = readFileSync(path.join(REPO_ROOT, 'buildspec.yml'), 'utf8');

describe('withoutInstallCache', () => {
  it("when applied to the repo's buildspec.yml, then only the key, the fallback keys and the node_modules paths go; phases and the other caches stay", () => {
    const before = parseBuildspec(COMMITTED);
    const after = parseBuildspec(withoutInstallCache(COMMITTED));

    expect(after.cache?.key).toBeUndefined();
    expect(after.cache?.fallbackKeys).toEqual([]);
    expect(after.cache?.paths).toEqual(before.cache?.paths.filter((p) => !p.includes('node_modules')));
    expect(after.cache?.paths).toEqual(expect.arrayContaining(['.npm-cache/**/*', '.turbo/cache/**/*']));
    expect(after.phases).toEqual(before.phases);
    expect(after.artifacts).toEqual(before.artifacts);
    expect(after.reports).toEqual(before.reports);
  });

  it('when a section follows cache:, then it is kept whole', () => {
    const spec = `version: 0.2
phases:
  build:
    commands: ['true']
cache:
  key: k-$(codebuild-hash-files lock)
  fallback-keys:
    - k-
  paths:
    - "node_modules/**/*"
    - ".npm/**/*"
artifacts:
  files:
    - "**/*"
`;

    const after = parseBuildspec(withoutInstallCache(spec));

    expect(after.cache).toMatchObject({ key: undefined, fallbackKeys: [], paths: ['.npm/**/*'] });
    expect(after.artifacts?.files).toEqual(['**/*']);
  });
});

describe('phaseSeconds', () => {
  const output = ['[build] install started', '[build] install ... SUCCEEDED (12.3 s)', '[build] build ... FAILED (61 s)', '[build]   cache: key x found'].join('\n');

  it.each([
    ['install', 12.3],
    ['build', 61],
    ['post_build', undefined],
  ])('when the output has the %s phase, then its seconds are read', (phase, seconds) => {
    expect(phaseSeconds(output, phase)).toBe(seconds);
  });
});

describe('loopResult', () => {
  const rehearsal = (seconds: number, install?: number) => ({ seconds, install, build: seconds / 2 });

  it('when both variants ran, then the table has their medians and the ratio, and the goals judge the committed buildspec', () => {
    const result = loopResult(
      {
        cached: [{ first: rehearsal(80, 30), change: rehearsal(40, 2) }],
        uncached: [{ first: rehearsal(100, 30), change: rehearsal(80, 25) }],
      },
      1,
      'method',
    );

    const [table] = result.tables;
    expect(table?.rows[2]).toEqual(['ratio committed / install cache disabled', '', '0.800', '0.500', '', '']);
    expect(table?.rows[0]?.slice(1, 5)).toEqual([1, '80 s (80–80)', '40 s (40–40)', '2 s (2–2)']);
    expect(result.goals).toEqual([
      { name: 'first rehearsal until serving, seconds (median)', value: 80, target: `≤ ${FIRST_REHEARSAL_GOAL_S}`, met: true },
      { name: 'one-line change until the new revision serves, seconds (median)', value: 40, target: `≤ ${CHANGE_LOOP_GOAL_S}`, met: true },
    ]);
  });

  it('when a figure is missing (a phase line not found, a variant with no runs), then its cell says — and no goal is invented', () => {
    const result = loopResult({ cached: [{ first: rehearsal(200), change: rehearsal(60) }], uncached: [] }, 1, 'method');

    const [table] = result.tables;
    expect(table?.rows[0]?.[4]).toBe('—');
    expect(table?.rows[1]?.slice(1, 4)).toEqual([0, '—', '—']);
    expect(table?.rows[2]?.[2]).toBe('—');
    expect(result.goals.map((g) => g.met)).toEqual([false, false]);
  });
});
