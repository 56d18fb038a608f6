import { Writable } from 'node:stream';

import { configSchema, type Config } from '@conveyor/config';
import { Router } from 'express';

import { createApp, type AppDeps } from '../app';
import { createLifecycle } from '../lifecycle';
import { createLogger } from '../logger';
import { serviceRoutes } from '../routes/index';

/** Collects every JSON log line the app writes. */
export function logSink(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines, text };
}

/**
 * The config tests run with: the schema's defaults, and values of the tests'
 * own where a test looks at them, so no test depends on the example's (a
 * fork changes those).
 */
export const testConfig: Config = configSchema.parse({ SERVICE_NAME: 'service-under-test', GREETING: 'Ahoy', JSON_BODY_LIMIT_BYTES: '1024' });

/** The app as production builds it (the service's routes), with a log sink and overridable deps. */
export function buildTestApp(overrides: Partial<AppDeps> = {}) {
  const logs = logSink();
  const lifecycle = createLifecycle();
  const app = createApp({
    config: testConfig,
    healthPath: '/health',
    buildInfo: { version: '1.2.3', commit: 'abc1234', builtAt: undefined },
    logger: createLogger({ level: 'debug', service: testConfig.SERVICE_NAME }, logs.stream),
    lifecycle,
    routes: serviceRoutes,
    ...overrides,
  });
  return { app, lifecycle, logs };
}

/** Routes that fail on purpose, to prove the error handler's contract. */
export function failingRoutes(): Router {
  const router = Router();
  router.get('/boom/sync', () => {
    throw new Error('secret internals at /srv/app/dist/db.js:42');
  });
  router.get('/boom/async', async () => {
    await Promise.resolve();
    throw new TypeError("Cannot read properties of undefined (reading 'password') at /home/app/dist/x.js");
  });
  router.get('/boom/string', () => {
    // Code sometimes throws things that are not Errors.
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point of the test
    throw 'a bare string with /etc/passwd';
  });
  return router;
}

/** What no error response may contain: a stack frame, a file path, or an internal message. */
export function expectNoInternals(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat\s+\S+\s+\(|\.js:\d+|\.ts:\d+/);
  expect(text).not.toMatch(/\/(srv|home|etc|usr|work)\//);
  expect(text).not.toMatch(/secret|password|passwd|stack/i);
}
