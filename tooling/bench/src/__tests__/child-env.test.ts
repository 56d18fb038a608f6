import { childEnv } from '../support/child-env';

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
