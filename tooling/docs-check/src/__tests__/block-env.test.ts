import { blockEnv } from '../runner';

describe('blockEnv', () => {
  it("when the caller has a Turborepo cache, then the blocks' rehearsal builds get it and their own turbo runs do not", () => {
    const env = blockEnv({ PATH: '/usr/bin:/bin', HOME: '/home/reader', TURBO_CACHE_DIR: '/ci/.turbo/cache' }, '/checkout');

    expect(env['REHEARSAL_TURBO_CACHE_DIR']).toBe('/ci/.turbo/cache');
    expect(env).not.toHaveProperty('TURBO_CACHE_DIR');
  });

  it('when the caller has none, then neither variable is set', () => {
    const env = blockEnv({ PATH: '/usr/bin:/bin', HOME: '/home/reader' }, '/checkout');

    expect(env).not.toHaveProperty('REHEARSAL_TURBO_CACHE_DIR');
    expect(env).not.toHaveProperty('TURBO_CACHE_DIR');
  });
});
