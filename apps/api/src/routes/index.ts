import type { Config } from '@conveyor/config';
import type { Router } from 'express';
import type { Logger } from 'pino';

import { greetingRouter } from './greeting';

/** What a router of the service is built from. */
export interface RouteContext {
  /** The validated config: every key of `@conveyor/config`'s schema. */
  readonly config: Config;
  /** The process's logger. Inside a request, prefer `req.log` (it carries the request id). */
  readonly logger: Logger;
}

/** Builds one router of the service from the config and logger. */
export type RouteFactory = (context: RouteContext) => Router;

/**
 * The service's routes, mounted in this order after the health endpoint and
 * before the 404 and error handlers. Adding an endpoint is adding its router
 * here; replacing the example is deleting its line.
 */
export const serviceRoutes: readonly RouteFactory[] = [
  ({ config }) => greetingRouter({ greeting: config.GREETING, jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES }),
];
