import { SECURITY_HEADERS } from '@conveyor/config';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Logger } from 'pino';

import type { BuildInfo } from './build-info';
import { AppError, errorHandler, notFound } from './errors';
import type { Lifecycle } from './lifecycle';
import { requestContext } from './request-context';
import { healthHandler } from './routes/health';
import type { RouteContext, RouteFactory } from './routes/index';

export interface AppDeps {
  /** The validated config. */
  readonly config: RouteContext['config'];
  readonly healthPath: string;
  readonly buildInfo: BuildInfo;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  /**
   * Every router the app serves besides the health endpoint, in mount order:
   * the service passes `serviceRoutes` (src/routes/index.ts), a test passes
   * `[...serviceRoutes, extra]` or only what it tests. There is no default,
   * so no caller drops the service's routes without saying so.
   */
  readonly routes: readonly RouteFactory[];
}

/**
 * Why a request no route should see is refused, or undefined when it may go on:
 * - HTTP/1.1 without `Host` (RFC 9112 §3.2). Node would answer it with an
 *   empty 400 before Express runs; the server turns that check off
 *   (`requireHostHeader: false`) so that this answer is the one sent.
 * - `OPTIONS`, which no route declares: 404 like any other method a path does
 *   not serve. Express's router would otherwise answer it itself, 200
 *   text/plain listing the methods. The service serves no browser, so it has
 *   no CORS preflight to answer; a fork that needs one mounts its CORS
 *   middleware before the routes.
 */
function unroutable(req: Request): AppError | undefined {
  if (req.method === 'OPTIONS') return new AppError('No route matches this method and path', { status: 404, code: 'not_found' });
  if (req.headers.host === undefined && req.httpVersion === '1.1') {
    return new AppError('An HTTP/1.1 request must carry a Host header', { status: 400, code: 'missing_host' });
  }
  return undefined;
}

/**
 * What every request goes through before its route, in one middleware: each
 * middleware Express 5 dispatches is a measurable share of a small request's
 * cost (see bench/report.md), so these steps are plain calls in one handler.
 * 1. The request id and the access log (request-context.ts).
 * 2. While draining, every response asks the client to close its connection,
 *    so keep-alive clients (the ALB, a pm2 sibling's callers) open a new
 *    connection to a live process for their next request instead of hitting
 *    a closed socket.
 * 3. The security headers of the service contract (`SECURITY_HEADERS` in
 *    @conveyor/config: the set for a JSON API, each with why it is kept),
 *    constants set in one loop. A route may override one after this, e.g.
 *    its own Cache-Control.
 * 4. Requests no route should see are refused (`unroutable`).
 */
function frontDoor(app: Express, deps: AppDeps): RequestHandler {
  const startRequest = requestContext(app, deps.logger, deps.healthPath);
  const securityHeaders = Object.entries(SECURITY_HEADERS);
  return (req, res, next) => {
    startRequest(req, res);
    if (deps.lifecycle.draining) res.setHeader('Connection', 'close');
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    next(unroutable(req));
  };
}

/** Builds the Express app. It never listens: main.ts does, and tests use supertest. */
export function createApp(deps: AppDeps): Express {
  const { config, lifecycle } = deps;
  const app = express();

  app.disable('x-powered-by');
  // No ETag: every answer is Cache-Control: no-store (SECURITY_HEADERS), so
  // no cache keeps one to revalidate, and Express would hash every body
  // (SHA-1) for nothing.
  app.set('etag', false);
  // One proxy hop: the ALB. req.ip is then the client's address from X-Forwarded-For.
  app.set('trust proxy', 1);

  app.use(frontDoor(app, deps));

  app.get(deps.healthPath, healthHandler({ serviceName: config.SERVICE_NAME, buildInfo: deps.buildInfo, lifecycle }));
  const context: RouteContext = { config, logger: deps.logger };
  for (const route of deps.routes) app.use(route(context));

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
