export { createApp, type AppDeps } from './app';
export { readBuildInfo, type BuildInfo } from './build-info';
export { AppError, type AppErrorOptions, type ErrorBody } from './errors';
export { createLifecycle, type Lifecycle } from './lifecycle';
export { createLogger } from './logger';
export { serviceRoutes, type RouteContext, type RouteFactory } from './routes/index';
export { createGracefulServer, type GracefulServer } from './server';
export { runService, type RunServiceOptions } from './service';
