import { SSMClient } from '@aws-sdk/client-ssm';

import { ConfigError, type ConfigProblem } from './errors';
import { CONFIG_KEY_NAMES, configKeys, configSchema, isConfigKey, type Config, type ConfigKey } from './schema';
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

/**
 * Keys that say where and how long to read config from, so they can only come
 * from the environment (STARTUP_TIMEOUT_MS also sets pm2's listen_timeout).
 */
const BOOTSTRAP_KEYS: readonly ConfigKey[] = ['CONFIG_SSM_PATH', 'AWS_REGION', 'STARTUP_TIMEOUT_MS'];

/**
 * The Parameter Store name a key is expected under: lower case, `_` as `-`.
 * `GREETING` below `/conveyor-api/prod/` is `/conveyor-api/prod/greeting`.
 */
export function keyToParameterName(ssmPath: string, key: string): string {
  return `${ssmPath}${key.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * Builds the validated config: defaults, overridden by environment variables,
 * overridden by Parameter Store when CONFIG_SSM_PATH is set.
 *
 * Parameter Store wins over the environment because on an instance the
 * environment comes from the bundle, which is identical in every environment;
 * Parameter Store is where one environment differs from another.
 *
 * @throws ConfigError naming every invalid or missing key and its source.
 * @throws ConfigSourceError when Parameter Store cannot be read.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const startedAtMs = options.startedAtMs ?? Date.now();
  const env = options.env ?? process.env;
  const raw: Partial<Record<ConfigKey, string>> = {};
  const sources: Partial<Record<ConfigKey, string>> = {};

  for (const key of CONFIG_KEY_NAMES) {
    const value = env[key];
    if (value !== undefined && value !== '') {
      raw[key] = value;
      sources[key] = `environment variable ${key}`;
    }
  }

  const problems: ConfigProblem[] = [];
  const bootstrap = configSchema.pick({ CONFIG_SSM_PATH: true, AWS_REGION: true, STARTUP_TIMEOUT_MS: true }).safeParse(raw);
  if (!bootstrap.success) throw new ConfigError(toProblems(bootstrap.error.issues, sources));

  const ssmPath = bootstrap.data.CONFIG_SSM_PATH;
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
      if (!isConfigKey(name) || BOOTSTRAP_KEYS.includes(name)) {
        ignored.push(parameter.name);
        continue;
      }
      raw[name] = parameter.value;
      sources[name] = `SSM parameter ${parameter.name}`;
    }
    if (ignored.length > 0) {
      options.logger?.warn({ parameters: ignored }, 'Ignoring Parameter Store parameters that match no config key');
    }
    for (const key of CONFIG_KEY_NAMES) {
      if (isSsmRequired(key) && !parameters.has(key)) {
        problems.push({
          key,
          source: `SSM parameter ${keyToParameterName(ssmPath, key)}`,
          problem: 'is required in Parameter Store when CONFIG_SSM_PATH is set, but the parameter does not exist',
        });
      }
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...toProblems(parsed.error.issues, sources));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  options.logger?.info(
    { sources: Object.fromEntries(CONFIG_KEY_NAMES.map((key) => [key, sources[key] ?? (parsed.data[key] === undefined ? 'unset' : 'default')])) },
    'Configuration loaded',
  );
  return parsed.data;
}

function isSsmRequired(key: ConfigKey): boolean {
  const spec: { readonly ssmRequired?: boolean } = configKeys[key];
  return spec.ssmRequired === true;
}

function toProblems(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  sources: Partial<Record<ConfigKey, string>>,
): ConfigProblem[] {
  return issues.map((issue) => {
    const key = String(issue.path[0] ?? '(config)');
    const source = isConfigKey(key) ? (sources[key] ?? 'default') : 'config';
    return { key, source, problem: issue.message };
  });
}
