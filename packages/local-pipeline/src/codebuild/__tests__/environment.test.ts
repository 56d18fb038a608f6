// The environment the build's commands see.
// https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html
import { existsSync } from 'node:fs';
import path from 'node:path';

import { BuildspecError } from '../index';
import { cleanPath } from '../env';
import { build, createRepo, git, parentEnv, readBuilt, readEnvDump, TEST_TIMEOUT_MS } from './helpers';

jest.setTimeout(TEST_TIMEOUT_MS);

const DUMP_ENV = `version: 0.2
env:
  variables:
    FROM_BUILDSPEC: buildspec value
    LAYERED: from the buildspec
phases:
  build:
    commands:
      - env > env.txt
`;

async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the build to reject');
}

describe('variables CodeBuild sets', () => {
  it('when a build runs, then the CODEBUILD_ variables, CI and the region are set as CodeBuild sets them', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });
    const head = git(repo.root, ['rev-parse', 'HEAD']).trim();
    const before = Date.now();

    const { result } = await build(repo, { parentEnv: parentEnv({ AWS_REGION: 'eu-west-1' }) });

    const env = readEnvDump(repo, 'env.txt');
    expect(env).toMatchObject({
      CODEBUILD_SRC_DIR: repo.srcDir,
      CODEBUILD_BUILD_NUMBER: '1',
      CODEBUILD_INITIATOR: 'rehearsal',
      CODEBUILD_RESOLVED_SOURCE_VERSION: head,
      CODEBUILD_SOURCE_VERSION: head,
      CODEBUILD_BUILD_SUCCEEDING: '1',
      CODEBUILD_CI: 'true',
      CI: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(env['CODEBUILD_BUILD_ID']).toMatch(/^rehearsal:[0-9a-f-]{36}$/);
    expect(env['CODEBUILD_BUILD_ARN']).toBe(`arn:aws:codebuild:eu-west-1:000000000000:build/${env['CODEBUILD_BUILD_ID']}`);
    expect(Number(env['CODEBUILD_START_TIME'])).toBeGreaterThanOrEqual(before);
    expect(result.resolvedSourceVersion).toBe(head);
    expect(result.buildId).toBe(env['CODEBUILD_BUILD_ID']);
  });

  it('when no AWS_REGION is given, then the region is us-east-1', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });

    await build(repo);

    expect(readEnvDump(repo, 'env.txt')['CODEBUILD_BUILD_ARN']).toMatch(/^arn:aws:codebuild:us-east-1:000000000000:build\/rehearsal:/);
  });

  it('when the same work dir builds again, then CODEBUILD_BUILD_NUMBER increments', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });

    const first = await build(repo);
    const second = await build(repo);

    expect([first.result.buildNumber, second.result.buildNumber]).toEqual([1, 2]);
    expect(readEnvDump(repo, 'env.txt')['CODEBUILD_BUILD_NUMBER']).toBe('2');
  });
});

describe('variables from the buildspec, the overrides and the parent process', () => {
  it('when overrides are given, then they win over the buildspec and their names, not values, are printed', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });

    const { progress } = await build(repo, { envOverrides: { LAYERED: 'from an override', EXTRA: 'hush-hush' } });

    const env = readEnvDump(repo, 'env.txt');
    expect(env).toMatchObject({ FROM_BUILDSPEC: 'buildspec value', LAYERED: 'from an override', EXTRA: 'hush-hush' });
    expect(progress).toContain('local overrides: EXTRA, LAYERED (values not shown)');
    expect(progress).not.toContain('hush-hush');
  });

  it('when the parent has other variables, then only the allow-listed ones reach the build', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });

    await build(repo, {
      parentEnv: parentEnv({
        AWS_SECRET_ACCESS_KEY: 'not for the build',
        NODE_OPTIONS: '--inspect',
        npm_config_registry: 'https://registry.example.com/',
        npm_config_local_prefix: '/the/original/checkout',
        npm_package_name: 'example',
        LANG: 'C.UTF-8',
      }),
    });

    const env = readEnvDump(repo, 'env.txt');
    expect(env).toMatchObject({ npm_config_registry: 'https://registry.example.com/', LANG: 'C.UTF-8', HOME: process.env['HOME'] });
    expect(env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
    expect(env).not.toHaveProperty('NODE_OPTIONS');
    expect(env).not.toHaveProperty('npm_config_local_prefix');
    expect(env).not.toHaveProperty('npm_package_name');
  });

  it('when the parent sets REHEARSAL_TURBO_CACHE_DIR, then the build gets it as TURBO_CACHE_DIR, over the parent TURBO_CACHE_DIR', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV });

    await build(repo, { parentEnv: parentEnv({ TURBO_CACHE_DIR: '/the/callers/cache', REHEARSAL_TURBO_CACHE_DIR: '/the/rehearsals/cache' }) });

    const env = readEnvDump(repo, 'env.txt');
    expect(env['TURBO_CACHE_DIR']).toBe('/the/rehearsals/cache');
    expect(env).not.toHaveProperty('REHEARSAL_TURBO_CACHE_DIR');
  });

  it('when the buildspec sets a CODEBUILD_ variable, then CodeBuild keeps its own value and a warning says why', async () => {
    const repo = createRepo({ 'buildspec.yml': DUMP_ENV.replace('    LAYERED:', '    CODEBUILD_BUILD_NUMBER: "99"\n    LAYERED:') });

    const { progress } = await build(repo);

    expect(readEnvDump(repo, 'env.txt')['CODEBUILD_BUILD_NUMBER']).toBe('1');
    expect(progress).toContain('warning: CODEBUILD_BUILD_NUMBER is not set: the CODEBUILD_ prefix is reserved');
  });

  it('when the buildspec sets PATH to "$PATH:/x", then the value is literal, as the reference warns, and bash still starts', async () => {
    const repo = createRepo({
      'buildspec.yml': `version: 0.2\nenv:\n  variables:\n    PATH: $PATH:/usr/share/ant/bin\nphases:\n  build:\n    commands: ['echo "$PATH" > path.txt']\n`,
    });

    const { result } = await build(repo);

    expect(result.succeeded).toBe(true);
    expect(readBuilt(repo, 'path.txt')).toBe('$PATH:/usr/share/ant/bin\n');
  });

  it('when PATH has node_modules/.bin or checkout entries, then they are dropped so the build uses its own tools', () => {
    const root = path.resolve('/work/repo');
    const value = ['/work/repo/node_modules/.bin', '/work/node_modules/.bin', '/work/repo/scripts', '/usr/local/bin', '/usr/bin'].join(
      path.delimiter,
    );

    expect(cleanPath(value, root)).toBe(['/usr/local/bin', '/usr/bin'].join(path.delimiter));
  });
});

describe('secrets that need AWS', () => {
  const WITH_SECRETS = `version: 0.2
env:
  parameter-store:
    DB_PASSWORD: /example/db/password
    API_TOKEN: /example/api/token
phases:
  build:
    commands:
      - env > env.txt
`;

  it('when the buildspec reads Parameter Store, then the build is refused naming each key before anything runs', async () => {
    const repo = createRepo({ 'buildspec.yml': WITH_SECRETS });

    const error = await captureError(build(repo));

    expect(error).toBeInstanceOf(BuildspecError);
    expect((error as BuildspecError).problems.map((p) => p.key)).toEqual(['env.parameter-store.DB_PASSWORD', 'env.parameter-store.API_TOKEN']);
    expect(error.message).toMatch(/Parameter Store, which needs an AWS account; the local rehearsal does not support it/);
    expect(error.message).toMatch(/Pass a local value for DB_PASSWORD as an override/);
    expect(existsSync(path.join(repo.srcDir, 'env.txt'))).toBe(false);
  });

  it('when overrides provide those names, then the build runs with the local values', async () => {
    const repo = createRepo({ 'buildspec.yml': WITH_SECRETS });

    const { result } = await build(repo, { envOverrides: { DB_PASSWORD: 'local-db', API_TOKEN: 'local-token' } });

    expect(result.succeeded).toBe(true);
    expect(readEnvDump(repo, 'env.txt')).toMatchObject({ DB_PASSWORD: 'local-db', API_TOKEN: 'local-token' });
  });
});
