import { z } from 'zod';

import { DEFAULT_SHUTDOWN_TIMEOUT_MS, SERVICE_NAME, SERVICE_PORT, STARTUP_TIMEOUT_MS } from './contract';

/**
 * How a key may be supplied.
 * - `default`: the value used when no source sets the key (every key that is not `ssmRequired` has one,
 *   so `npm start` works on a laptop with nothing set).
 * - `ssmRequired`: when an SSM path is configured (on AWS), the key must be present in Parameter Store.
 *   This catches the classic mistake of a production stack silently running on the laptop default.
 */
interface KeySpec<T extends z.ZodType> {
  readonly schema: T;
  readonly description: string;
  readonly ssmRequired?: boolean;
}

function key<T extends z.ZodType>(spec: KeySpec<T>): KeySpec<T> {
  return spec;
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
    schema: z.coerce.number().int().min(1).max(65_535).default(SERVICE_PORT),
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
    schema: z.coerce.number().int().min(1_000).max(600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    description: 'Graceful-shutdown deadline in ms; requests still running then are abandoned and the process exits 1.',
  }),
  SHUTDOWN_IDLE_GRACE_MS: key({
    schema: z.coerce.number().int().min(0).max(60_000).default(1_000),
    description:
      'After shutdown begins, how long an idle keep-alive connection stays open so its next request is answered (with Connection: close) instead of reset.',
  }),
  STARTUP_TIMEOUT_MS: key({
    schema: z.coerce.number().int().min(2_000).max(600_000).default(STARTUP_TIMEOUT_MS),
    description:
      "Boot budget in ms, counted from the process's start: pm2's listen_timeout is set from the same variable, and the Parameter Store read is abandoned (exit 1, cause logged) in time to leave 1 s of it for binding the port.",
  }),
  JSON_BODY_LIMIT_BYTES: key({
    schema: z.coerce.number().int().min(1).max(10_485_760).default(16_384),
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

type Shape = { [K in ConfigKey]: (typeof configKeys)[K]['schema'] };

const shape = Object.fromEntries(
  Object.entries(configKeys).map(([name, spec]) => [name, spec.schema.describe(spec.description)]),
) as unknown as Shape;

/** The zod schema of the whole config object. */
export const configSchema = z.object(shape);

/** The validated runtime configuration. */
export type Config = z.infer<typeof configSchema>;

export const CONFIG_KEY_NAMES = Object.keys(configKeys) as ConfigKey[];

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(configKeys, name);
}
