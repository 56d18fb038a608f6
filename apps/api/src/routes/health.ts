import { Router } from 'express';

import type { BuildInfo } from '../build-info';
import type { Lifecycle } from '../lifecycle';

export interface HealthRouterDeps {
  readonly path: string;
  readonly serviceName: string;
  readonly buildInfo: BuildInfo;
  readonly lifecycle: Lifecycle;
}

/**
 * `GET <health path>`: 200 with the running build while serving, 503 once
 * shutdown has begun, so the load balancer stops routing here before the
 * process goes away. ValidateService compares `commit` with the bundle's.
 */
export function healthRouter({ path, serviceName, buildInfo, lifecycle }: HealthRouterDeps): Router {
  const router = Router();
  router.get(path, (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
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
  });
  return router;
}
