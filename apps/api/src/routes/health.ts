import type { RequestHandler } from 'express';

import type { BuildInfo } from '../build-info';
import type { Lifecycle } from '../lifecycle';

export interface HealthHandlerDeps {
  readonly serviceName: string;
  readonly buildInfo: BuildInfo;
  readonly lifecycle: Lifecycle;
}

/**
 * `GET <health path>`: 200 with the running build while serving, 503 once
 * shutdown has begun, so the load balancer stops routing here before the
 * process goes away. ValidateService compares `commit` with the bundle's.
 * A plain handler the app mounts with `app.get`, not a nested Router: the
 * load balancer calls it every few seconds on every instance, and a nested
 * router's dispatch is a measurable share of its cost.
 */
export function healthHandler({ serviceName, buildInfo, lifecycle }: HealthHandlerDeps): RequestHandler {
  // Never cached (Cache-Control: no-store): every response gets it from the
  // front door (SECURITY_HEADERS in @conveyor/config).
  return (_req, res) => {
    if (lifecycle.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    res.json({
      status: 'ok',
      service: serviceName,
      version: buildInfo.version,
      commit: buildInfo.commit,
      uptimeSeconds: Math.floor(process.uptime()),
    });
  };
}
