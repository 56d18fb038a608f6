import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { ConfigError, ConfigSourceError, HEALTH_PATH, SERVICE_NAME, loadConfig } from '@conveyor/config';
import type { Logger } from 'pino';

import { createApp } from './app';
import { readBuildInfo } from './build-info';
import { createLifecycle } from './lifecycle';
import { createLogger, stdoutDestination } from './logger';
import { serviceRoutes, type RouteFactory } from './routes/index';
import { createGracefulServer } from './server';

export interface RunServiceOptions {
  /**
   * Routers mounted after the service's own (`serviceRoutes`), e.g. a test's.
   * A fork adds its routes to `serviceRoutes` instead.
   * @default - none
   */
  readonly extraRoutes?: readonly RouteFactory[];
}

/**
 * Sends process warnings (deprecations, the AWS SDK's notice about Node
 * versions it will stop supporting, ...) through the logger as one JSON line
 * each, instead of Node's default: several lines of plain text on stderr,
 * which break a log that is one JSON object per line. `current` is read at
 * each warning, so the boot logger can hand over to the configured one.
 */
function logProcessWarnings(current: () => Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    // As Node's own printer does: --no-deprecation silences deprecations.
    if (warning.name === 'DeprecationWarning' && process.noDeprecation) return;
    current().warn({ warning: { name: warning.name, ...(warning.code ? { code: warning.code } : {}) } }, warning.message);
  });
}

/** The app's root: one level above dist/, where package.json and build-info.json are. */
const APP_ROOT = path.resolve(__dirname, '..');

/**
 * Runs the service as a process: load config, listen, tell pm2 it is ready,
 * and own shutdown on SIGTERM/SIGINT. Boot failures log one line naming the
 * cause and exit 1 without ever reporting ready.
 */
export async function runService(options: RunServiceOptions = {}): Promise<void> {
  const destination = stdoutDestination();
  // Until config is valid we only know the service name.
  const bootLogger = createLogger({ level: 'info', service: SERVICE_NAME }, destination);
  let currentLogger = bootLogger;
  logProcessWarnings(() => currentLogger);

  let config;
  try {
    // The startup budget counts from the process's start, as pm2's listen_timeout does.
    config = await loadConfig({ logger: bootLogger, startedAtMs: performance.timeOrigin });
  } catch (error) {
    if (error instanceof ConfigError) bootLogger.fatal({ problems: error.problems }, error.message);
    else if (error instanceof ConfigSourceError) bootLogger.fatal(error.message);
    else bootLogger.fatal({ err: error }, 'Unexpected error while loading configuration');
    process.exit(1);
  }

  let buildInfo;
  try {
    buildInfo = readBuildInfo(APP_ROOT);
  } catch (error) {
    bootLogger.fatal((error as Error).message);
    process.exit(1);
  }

  const logger = createLogger({
    level: config.LOG_LEVEL,
    service: config.SERVICE_NAME,
    environment: config.APP_ENV,
    version: buildInfo.version,
    commit: buildInfo.commit,
  }, destination);
  currentLogger = logger;
  const lifecycle = createLifecycle();
  const routes = [...serviceRoutes, ...(options.extraRoutes ?? [])];
  const app = createApp({ config, healthPath: HEALTH_PATH, buildInfo, logger, lifecycle, routes });
  const graceful = createGracefulServer({
    handler: app,
    lifecycle,
    logger,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    idleGraceMs: config.SHUTDOWN_IDLE_GRACE_MS,
    exit: (code) => process.exit(code),
  });

  process.on('SIGTERM', () => graceful.shutdown('SIGTERM'));
  // pm2 stops and reloads processes with SIGINT.
  process.on('SIGINT', () => graceful.shutdown('SIGINT'));
  // The one process-level handler: log, then drain and exit 1 (pm2 restarts us).
  const fatal = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, kind);
    graceful.shutdown(kind, 1);
  };
  process.on('uncaughtException', fatal('uncaughtException'));
  process.on('unhandledRejection', fatal('unhandledRejection'));

  try {
    await graceful.listen(config.PORT, config.HOST);
  } catch (error) {
    logger.fatal({ port: config.PORT, host: config.HOST, code: (error as NodeJS.ErrnoException).code }, 'Could not listen');
    process.exit(1);
  }

  logger.info(
    { url: `http://${config.HOST}:${config.PORT}`, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS },
    'Listening',
  );
  // Under pm2 with wait_ready, this is what lets a start or reload move on.
  // Sent only now: config is valid and the port is bound.
  process.send?.('ready');
}
