import http from 'node:http';

export interface KeepAliveLoadOptions {
  readonly port: number;
  readonly path?: string;
  /** Concurrent clients, each with its own keep-alive connection. @default 16 */
  readonly connections?: number;
  /** The load runs until this settles (or `maxDurationMs` passes, whichever is first). */
  readonly until: Promise<unknown>;
  /** A hard bound, so a stuck step can never leave the load running. @default 120000 */
  readonly maxDurationMs?: number;
  /** A request that takes longer counts as failed (a held request is a failure too). @default 5000 */
  readonly requestTimeoutMs?: number;
}

export interface KeepAliveLoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Failures by kind: `HTTP 502`, `ECONNRESET`, `timeout`, ... */
  readonly failures: Readonly<Record<string, number>>;
  /** 2xx answers per `commit` field of the JSON body (the health endpoint reports it). */
  readonly commits: Readonly<Record<string, number>>;
  /** When each commit was first seen, in ms since the load started. */
  readonly firstSeenMs: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/**
 * The load client for the "zero failed requests" measurements: it behaves like
 * the ALB towards a target (keep-alive connections reused across requests,
 * `Connection: close` honoured) and, unlike a throughput tool, counts every
 * failure: a socket error, a timeout, or any non-2xx. node:http never retries a
 * request on its own, so nothing is hidden.
 */
export async function keepAliveLoad(options: KeepAliveLoadOptions): Promise<KeepAliveLoadResult> {
  const connections = options.connections ?? 16;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const started = Date.now();
  const deadline = started + (options.maxDurationMs ?? 120_000);
  let done = false;
  let sent = 0;
  let ok = 0;
  const failures: Record<string, number> = {};
  const commits: Record<string, number> = {};
  const firstSeenMs: Record<string, number> = {};
  const fail = (kind: string) => (failures[kind] = (failures[kind] ?? 0) + 1);

  const one = () =>
    new Promise<void>((resolve) => {
      sent += 1;
      let settled = false;
      const settle = (failure?: string) => {
        if (settled) return;
        settled = true;
        if (failure) fail(failure);
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port: options.port, path: options.path ?? '/health', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'response error'));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return settle(`HTTP ${status}`);
          ok += 1;
          const commit = commitOf(text);
          if (commit !== undefined) {
            commits[commit] = (commits[commit] ?? 0) + 1;
            firstSeenMs[commit] ??= Date.now() - started;
          }
          settle();
        });
      });
      req.setTimeout(requestTimeoutMs, () => {
        settle('timeout');
        req.destroy();
      });
      req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    });

  const clients = Array.from({ length: connections }, async () => {
    while (!done && Date.now() < deadline) await one();
  });
  const stopAtDeadline = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  try {
    await Promise.race([options.until, stopAtDeadline]);
  } finally {
    done = true;
    await Promise.all(clients);
    agent.destroy();
  }
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return { sent, ok, failed, failures, commits, firstSeenMs, durationMs: Date.now() - started };
}

function commitOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { commit?: unknown };
    return typeof body.commit === 'string' ? body.commit : undefined;
  } catch {
    return undefined;
  }
}
