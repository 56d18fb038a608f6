// The load client for the "zero failed requests" measurements and drills.
// Hand-written on node:http rather than a load tool (autocannon and the like):
// those report throughput and reconnect or retry quietly, while this must count
// every failed request, and so behaves like the ALB towards a target:
// keep-alive connections reused across requests, `Connection: close` honoured,
// no retries (node:http never retries on its own), each request bounded by its
// own timeout so a request a dying process holds counts as failed instead of
// hanging the run.
import http from 'node:http';

export interface LoadOptions {
  readonly port: number;
  /** @default '/health' */
  readonly path?: string;
  /** Concurrent clients, each on its own kept-alive socket. @default 8 */
  readonly connections?: number;
  /** A request that has not ended by then is destroyed and counted failed ('timeout'). @default 2000 */
  readonly requestTimeoutMs?: number;
  /** The load stops by itself after this many requests... @default 100000 */
  readonly maxRequests?: number;
  /** ...or this long, whichever comes first. @default 60000 */
  readonly maxDurationMs?: number;
}

export interface Outcome {
  /** When the request was sent (Date.now()). */
  readonly startedAt: number;
  /** When it ended, answered or failed (Date.now()). */
  readonly endedAt: number;
  /** 'ok' (a 2xx answer), or why it failed: 'HTTP 502', 'ECONNRESET', 'timeout', 'closed without an answer'... */
  readonly result: string;
  /** The `commit` field of a 2xx JSON answer (the health endpoint reports the running build's). */
  readonly commit?: string;
}

export interface LoadRun {
  /** When the load started (Date.now()). */
  readonly startedAt: number;
  /** Every request so far, in the order they ended. */
  readonly outcomes: readonly Outcome[];
  /** Stops sending, waits for the requests in flight (each bounded by its timeout), and returns every outcome. */
  stop(): Promise<readonly Outcome[]>;
}

/** Starts the load; it runs until `stop()` or one of its bounds. */
export function startLoad(options: LoadOptions): LoadRun {
  const { port, path = '/health', connections = 8, requestTimeoutMs = 2_000, maxRequests = 100_000, maxDurationMs = 60_000 } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const outcomes: Outcome[] = [];
  const startedAt = Date.now();
  const deadline = startedAt + maxDurationMs;
  let sent = 0;
  let stopped = false;

  const one = () =>
    new Promise<void>((resolve) => {
      const requestStarted = Date.now();
      let settled = false;
      const settle = (result: string, commit?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcomes.push({ startedAt: requestStarted, endedAt: Date.now(), result, ...(commit === undefined ? {} : { commit }) });
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) settle(`HTTP ${status}`);
          else settle('ok', commitOf(text));
        });
        res.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
      });
      const timer = setTimeout(() => {
        settle('timeout');
        req.destroy();
      }, requestTimeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
      // Neither an answer nor an error: still not a request that succeeded.
      req.on('close', () => settle('closed without an answer'));
    });

  const clients = Array.from({ length: connections }, async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent += 1;
      await one();
    }
  });

  return {
    startedAt,
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(clients);
      agent.destroy();
      return outcomes;
    },
  };
}

/** Counts of each failure reason, e.g. `{ ECONNRESET: 3, timeout: 1 }`. */
export function failureReasons(outcomes: readonly Outcome[]): Record<string, number> {
  const reasons: Record<string, number> = {};
  for (const { result } of outcomes) if (result !== 'ok') reasons[result] = (reasons[result] ?? 0) + 1;
  return reasons;
}

export interface LoadSummary {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Failures by kind (failureReasons). */
  readonly failures: Readonly<Record<string, number>>;
  /** 2xx answers per `commit` field of the JSON body. */
  readonly commits: Readonly<Record<string, number>>;
  /** When each commit was first seen, in ms since the load started. */
  readonly firstSeenMs: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/**
 * Runs the load from now until `until` settles (or `maxDurationMs` passes,
 * whichever is first) and sums it up: for a measurement around one event (a
 * reload, a deployment). Bounded by time only, not by a request count.
 */
export async function loadUntil(until: Promise<unknown>, options: Omit<LoadOptions, 'maxRequests'>): Promise<LoadSummary> {
  const run = startLoad({ ...options, maxRequests: Number.POSITIVE_INFINITY });
  const maxDurationMs = options.maxDurationMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxDurationMs)));
  try {
    await Promise.race([until, bound]);
  } finally {
    clearTimeout(timer);
    await run.stop();
  }
  const commits: Record<string, number> = {};
  const firstSeenMs: Record<string, number> = {};
  for (const { commit, endedAt } of run.outcomes) {
    if (commit === undefined) continue;
    commits[commit] = (commits[commit] ?? 0) + 1;
    firstSeenMs[commit] = Math.min(firstSeenMs[commit] ?? Number.POSITIVE_INFINITY, endedAt - run.startedAt);
  }
  const failures = failureReasons(run.outcomes);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return { sent: run.outcomes.length, ok: run.outcomes.length - failed, failed, failures, commits, firstSeenMs, durationMs: Date.now() - run.startedAt };
}

function commitOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { commit?: unknown };
    return typeof body.commit === 'string' ? body.commit : undefined;
  } catch {
    return undefined;
  }
}
