import { paginateGetParametersByPath, type SSMClient } from '@aws-sdk/client-ssm';

import { ConfigSourceError } from './errors';

/** A parameter read from Parameter Store, keyed by config key name. */
export interface SsmParameter {
  /** Full parameter name, for error messages: `/conveyor-api/prod/greeting`. */
  readonly name: string;
  readonly value: string;
}

export interface ReadSsmOptions {
  readonly client: SSMClient;
  /** The path to read, with a trailing slash: `/conveyor-api/prod/`. */
  readonly path: string;
  /**
   * How many times the whole read is tried when SSM throttles or fails with a
   * 5xx (on top of the SDK's own per-call retries).
   * @default 3
   */
  readonly attempts?: number;
  /** @default 250 (doubled on each attempt, with jitter) */
  readonly baseDelayMs?: number;
  /** Injected for tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Maps a parameter name below `path` to a config key:
 * `/svc/prod/db/host` below `/svc/prod/` is `DB_HOST`.
 */
export function parameterNameToKey(path: string, name: string): string {
  return name.slice(path.length).replace(/[/-]/g, '_').toUpperCase();
}

/**
 * Reads every parameter below `path` (recursive, SecureStrings decrypted, every
 * page), keyed by config key name.
 */
export async function readSsmParameters(options: ReadSsmOptions): Promise<Map<string, SsmParameter>> {
  const { attempts = 3, baseDelayMs = 250, sleep = defaultSleep } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await readAllPages(options.client, options.path);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) {
        throw new ConfigSourceError(
          `Could not read SSM Parameter Store path ${options.path} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ` +
            `${describeAwsError(error)}. Check the instance role allows ssm:GetParametersByPath on this path, ` +
            `that AWS_REGION is right, and that the instance can reach the SSM endpoint.`,
          { cause: error },
        );
      }
      const delay = baseDelayMs * 2 ** (attempt - 1);
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}

async function readAllPages(client: SSMClient, path: string): Promise<Map<string, SsmParameter>> {
  const parameters = new Map<string, SsmParameter>();
  const pages = paginateGetParametersByPath(
    { client },
    { Path: path, Recursive: true, WithDecryption: true },
  );
  for await (const page of pages) {
    for (const parameter of page.Parameters ?? []) {
      if (parameter.Name === undefined || parameter.Value === undefined) continue;
      parameters.set(parameterNameToKey(path, parameter.Name), { name: parameter.Name, value: parameter.Value });
    }
  }
  return parameters;
}

const RETRYABLE_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'InternalServerError', 'InternalServerErrorException']);

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return RETRYABLE_NAMES.has(error.name) || (status !== undefined && status >= 500);
}

/** The error's name and first line, without stack: AWS messages name resources, never parameter values. */
function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const firstLine = (error.message.split('\n')[0] ?? '').slice(0, 300);
  return firstLine ? `${error.name}: ${firstLine}` : error.name;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
