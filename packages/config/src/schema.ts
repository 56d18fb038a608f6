import { z } from 'zod';

import { DEFAULT_SHUTDOWN_TIMEOUT_MS, SERVICE_NAME, SERVICE_PORT, STARTUP_TIMEOUT_MS } from './contract';

/**
 * How a key may be supplied.
 * - `default`: the value used when no source sets the key (every key that is not `ssmRequired` has one,
 *   so `npm start` works on a laptop with nothing set).
 * - `ssmRequired`: when an SSM path is configured (on AWS), the key must be present in Parameter Store.
 *   This catches the classic mistake of a production stack silently running on the laptop default.
 */
export interface KeySpec<T extends z.ZodType = z.ZodType> {
  /** Parses the key's text (from the environment or Parameter Store) into its value; carries the default. */
  readonly schema: T;
  readonly description: string;
  /** When CONFIG_SSM_PATH is set, the key must be present in Parameter Store. @default false */
  readonly ssmRequired?: boolean;
}

/** The spec of every key, by name. */
export type KeySpecs = Readonly<Record<string, KeySpec>>;

/** Declares one config key (keeps its zod type precise for `Config`). */
export function configKey<T extends z.ZodType>(spec: KeySpec<T>): KeySpec<T> {
  return spec;
}
const key = configKey;

/**
 * A whole number written in decimal digits and nothing else. Coercion
 * (`Number(text)`) would also accept ` 38402 `, `0x9603`, `1e3` and the empty
 * string (as 0), so a typo or a hex value would quietly become another number.
 */
export function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number written in decimal digits only')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every config key the service reads: its type, default and meaning.
 *
 * Key names are environment-variable style. A Parameter Store parameter maps to
 * a key by its path below `CONFIG_SSM_PATH`, upper-cased, with `/` and `-` as
 * `_`: `/conveyor-api/prod/greeting` is `GREETING`, `/conveyor-api/prod/db/host`
 * is `DB_HOST`.
 */
export const configKeys = {
  SERVICE_NAME: key({
    schema: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes').default(SERVICE_NAME),
    description: 'Service name reported by /health and on every log line.',
  }),
  APP_ENV: key({
    schema: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lowercase letters, digits and dashes').default('local'),
    description: 'Deployment environment name (local, staging, prod...).',
  }),
  HOST: key({
    schema: z.string().min(1).default('0.0.0.0'),
    description: 'Interface to listen on. 0.0.0.0 so the load balancer can reach the instance.',
  }),
  PORT: key({
    schema: wholeNumber(1, 65_535).default(SERVICE_PORT),
    description: 'TCP port to listen on; the ALB target group forwards to it.',
  }),
  LOG_LEVEL: key({
    schema: z.enum(LOG_LEVELS).default('info'),
    description: `Minimum log level: ${LOG_LEVELS.join(', ')}.`,
  }),
  GREETING: key({
    schema: z.string().trim().min(1).max(100).default('Hello'),
    description: 'Greeting word used by GET /api/greeting. Change it in Parameter Store to see config reach behaviour.',
    ssmRequired: true,
  }),
  SHUTDOWN_TIMEOUT_MS: key({
    schema: wholeNumber(1_000, 600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    description: 'Graceful-shutdown deadline in ms; requests still running then are abandoned and the process exits 1.',
  }),
  SHUTDOWN_IDLE_GRACE_MS: key({
    schema: wholeNumber(0, 60_000).default(1_000),
    description:
      'After shutdown begins, how long a connection with no request in flight (idle keep-alive, or never used) stays open so a request arriving on it is answered (with Connection: close) instead of reset; then it is closed.',
  }),
  STARTUP_TIMEOUT_MS: key({
    schema: wholeNumber(2_000, 600_000).default(STARTUP_TIMEOUT_MS),
    description:
      "Boot budget in ms, counted from the process's start: pm2's listen_timeout is set from the same variable, and the Parameter Store read is abandoned (exit 1, cause logged) in time to leave 1 s of it for binding the port.",
  }),
  JSON_BODY_LIMIT_BYTES: key({
    schema: wholeNumber(1, 10_485_760).default(16_384),
    description: 'Largest JSON request body accepted, in bytes; larger bodies get 413.',
  }),
  CONFIG_SSM_PATH: key({
    schema: z
      .string()
      .regex(/^(\/[A-Za-z0-9_.-]+)+\/$/, 'must look like /<service>/<environment>/')
      .optional(),
    description: 'Parameter Store path to read at boot (e.g. /conveyor-api/prod/). Unset: no AWS call is made.',
  }),
  AWS_REGION: key({
    schema: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
    description: 'Region of the Parameter Store to read. Required when CONFIG_SSM_PATH is set.',
  }),
} as const;

export type ConfigKey = keyof typeof configKeys;

/** The zod object schema of a set of key specs, each key described. */
export function schemaOf<K extends KeySpecs>(keys: K) {
  const shape = Object.fromEntries(Object.entries(keys).map(([name, spec]) => [name, spec.schema.describe(spec.description)]));
  return z.object(shape as { -readonly [P in keyof K]: K[P]['schema'] });
}

/** The config object a set of key specs describes. */
export type ConfigOf<K extends KeySpecs> = z.output<ReturnType<typeof schemaOf<K>>>;

/** The zod schema of the whole config object. */
export const configSchema = schemaOf(configKeys);

/** The validated runtime configuration. */
export type Config = z.infer<typeof configSchema>;

export const CONFIG_KEY_NAMES = Object.keys(configKeys) as ConfigKey[];

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(configKeys, name);
}

/**
 * Keys that say where and how long to read config from, so they can only come
 * from the environment (STARTUP_TIMEOUT_MS also sets pm2's listen_timeout). A
 * Parameter Store parameter named after one of them is ignored.
 */
export const ENVIRONMENT_ONLY_KEYS: readonly string[] = ['CONFIG_SSM_PATH', 'AWS_REGION', 'STARTUP_TIMEOUT_MS'] satisfies readonly ConfigKey[];
