import { randomUUID } from 'node:crypto';

import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id: the caller's `x-request-id` when well-formed, else a new UUID. */
    id: string;
    /** A logger whose every line carries this request's id. */
    log: Logger;
  }
}

/** Accept a caller's request id only when it cannot inject anything into logs or headers. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const childLogger = Symbol('childLogger');

/**
 * Returns the step that gives every request an id (echoed in `x-request-id`) and a logger whose
 * every line carries it, and writes one access-log line when the response
 * finishes. It logs method, path, status and duration: never the query
 * string, headers or body, which may hold secrets. Health checks log at debug
 * so the ALB's polling does not drown the log.
 *
 * `req.log` is created on first use (a getter on the app's request
 * prototype): most requests, health checks above all, never log, and a pino
 * child per request was a measurable share of the service's per-request cost
 * (see bench/report.md).
 *
 * The access line goes through a child of `logger` without redaction: every
 * field of it is one this function builds (id, method, path, status,
 * duration), so the redaction paths, a safety net for objects other code
 * logs, have nothing to find in it, and pino's wildcard redaction tripled
 * the cost of writing the line. `req.log` keeps the redaction.
 */
export function requestContext(app: Express, logger: Logger, healthPath: string): (req: Request, res: Response) => void {
  const accessLog = logger.child({}, { redact: [] });
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request & { [childLogger]?: Logger }): Logger {
      return (this[childLogger] ??= logger.child({ reqId: this.id }));
    },
  });
  return (req, res) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', req.id);

    const started = process.hrtime.bigint();
    // 'finish' fires at most once: `on` spares the wrapper `once` allocates.
    res.on('finish', () => {
      const quiet = req.path === healthPath && res.statusCode < 500;
      if (quiet && !accessLog.isLevelEnabled('debug')) return;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // reqId in the line, as req.log would write it, without making a child
      // logger for a request that logs only this.
      const line = { reqId: req.id, method: req.method, path: req.path, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10 };
      if (quiet) accessLog.debug(line, 'request completed');
      else accessLog.info(line, 'request completed');
    });
  };
}
