// The loader fails closed: what is set must be meaningful, numbers are
// decimal digits, and off a laptop Parameter Store is not optional. Checked
// over generated inputs, and over every key of the schema, not the example's.
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';

import { ConfigError, LOCAL_ENVIRONMENTS, configKeys, describeConfigKeys, loadConfig, requiredParameters } from '../index';

const ssm = mockClient(SSMClient);
const SSM_PATH = '/svc/env/';

beforeEach(() => {
  ssm.reset();
});

async function problemsOf(promise: Promise<unknown>): Promise<{ key: string; source: string; problem: string }[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

/** The keys whose schema parses a whole number (the ones with a numeric default). */
const NUMBER_KEYS = describeConfigKeys().filter((info) => info.defaultText !== undefined && /^[0-9]+$/.test(info.defaultText)).map((info) => info.key);
const ALL_KEYS = Object.keys(configKeys);

describe('empty values', () => {
  it('when any key is set to the empty string in the environment, then the error names that key and its variable', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALL_KEYS), async (key) => {
        const problems = await problemsOf(loadConfig({ env: { [key]: '' } }));

        expect(problems).toEqual([expect.objectContaining({ key, source: `environment variable ${key}`, problem: expect.stringContaining('empty') as string })]);
      }),
      { numRuns: ALL_KEYS.length * 2 },
    );
  });

  it('when CONFIG_SSM_PATH is set but empty in a deployed environment, then it does not boot on defaults', async () => {
    const problems = await problemsOf(loadConfig({ env: { APP_ENV: 'prod', CONFIG_SSM_PATH: '' } }));

    expect(problems.map((p) => p.key)).toEqual(['CONFIG_SSM_PATH']);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('when a parameter in Parameter Store is empty, then the error names the key and the parameter', async () => {
    const [first] = describeConfigKeys().filter((info) => info.parameter !== undefined && !info.ssmRequired);
    if (!first?.parameter) throw new Error('the schema has no optional Parameter Store key');
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [...requiredParameters(SSM_PATH).map((p) => ({ Name: p.name, Value: p.value })), { Name: `${SSM_PATH}${first.parameter}`, Value: '' }],
    });

    const problems = await problemsOf(
      loadConfig({ env: { CONFIG_SSM_PATH: SSM_PATH, AWS_REGION: 'eu-west-1' }, ssmClient: new SSMClient({ region: 'eu-west-1' }) }),
    );

    expect(problems).toEqual([expect.objectContaining({ key: first.key, source: `SSM parameter ${SSM_PATH}${first.parameter}` })]);
  });
});

describe('numbers', () => {
  it('when a number is written as anything but decimal digits, then it is rejected naming the key, never quoting the value', async () => {
    expect(NUMBER_KEYS).toContain('PORT');
    const notDigits = fc.oneof(
      fc.constantFrom('0x9603', ' 38402 ', '38402 ', '+80', '-1', '1e3', '80.0', '8_080', '0b101', 'Infinity', '٣٠٠٠'),
      fc.string({ minLength: 1, maxLength: 12 }).filter((text) => !/^[0-9]+$/.test(text)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...NUMBER_KEYS), notDigits, async (key, text) => {
        const problems = await problemsOf(loadConfig({ env: { [key]: text } }));

        expect(problems.map((p) => p.key)).toEqual([key]);
        // Hostile values all hold a digit; the messages name the rule, never the value.
        expect(problems.every((p) => !/[0-9]/.test(text) || !p.problem.includes(text.trim()))).toBe(true);
      }),
    );
  });

  it('when a number is decimal digits within its range, then it is that number', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2_000, max: 60_000 }), async (value) => {
        const config = await loadConfig({ env: { SHUTDOWN_TIMEOUT_MS: String(value), STARTUP_TIMEOUT_MS: String(value), PORT: String(value) } });

        expect([config.SHUTDOWN_TIMEOUT_MS, config.STARTUP_TIMEOUT_MS, config.PORT]).toEqual([value, value, value]);
      }),
    );
  });
});

describe('Parameter Store off a laptop', () => {
  const deployed = fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/).filter((name) => !LOCAL_ENVIRONMENTS.includes(name));

  it('when APP_ENV names a deployed environment and CONFIG_SSM_PATH is unset, then it refuses to boot naming CONFIG_SSM_PATH, not the environment', async () => {
    await fc.assert(
      fc.asyncProperty(deployed, async (appEnv) => {
        const problems = await problemsOf(loadConfig({ env: { APP_ENV: appEnv } }));

        expect(problems.map((p) => p.key)).toEqual(['CONFIG_SSM_PATH']);
        expect(ssm.calls()).toHaveLength(0);
      }),
    );
  });

  it.each([...LOCAL_ENVIRONMENTS.map((name) => [name]), ['(unset)']])('when APP_ENV is %s, then it boots on defaults without Parameter Store', async (appEnv) => {
    const config = await loadConfig({ env: appEnv === '(unset)' ? {} : { APP_ENV: appEnv } });

    expect(config.CONFIG_SSM_PATH).toBeUndefined();
    expect(ssm.calls()).toHaveLength(0);
  });
});
