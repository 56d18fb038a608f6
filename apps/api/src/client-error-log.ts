import type { Logger } from 'pino';

export interface ClientErrorLogOptions {
  readonly logger: Logger;
  /** Lines written per interval; further events are only counted. @default 10 */
  readonly maxPerInterval?: number;
  /** @default 60000 */
  readonly intervalMs?: number;
  /** Injected for tests. @default Date.now */
  readonly now?: () => number;
}

export interface ClientErrorLog {
  /** Logs one client error (at warn), unless this interval's allowance is spent. */
  (fields: Readonly<Record<string, unknown>>): void;
  /** Writes the summary of what was suppressed so far, if anything (at shutdown). */
  flush(): void;
}

/**
 * Logs requests Node rejected before the app saw them (malformed, timed out,
 * oversized headers, unknown expectations): slowloris and smuggling attempts
 * must leave a trace, but a client sending thousands of them must not fill
 * the disk. At most `maxPerInterval` lines per interval (a fixed window: one
 * counter and one comparison per event), then one summary line with how many
 * were suppressed, written when the interval ends.
 */
export function createClientErrorLog(options: ClientErrorLogOptions): ClientErrorLog {
  const { logger, maxPerInterval = 10, intervalMs = 60_000, now = Date.now } = options;
  let windowStart = Number.NEGATIVE_INFINITY;
  let logged = 0;
  let suppressed = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (suppressed === 0) return;
    logger.warn({ suppressed, intervalMs }, `Client errors suppressed: more than ${maxPerInterval} in ${intervalMs} ms`);
    suppressed = 0;
  };

  const log = (fields: Readonly<Record<string, unknown>>) => {
    const at = now();
    if (at - windowStart >= intervalMs) {
      flush();
      windowStart = at;
      logged = 0;
    }
    if (logged < maxPerInterval) {
      logged += 1;
      logger.warn(fields, 'Client error');
      return;
    }
    suppressed += 1;
    // The summary is written when the interval ends even if no event follows.
    timer ??= setTimeout(flush, Math.max(0, windowStart + intervalMs - at)).unref();
  };
  return Object.assign(log, { flush });
}
