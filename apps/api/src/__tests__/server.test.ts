import net from 'node:net';

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
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({ error: { code: 'bad_request', message: 'Malformed HTTP request' } });
  });

  it('when the headers are too large, then the answer is a JSON 431', async () => {
    const answer = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);

    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toMatchObject({ error: { code: 'headers_too_large' } });
  });
});
