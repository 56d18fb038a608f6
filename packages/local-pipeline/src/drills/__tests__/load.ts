// A bounded keep-alive HTTP load for the drills: a few clients loop on one
// path over a keep-alive agent until stopped, each request with its own
// timeout, so a request a dying process holds counts as failed instead of
// hanging the drill.
import http from 'node:http';

export interface LoadOptions {
  readonly port: number;
  /** @default '/health' */
  readonly path?: string;
  /** Concurrent clients, each on its own kept-alive socket. @default 8 */
  readonly connections?: number;
  /** A request that has not ended by then is destroyed and counted failed. @default 2000 */
  readonly requestTimeoutMs?: number;
  /** The load stops by itself after this many requests... @default 100000 */
  readonly maxRequests?: number;
  /** ...or this long, whichever comes first. @default 60000 */
  readonly maxDurationMs?: number;
}

export interface Outcome {
  /** When the request was sent (Date.now()). */
  readonly startedAt: number;
  /** 'ok', or why it failed: 'HTTP 502', 'ECONNRESET', 'timeout'... */
  readonly result: string;
}

export interface LoadRun {
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
  const deadline = Date.now() + maxDurationMs;
  let sent = 0;
  let stopped = false;

  const one = () =>
    new Promise<void>((resolve) => {
      const startedAt = Date.now();
      let settled = false;
      const settle = (result: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcomes.push({ startedAt, result });
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => settle(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`));
        res.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
      });
      const timer = setTimeout(() => {
        settle('timeout');
        req.destroy();
      }, requestTimeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
      req.on('close', () => settle('closed without an answer'));
    });

  const clients = Array.from({ length: connections }, async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent += 1;
      await one();
    }
  });

  return {
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
