import net from 'node:net';

import { ALB_IDLE_TIMEOUT_SECONDS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '@conveyor/config';

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

  it("when created, then a whole request has the contract's budget, not Node's five minutes, and the budget is checked every second", () => {
    const { server } = createGracefulServer({
      handler: () => undefined,
      lifecycle: createLifecycle(),
      logger: createLogger({ level: 'silent', service: 'test' }, logSink().stream),
      shutdownTimeoutMs: 1_000,
      exit: () => undefined,
    });

    expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(server.requestTimeout).toBeLessThan(300_000);
    expect(server.requestTimeout).toBeGreaterThanOrEqual(server.headersTimeout);
  });

  it('when shutdown starts while a connection has sent no request, then that socket is closed at the idle grace and the process exits 0 long before the deadline', async () => {
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const graceful = createGracefulServer({
      handler: (_req, res) => res.end('ok'),
      lifecycle: createLifecycle(),
      logger: createLogger({ level: 'silent', service: 'test' }, logSink().stream),
      // A deadline past this test's timeout: only the idle grace can end it in time.
      shutdownTimeoutMs: 30_000,
      idleGraceMs: 200,
      exit: (code) => exit(code),
    });
    await graceful.listen(0, '127.0.0.1');
    const { port } = graceful.server.address() as net.AddressInfo;
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise((resolve) => silent.once('connect', resolve));
    const closedByServer = new Promise((resolve) => silent.once('close', resolve));

    graceful.shutdown('test');

    expect(await exited).toBe(0);
    await closedByServer;
  }, 10_000);

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

describe('malformed HTTP', () => {
  async function raw(bytes: string): Promise<string> {
    const graceful = createGracefulServer({
      handler: (_req, res) => res.end('ok'),
      lifecycle: createLifecycle(),
      logger: createLogger({ level: 'silent', service: 'test' }, logSink().stream),
      shutdownTimeoutMs: 1_000,
      exit: () => undefined,
    });
    await graceful.listen(0, '127.0.0.1');
    const { port } = graceful.server.address() as net.AddressInfo;
    try {
      return await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    } finally {
      graceful.server.close();
    }
  }

  it('when a request cannot be parsed, then the answer is a JSON 400 and the connection closes', async () => {
    const answer = await raw('GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n');

    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Content-Type: application/json');
    expect(answer).toContain('Connection: close');
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({ error: { code: 'bad_request', message: 'Malformed HTTP request', requestId: expect.any(String) as string } });
  });

  it('when the headers are too large, then the answer is a JSON 431', async () => {
    const answer = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toMatchObject({ error: { code: 'headers_too_large' } });
  });
});
