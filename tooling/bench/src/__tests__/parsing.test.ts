import { childEnv } from '../support/child-env';
import { minuteLongReps } from '../support/reps';
import { parseTurboSummary } from '../support/turbo';

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
