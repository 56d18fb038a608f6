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
  /**
   * When the read must be over, whatever SSM is doing: a read still running
   * then is abandoned, and no retry starts that could not finish before it.
   * `description` names the budget in the error (`the startup budget (...)`).
   * @default - no deadline: only the client's own timeouts bound the read
   */
  readonly deadline?: { readonly atMs: number; readonly description: string };
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
  const { attempts = 3, baseDelayMs = 250, sleep = defaultSleep, deadline } = options;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  let failed: unknown;
  for (let attempt = 1; ; attempt++) {
    const progress = { pages: 0 };
    let read: Map<string, SsmParameter> | typeof TIMED_OUT;
    try {
      read = await beforeDeadline(readAllPages(options.client, options.path, progress), deadline?.atMs);
    } catch (error) {
      failed = error;
      if (attempt >= attempts || !isRetryable(error)) {
        throw sourceError(options, `after ${plural(attempt, 'attempt')}: ${describeAwsError(error)}`, error);
      }
      const delay = baseDelayMs * 2 ** (attempt - 1);
      const wait = delay / 2 + Math.random() * (delay / 2);
      if (deadline && Date.now() + wait >= deadline.atMs) {
        throw sourceError(options, `within ${deadline.description}: ${plural(attempt, 'attempt')}, the last failed with ${describeAwsError(error)}`, error);
      }
      await sleep(wait);
      continue;
    }
    if (read !== TIMED_OUT) return read;
    const earlier = failed === undefined ? '' : `; attempt ${attempt - 1} failed with ${describeAwsError(failed)}`;
    throw sourceError(options, `within ${deadline?.description ?? 'its deadline'}: attempt ${attempt} had not finished (${plural(progress.pages, 'page')} read)${earlier}`);
  }
}

function sourceError(options: ReadSsmOptions, what: string, cause?: unknown): ConfigSourceError {
  return new ConfigSourceError(
    `Could not read SSM Parameter Store path ${options.path} ${what}. Check the instance role allows ` +
      `ssm:GetParametersByPath on this path, that AWS_REGION is right, and that the instance can reach the SSM endpoint.`,
    cause === undefined ? undefined : { cause },
  );
}

const TIMED_OUT = Symbol('timed out');

/** `work`, or TIMED_OUT if it has not settled by `atMs` (a Date.now() value). */
async function beforeDeadline<T>(work: Promise<T>, atMs: number | undefined): Promise<T | typeof TIMED_OUT> {
  if (atMs === undefined) return work;
  // The abandoned read may still fail later; nobody waits for it any more.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, atMs - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function readAllPages(client: SSMClient, path: string, progress: { pages: number }): Promise<Map<string, SsmParameter>> {
  const parameters = new Map<string, SsmParameter>();
  const pages = paginateGetParametersByPath(
    { client },
    { Path: path, Recursive: true, WithDecryption: true },
  );
  for await (const page of pages) {
    progress.pages += 1;
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
