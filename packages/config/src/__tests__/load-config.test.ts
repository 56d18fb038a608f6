import { GetParametersByPathCommand, SSMClient, SSMServiceException, type ParameterType } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { z } from 'zod';

import { ConfigError, ConfigSourceError, configKey, configKeys, describeConfigKeys, loadConfig, requiredParameters, type ConfigLogger } from '../index';

const ssm = mockClient(SSMClient);
const SSM_PATH = '/svc/prod/';
const ssmEnv = { CONFIG_SSM_PATH: SSM_PATH, AWS_REGION: 'eu-west-1' };
const noWait = { attempts: 3, baseDelayMs: 1, sleep: () => Promise.resolve() };

function param(name: string, value: string, type: ParameterType = 'String') {
  return { Name: `${SSM_PATH}${name}`, Value: value, Type: type };
}

/** What every stub holds: a parameter for each key the schema marks required, whatever those keys are. */
function required(keys = configKeys) {
  return requiredParameters(SSM_PATH, keys).map(({ name, value }) => ({ Name: name, Value: value, Type: 'String' as const }));
}

/** A copy of the schema with one more key that is required in Parameter Store, as a fork would add. */
const extendedKeys = {
  ...configKeys,
  REGION_LABEL: configKey({ schema: z.string().min(1).default('laptop'), description: 'A second required key.', ssmRequired: true }),
  API_TOKEN: configKey({ schema: z.string().min(8).optional(), description: 'A secret a fork adds as a SecureString.' }),
};

function throttling(): SSMServiceException {
  return new SSMServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });
}

/** A logger that keeps every line it is given, serialized as pino would write it. */
function capturingLogger(): ConfigLogger & { lines: string[] } {
  const lines: string[] = [];
  const write = (obj: Record<string, unknown>, msg: string) => lines.push(JSON.stringify({ ...obj, msg }));
  return { lines, info: write, warn: write };
}

async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected the promise to reject with an Error');
}

beforeEach(() => {
  ssm.reset();
});

describe('loadConfig from defaults and environment', () => {
  it('when nothing is set, then every key has its documented default and no AWS call is made', async () => {
    const config = await loadConfig({ env: {} });

    expect(config).toMatchObject({ SERVICE_NAME: 'conveyor-api', PORT: 3000, GREETING: 'Hello', APP_ENV: 'local' });
    expect(config.CONFIG_SSM_PATH).toBeUndefined();
    expect(ssm.calls()).toHaveLength(0);
  });

  it('when environment variables are set, then they override defaults with their types coerced', async () => {
    const config = await loadConfig({ env: { PORT: '8080', LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '2500' } });

    expect(config.PORT).toBe(8080);
    expect(config.LOG_LEVEL).toBe('warn');
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(2500);
  });

  it('when an environment value is invalid, then the error names the key and the variable but not the value', async () => {
    const error = await captureError(loadConfig({ env: { PORT: 'not-a-port-7f3a' } }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('PORT (environment variable PORT)');
    expect(error.message).not.toContain('not-a-port-7f3a');
  });

  it('when several values are invalid, then every one is reported at once', async () => {
    const error = await captureError(loadConfig({ env: { PORT: '0', LOG_LEVEL: 'loud' } }));

    expect((error as ConfigError).problems.map((p) => p.key).sort()).toEqual(['LOG_LEVEL', 'PORT']);
  });

  it('when CONFIG_SSM_PATH is set without AWS_REGION, then the error names AWS_REGION', async () => {
    const error = await captureError(loadConfig({ env: { CONFIG_SSM_PATH: SSM_PATH } }));

    expect(error.message).toContain('AWS_REGION');
    expect(ssm.calls()).toHaveLength(0);
  });

  it('when CONFIG_SSM_PATH is not a path, then the error names it', async () => {
    const error = await captureError(loadConfig({ env: { CONFIG_SSM_PATH: 'not-a-path', AWS_REGION: 'eu-west-1' } }));

    expect(error.message).toContain('CONFIG_SSM_PATH (environment variable CONFIG_SSM_PATH)');
  });
});

describe('loadConfig from SSM Parameter Store', () => {
  it('when parameters span several pages, then all pages are read with the right request and merged', async () => {
    const pages = [
      { Parameters: required(), NextToken: 'page-2' },
      { Parameters: [param('log-level', 'warn')], NextToken: 'page-3' },
      { Parameters: [param('port', '4000')] },
    ];
    // The paginator reuses one input object for every page, so copy each request as it is sent.
    const requests: unknown[] = [];
    ssm.on(GetParametersByPathCommand).callsFake((input: { NextToken?: string }) => {
      requests.push({ ...input });
      return pages[requests.length - 1];
    });

    const config = await loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }) });

    expect(config).toMatchObject({ LOG_LEVEL: 'warn', PORT: 4000 });
    expect(requests).toEqual([
      { Path: SSM_PATH, Recursive: true, WithDecryption: true },
      { Path: SSM_PATH, Recursive: true, WithDecryption: true, NextToken: 'page-2' },
      { Path: SSM_PATH, Recursive: true, WithDecryption: true, NextToken: 'page-3' },
    ]);
  });

  it('when a parameter sits in a nested path, then its path segments become the key', async () => {
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [...required(), param('json/body-limit-bytes', '2048')],
    });

    const config = await loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }) });

    expect(config.JSON_BODY_LIMIT_BYTES).toBe(2048);
  });

  it('when SSM and the environment both set a key, then Parameter Store wins', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [...required(), param('log-level', 'warn')] });

    const config = await loadConfig({
      env: { ...ssmEnv, LOG_LEVEL: 'debug' },
      ssmClient: new SSMClient({ region: 'eu-west-1' }),
    });

    expect(config.LOG_LEVEL).toBe('warn');
  });

  it('when the required keys are missing from Parameter Store, then the error names each key and its expected parameter, whatever the environment sets', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [param('log-level', 'info')] });
    const requiredKeys = describeConfigKeys(extendedKeys).filter((info) => info.ssmRequired);
    const fromEnv = Object.fromEntries(requiredKeys.map((info) => [info.key, info.defaultText ?? 'x']));

    const error = await captureError(
      loadConfig({ keys: extendedKeys, env: { ...ssmEnv, ...fromEnv }, ssmClient: new SSMClient({ region: 'eu-west-1' }) }),
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect(requiredKeys.map((info) => info.key)).toContain('REGION_LABEL');
    expect((error as ConfigError).problems).toEqual(
      requiredKeys.map((info) => expect.objectContaining({ key: info.key, source: `SSM parameter ${SSM_PATH}${info.parameter ?? ''}` }) as unknown),
    );
  });

  it('when the schema gains a required key, then stubs built from the schema follow it, and a stub of the old keys fails naming it', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: required(extendedKeys) });

    const config = await loadConfig({ keys: extendedKeys, env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }) });
    ssm.reset();
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: required() });
    const error = await captureError(loadConfig({ keys: extendedKeys, env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }) }));

    expect(config.REGION_LABEL).toBe('laptop');
    expect(required(extendedKeys).map((p) => p.Name)).toContain(`${SSM_PATH}region-label`);
    expect((error as ConfigError).problems.map((p) => p.key)).toEqual(['REGION_LABEL']);
  });

  it('when a parameter value is invalid, then the error names the key and the parameter, not the value', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [...required(), param('port', 'eighty')] });

    const error = await captureError(loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }) }));

    expect(error.message).toContain('PORT (SSM parameter /svc/prod/port)');
    expect(error.message).not.toContain('eighty');
  });

  it('when SSM throttles once, then the read is retried and succeeds', async () => {
    ssm
      .on(GetParametersByPathCommand)
      .rejectsOnce(throttling())
      .resolves({ Parameters: [...required(), param('log-level', 'error')] });

    const config = await loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }), ssmRetry: noWait });

    expect(config.LOG_LEVEL).toBe('error');
    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(2);
  });

  it('when SSM keeps throttling, then it gives up after the configured attempts with a clear error', async () => {
    ssm.on(GetParametersByPathCommand).rejects(throttling());

    const error = await captureError(
      loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }), ssmRetry: noWait }),
    );

    expect(error).toBeInstanceOf(ConfigSourceError);
    expect(error.message).toMatch(/Could not read SSM Parameter Store path \/svc\/prod\/ after 3 attempts: ThrottlingException/);
    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(3);
  });

  it('when SSM is unreachable, then the error says so once, without retrying a non-retryable failure', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'Error', code: 'ECONNREFUSED' });
    ssm.on(GetParametersByPathCommand).rejects(refused);

    const error = await captureError(
      loadConfig({ env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }), ssmRetry: noWait }),
    );

    expect(error).toBeInstanceOf(ConfigSourceError);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('ssm:GetParametersByPath');
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('when SSM has not finished by the end of the startup budget, then the read is abandoned with an error naming the budget and the path', async () => {
    ssm.on(GetParametersByPathCommand).callsFake(() => new Promise(() => undefined));

    const error = await captureError(
      loadConfig({
        env: { ...ssmEnv, STARTUP_TIMEOUT_MS: '2000' },
        ssmClient: new SSMClient({ region: 'eu-west-1' }),
        // Started 900 ms ago: 100 ms of the budget are left before the 1 s kept for binding the port.
        startedAtMs: Date.now() - 900,
      }),
    );

    expect(error).toBeInstanceOf(ConfigSourceError);
    expect(error.message).toContain(
      'Could not read SSM Parameter Store path /svc/prod/ within the startup budget (STARTUP_TIMEOUT_MS=2000): attempt 1 had not finished (0 pages read)',
    );
  });

  it('when SSM throttles and the next retry could not start before the deadline, then it stops at once with the last error', async () => {
    ssm.on(GetParametersByPathCommand).rejects(throttling());

    const error = await captureError(
      loadConfig({
        env: { ...ssmEnv, STARTUP_TIMEOUT_MS: '2000' },
        ssmClient: new SSMClient({ region: 'eu-west-1' }),
        ssmRetry: { attempts: 3, baseDelayMs: 60_000, sleep: () => Promise.resolve() },
      }),
    );

    expect(error.message).toContain('within the startup budget (STARTUP_TIMEOUT_MS=2000): 1 attempt, the last failed with ThrottlingException: Rate exceeded');
    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(1);
  });

  it('when Parameter Store holds a startup-timeout-ms parameter, then it is ignored: the budget comes only from the environment', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [...required(), param('startup-timeout-ms', '90000')] });
    const logger = capturingLogger();

    const config = await loadConfig({ env: { ...ssmEnv, STARTUP_TIMEOUT_MS: '5000' }, ssmClient: new SSMClient({ region: 'eu-west-1' }), logger });

    expect(config.STARTUP_TIMEOUT_MS).toBe(5000);
    expect(logger.lines.join('\n')).toContain('/svc/prod/startup-timeout-ms');
  });

  it('when a SecureString holds a secret, then no log line and no error message contains its value', async () => {
    const secret = 'sk_live_DO_NOT_LEAK_51d2';
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        ...required(extendedKeys),
        param('api-token', secret, 'SecureString'),
        param('port', secret, 'SecureString'),
        param('unknown/api-token', secret, 'SecureString'),
      ],
    });
    const logger = capturingLogger();

    const error = await captureError(
      loadConfig({ keys: extendedKeys, env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }), logger }),
    );
    ssm.reset();
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [...required(extendedKeys), param('api-token', secret, 'SecureString')] });
    const config = await loadConfig({ keys: extendedKeys, env: ssmEnv, ssmClient: new SSMClient({ region: 'eu-west-1' }), logger });

    expect(config.API_TOKEN).toBe(secret);
    expect(error.message).toContain('PORT');
    expect(error.message).not.toContain(secret);
    expect(logger.lines.join('\n')).toContain('API_TOKEN');
    expect(logger.lines.join('\n')).toContain('/svc/prod/unknown/api-token');
    expect(logger.lines.join('\n')).not.toContain(secret);
  });
});
