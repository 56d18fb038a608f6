import { setTimeout as sleep } from 'node:timers/promises';

import { ACCEPTANCE_ROUTE, HEALTH_PATH, SECURITY_HEADERS } from '@conveyor/config/contract';

/** A path no service route serves: the check expects the service's JSON 404 for it. */
export const UNKNOWN_ROUTE = '/acceptance-check/no-such-route';

export interface AcceptanceOptions {
  /** Where the environment answers, e.g. `http://my-alb-123.eu-west-1.elb.amazonaws.com` (a path prefix is kept). */
  readonly baseUrl: string;
  /** The commit being released: `/health` must report it (a prefix of 7 or more characters also matches). */
  readonly commit: string;
  /** @default HEALTH_PATH from the service contract */
  readonly healthPath?: string;
  /** A request the service's example route answers 200 with JSON. @default ACCEPTANCE_ROUTE from the service contract */
  readonly exampleRoute?: string;
  /** Headers every response must carry, lower-case name to exact value. @default SECURITY_HEADERS from the service contract */
  readonly securityHeaders?: Readonly<Record<string, string>>;
  /** Each request's bound, connection to last byte. @default 5000 */
  readonly timeoutMs?: number;
  /** Tries per request while the connection is refused (a load balancer still starting); nothing else is retried. @default 3 */
  readonly connectAttempts?: number;
  /** Pause between those tries. @default 250 */
  readonly retryDelayMs?: number;
}

export interface CheckResult {
  /** Short, stable name: `health`, `example route`, `unknown route`, `security headers`. */
  readonly name: string;
  readonly passed: boolean;
  /** What was asked and seen; on failure, what was wrong. */
  readonly detail: string;
}

export interface AcceptanceResult {
  /** Whether every check passed. */
  readonly passed: boolean;
  /** One result per check, always in the same order. */
  readonly checks: readonly CheckResult[];
}

interface Answer {
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly isJson: boolean;
}

type Fetched = { readonly ok: true; readonly answer: Answer } | { readonly ok: false; readonly why: string };

/** Why a fetch failed: the errno undici puts on `cause` (ECONNREFUSED), `TimeoutError`, or the cause's message (`bad port`). */
function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return name;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

async function get(baseUrl: string, path: string, options: Required<Pick<AcceptanceOptions, 'timeoutMs' | 'connectAttempts' | 'retryDelayMs'>>): Promise<Fetched> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/json' } });
      const text = await res.text();
      let body: unknown;
      let isJson = false;
      if (/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) {
        try {
          body = JSON.parse(text);
          isJson = true;
        } catch {
          body = undefined;
        }
      }
      return { ok: true, answer: { path, status: res.status, headers: res.headers, body, isJson } };
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ECONNREFUSED' && attempt < options.connectAttempts) {
        await sleep(options.retryDelayMs);
        continue;
      }
      if (code === 'TimeoutError' || code === 'AbortError') return { ok: false, why: `GET ${path}: no answer within ${options.timeoutMs} ms` };
      return { ok: false, why: `GET ${path}: ${code}${code === 'ECONNREFUSED' ? ` after ${attempt} attempts` : ''}` };
    }
  }
}

/** Whether `/health`'s commit is the released one: equal, or the released one is a 7+ character prefix of it (a short sha). */
export function commitMatches(reported: unknown, released: string): boolean {
  if (typeof reported !== 'string' || released.length === 0) return false;
  return reported === released || (released.length >= 7 && reported.startsWith(released));
}

function field(body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
}

function checkHealth(fetched: Fetched, commit: string): CheckResult {
  const name = 'health';
  if (!fetched.ok) return { name, passed: false, detail: fetched.why };
  const { path, status, body, isJson } = fetched.answer;
  if (status !== 200) return { name, passed: false, detail: `GET ${path} answered ${status}, expected 200` };
  if (!isJson) return { name, passed: false, detail: `GET ${path} answered 200 without a JSON body` };
  const reported = field(body, 'commit');
  if (!commitMatches(reported, commit)) {
    return { name, passed: false, detail: `GET ${path} reports commit ${JSON.stringify(reported ?? null)}, expected ${commit}` };
  }
  return { name, passed: true, detail: `GET ${path} 200, commit ${String(reported)}` };
}

function checkExample(fetched: Fetched): CheckResult {
  const name = 'example route';
  if (!fetched.ok) return { name, passed: false, detail: fetched.why };
  const { path, status, isJson } = fetched.answer;
  if (status !== 200) return { name, passed: false, detail: `GET ${path} answered ${status}, expected 200` };
  if (!isJson) return { name, passed: false, detail: `GET ${path} answered 200 without a JSON body` };
  return { name, passed: true, detail: `GET ${path} 200 JSON` };
}

function checkUnknown(fetched: Fetched): CheckResult {
  const name = 'unknown route';
  if (!fetched.ok) return { name, passed: false, detail: fetched.why };
  const { path, status, body, isJson } = fetched.answer;
  if (status !== 404) return { name, passed: false, detail: `GET ${path} answered ${status}, expected 404` };
  const code = field(field(body, 'error'), 'code');
  if (!isJson || code !== 'not_found') {
    return { name, passed: false, detail: `GET ${path} answered 404 without the service's JSON error body ({"error": {"code": "not_found", ...}})` };
  }
  return { name, passed: true, detail: `GET ${path} 404 JSON not_found` };
}

function checkHeaders(fetched: readonly Fetched[], required: Readonly<Record<string, string>>): CheckResult {
  const name = 'security headers';
  const answers = fetched.flatMap((f) => (f.ok ? [f.answer] : []));
  if (answers.length === 0) return { name, passed: false, detail: 'no response to inspect' };
  const expected = Object.entries(required);
  const problems: string[] = [];
  for (const answer of answers) {
    const missing = expected.filter(([header]) => !answer.headers.has(header)).map(([header]) => header);
    if (missing.length > 0) problems.push(`GET ${answer.path} lacks ${missing.join(', ')}`);
    // A value rewritten on the way (a proxy, a middleware) weakens the header as much as dropping it.
    const altered = expected.filter(([header, value]) => answer.headers.has(header) && answer.headers.get(header) !== value);
    for (const [header, value] of altered) problems.push(`GET ${answer.path} has ${header}: ${answer.headers.get(header) ?? ''}, expected ${value}`);
    if (answer.headers.has('x-powered-by')) problems.push(`GET ${answer.path} reveals x-powered-by`);
  }
  if (problems.length > 0) return { name, passed: false, detail: problems.join('; ') };
  return { name, passed: true, detail: `${expected.length} headers on ${answers.length} responses, no x-powered-by` };
}

/** Validates and normalizes a base URL: http(s), no query or fragment, no trailing slash. Throws a message naming what is wrong. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: "${raw}" (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must be http:// or https://, got "${url.protocol}"`);
  if (url.search || url.hash) throw new Error('must not carry a query or a fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Asks an environment what a user would, through its load balancer: `/health`
 * reports the commit being released, the service's example route answers,
 * an unknown route gets the service's JSON 404, and every answer carries the
 * security headers. The three requests run in parallel, each bounded by
 * `timeoutMs`; only a refused connection is retried. Never throws for what
 * the environment answers: each check's result says what was wrong.
 */
export async function runAcceptance(options: AcceptanceOptions): Promise<AcceptanceResult> {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const bounds = {
    timeoutMs: options.timeoutMs ?? 5_000,
    connectAttempts: options.connectAttempts ?? 3,
    retryDelayMs: options.retryDelayMs ?? 250,
  };
  const [health, example, unknown] = await Promise.all([
    get(baseUrl, options.healthPath ?? HEALTH_PATH, bounds),
    get(baseUrl, options.exampleRoute ?? ACCEPTANCE_ROUTE, bounds),
    get(baseUrl, UNKNOWN_ROUTE, bounds),
  ]);
  const checks = [
    checkHealth(health, options.commit),
    checkExample(example),
    checkUnknown(unknown),
    checkHeaders([health, example, unknown], options.securityHeaders ?? SECURITY_HEADERS),
  ];
  return { passed: checks.every((check) => check.passed), checks };
}

/** One line per check, as the CLI and the rehearsal print it: `PASS health: GET /health 200, commit 3f2c1e0`. */
export function formatCheck(check: CheckResult): string {
  return `${check.passed ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`;
}
