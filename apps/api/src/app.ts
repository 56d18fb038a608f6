import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';

import type { BuildInfo } from './build-info';
import { errorHandler, notFound } from './errors';
import type { Lifecycle } from './lifecycle';
import { requestContext } from './request-context';
import { greetingRouter } from './routes/greeting';
import { healthHandler } from './routes/health';

export interface AppDeps {
  /** The slice of the validated config the app uses. */
  readonly config: {
    readonly SERVICE_NAME: string;
    readonly GREETING: string;
    readonly JSON_BODY_LIMIT_BYTES: number;
  };
  readonly healthPath: string;
  readonly buildInfo: BuildInfo;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  /**
   * The service's own routes, mounted after /health and before the 404 and
   * error handlers. @default - the example greeting endpoint
   */
  readonly routes?: readonly Router[];
}

/**
 * While draining, every response asks the client to close its connection, so
 * keep-alive clients (the ALB, a pm2 sibling's callers) open a new connection
 * to a live process for their next request instead of hitting a closed socket.
 */
function closeConnectionsWhileDraining(lifecycle: Lifecycle): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.draining) res.setHeader('Connection', 'close');
    next();
  };
}

/** Builds the Express app. It never listens: main.ts does, and tests use supertest. */
export function createApp(deps: AppDeps): Express {
  const { config, lifecycle } = deps;
  const app = express();

  app.disable('x-powered-by');
  // One proxy hop: the ALB. req.ip is then the client's address from X-Forwarded-For.
  app.set('trust proxy', 1);

  app.use(requestContext(app, deps.logger, deps.healthPath));
  app.use(closeConnectionsWhileDraining(lifecycle));
  app.use(helmet());

  app.get(deps.healthPath, healthHandler({ serviceName: config.SERVICE_NAME, buildInfo: deps.buildInfo, lifecycle }));
  for (const router of deps.routes ?? [greetingRouter({ greeting: config.GREETING, jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES })]) {
    app.use(router);
  }

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
