import { ALB_IDLE_TIMEOUT_SECONDS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '@conveyor/config';

import { createLifecycle } from '../lifecycle';
import { createLogger } from '../logger';
import { createGracefulServer } from '../server';
import { logSink } from './helpers';

describe('createGracefulServer', () => {
  it('when created, then its keep-alive outlives the ALB idle timeout and its headers timeout outlives keep-alive', () => {
    const { server } = createGracefulServer({
      handler: () => undefined,
      lifecycle: createLifecycle(),
      logger: createLogger({ level: 'silent', service: 'test' }, logSink().stream),
      shutdownTimeoutMs: 1_000,
      exit: () => undefined,
    });

    expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(server.keepAliveTimeout).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1_000);
    expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
  });

  it('when shutdown starts with nothing open, then it marks the lifecycle draining and exits with the given code', () => {
    const lifecycle = createLifecycle();
    const exit = jest.fn();
    const graceful = createGracefulServer({
      handler: () => undefined,
      lifecycle,
      logger: createLogger({ level: 'silent', service: 'test' }, logSink().stream),
      shutdownTimeoutMs: 1_000,
      exit,
    });

    graceful.shutdown('test', 1);

    expect(lifecycle.draining).toBe(true);
    expect(exit).toHaveBeenCalledWith(1);
  });
});
