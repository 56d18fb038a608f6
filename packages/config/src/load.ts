import { SSMClient } from '@aws-sdk/client-ssm';

import { LOCAL_ENVIRONMENTS } from './contract';
import { ConfigError, type ConfigProblem } from './errors';
import { keyToParameterName } from './parameters';
import { configKeys, configSchema, ENVIRONMENT_ONLY_KEYS, schemaOf, type Config, type ConfigOf, type KeySpecs } from './schema';
import { readSsmParameters, type ReadSsmOptions } from './ssm';

/** The subset of a pino logger the loader uses. It logs key names and sources, never values. */
export interface ConfigLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface LoadConfigOptions {
  /** The environment to read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The SSM client. @default - one is created for AWS_REGION when CONFIG_SSM_PATH is set */
  readonly ssmClient?: SSMClient;
  /** Retry settings for the Parameter Store read. @default - see readSsmParameters */
  readonly ssmRetry?: Pick<ReadSsmOptions, 'attempts' | 'baseDelayMs' | 'sleep'>;
  /** Where to report which keys came from where. @default - nothing is logged */
  readonly logger?: ConfigLogger;
  /**
   * When the process started (a Date.now() value). STARTUP_TIMEOUT_MS counts
   * from there, as pm2's listen_timeout does from the fork.
   * @default - the moment loadConfig is called
   */
  readonly startedAtMs?: number;
}

/**
 * The SSM client's limits. Worst case for an unreachable endpoint:
 * 3 reads x 2 SDK attempts x (1 s connect + 3 s request) + backoff < 25 s,
 * inside STARTUP_TIMEOUT_MS (30 s). They do not bound an endpoint that answers
 * slowly page after page, or a socket that trickles: the startup deadline
 * below does.
 */
const SSM_CLIENT_SETTINGS = { maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } } as const;

/**
 * The part of STARTUP_TIMEOUT_MS kept for what follows the config read (build
 * info, binding the port, sending ready): the Parameter Store read is abandoned
 * this long before the budget ends, so the service exits 1 with the cause
 * logged before pm2's listen_timeout gives up on it without one.
 */
const AFTER_CONFIG_RESERVE_MS = 1_000;

const bootstrapSchema = configSchema.pick({ CONFIG_SSM_PATH: true, AWS_REGION: true, STARTUP_TIMEOUT_MS: true });

/**
 * Builds the validated config: defaults, overridden by environment variables,
 * overridden by Parameter Store when CONFIG_SSM_PATH is set.
 *
 * Parameter Store wins over the environment because on an instance the
 * environment comes from the bundle, which is identical in every environment;
 * Parameter Store is where one environment differs from another.
 *
 * It fails closed: a key that is set must have a value (an empty one is an
 * error, not "use the default"), and outside LOCAL_ENVIRONMENTS (APP_ENV)
 * CONFIG_SSM_PATH is required, so an instance cannot boot on laptop defaults.
 *
 * @throws ConfigError naming every invalid or missing key and its source.
 * @throws ConfigSourceError when Parameter Store cannot be read.
 */
export async function loadConfig(options?: LoadConfigOptions): Promise<Config>;
/** The same, for another set of key specs (a test's copy of `configKeys` with keys added). */
export async function loadConfig<K extends KeySpecs>(options: LoadConfigOptions & { readonly keys: K }): Promise<ConfigOf<K>>;
export async function loadConfig(options: LoadConfigOptions & { readonly keys?: KeySpecs } = {}): Promise<Record<string, unknown>> {
  const keys: KeySpecs = options.keys ?? configKeys;
  const schema = options.keys ? schemaOf(options.keys) : configSchema;
  const keyNames = Object.keys(keys);
  const isKey = (name: string) => Object.hasOwn(keys, name);
  const startedAtMs = options.startedAtMs ?? Date.now();
  const env = options.env ?? process.env;
  const raw: Record<string, string> = {};
  const sources: Record<string, string> = {};
  const problems: ConfigProblem[] = [];

  for (const key of keyNames) {
    const value = env[key];
    if (value === undefined) continue;
    // Set but empty is a mistake (an unfilled template, `export PORT=`), not a request for the default.
    if (value === '') problems.push({ key, source: `environment variable ${key}`, problem: EMPTY });
    raw[key] = value;
    sources[key] = `environment variable ${key}`;
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const bootstrap = bootstrapSchema.safeParse(raw);
  if (!bootstrap.success) throw new ConfigError(toProblems(bootstrap.error.issues, sources));

  const ssmPath = bootstrap.data.CONFIG_SSM_PATH;
  if (ssmPath === undefined && !LOCAL_ENVIRONMENTS.includes(raw.APP_ENV ?? 'local')) {
    throw new ConfigError([
      {
        key: 'CONFIG_SSM_PATH',
        source: 'environment variable CONFIG_SSM_PATH',
        problem: `is required when APP_ENV is not one of ${LOCAL_ENVIRONMENTS.join(', ')}: off a laptop, config comes from Parameter Store`,
      },
    ]);
  }
  if (ssmPath !== undefined) {
    const region = bootstrap.data.AWS_REGION;
    if (region === undefined) {
      throw new ConfigError([
        { key: 'AWS_REGION', source: 'environment variable AWS_REGION', problem: 'is required when CONFIG_SSM_PATH is set' },
      ]);
    }
    const client =
      options.ssmClient ??
      new SSMClient({ region, ...SSM_CLIENT_SETTINGS });
    const budgetMs = bootstrap.data.STARTUP_TIMEOUT_MS;
    const parameters = await readSsmParameters({
      client,
      path: ssmPath,
      ...options.ssmRetry,
      deadline: { atMs: startedAtMs + budgetMs - AFTER_CONFIG_RESERVE_MS, description: `the startup budget (STARTUP_TIMEOUT_MS=${budgetMs})` },
    });

    const ignored: string[] = [];
    for (const [name, parameter] of parameters) {
      if (!isKey(name) || ENVIRONMENT_ONLY_KEYS.includes(name)) {
        ignored.push(parameter.name);
        continue;
      }
      raw[name] = parameter.value;
      sources[name] = `SSM parameter ${parameter.name}`;
      if (parameter.value === '') problems.push({ key: name, source: sources[name], problem: EMPTY });
    }
    if (ignored.length > 0) {
      options.logger?.warn({ parameters: ignored }, 'Ignoring Parameter Store parameters that match no config key');
    }
    for (const key of keyNames) {
      if (keys[key]?.ssmRequired === true && !parameters.has(key)) {
        problems.push({
          key,
          source: `SSM parameter ${keyToParameterName(ssmPath, key)}`,
          problem: 'is required in Parameter Store when CONFIG_SSM_PATH is set, but the parameter does not exist',
        });
      }
    }
  }

  const parsed = schema.safeParse(raw);
  if (!parsed.success) problems.push(...toProblems(parsed.error.issues, sources).filter((p) => !problems.some((q) => q.key === p.key)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data as Record<string, unknown>;

  options.logger?.info(
    { sources: Object.fromEntries(keyNames.map((key) => [key, sources[key] ?? (config[key] === undefined ? 'unset' : 'default')])) },
    'Configuration loaded',
  );
  return config;
}

const EMPTY = 'is set but empty; give it a value, or unset it to use the default';

function toProblems(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  sources: Readonly<Record<string, string>>,
): ConfigProblem[] {
  return issues.map((issue) => {
    const key = String(issue.path[0] ?? '(config)');
    return { key, source: sources[key] ?? 'default', problem: issue.message };
  });
}
