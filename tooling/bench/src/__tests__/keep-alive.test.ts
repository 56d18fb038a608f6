import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { keepAliveLoad } from '../load/keep-alive';

let server: http.Server;
let port: number;
let mode: 'ok' | 'error' | 'reset' = 'ok';

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    if (mode === 'reset') {
      res.socket?.destroy();
      return;
    }
    res.writeHead(mode === 'ok' ? 200 : 500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', commit: mode === 'ok' ? 'rev-1' : 'none' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const for200ms = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('keepAliveLoad', () => {
  it('when every answer is 200, then nothing fails and answers are counted per commit', async () => {
    mode = 'ok';

    const result = await keepAliveLoad({ port, connections: 4, until: for200ms() });

    expect(result.failed).toBe(0);
    expect(result.ok).toBe(result.sent);
    expect(result.commits['rev-1']).toBe(result.ok);
    expect(result.firstSeenMs['rev-1']).toBeGreaterThanOrEqual(0);
  });

  it('when the server answers 500, then every answer counts as a failure by status', async () => {
    mode = 'error';

    const result = await keepAliveLoad({ port, connections: 2, until: for200ms() });

    expect(result.ok).toBe(0);
    expect(result.failures['HTTP 500']).toBe(result.sent);
  });

  it('when the server resets sockets, then each reset counts as a failure by error code', async () => {
    mode = 'reset';

    const result = await keepAliveLoad({ port, connections: 2, until: for200ms() });

    expect(result.ok).toBe(0);
    expect(result.failed).toBe(result.sent);
    expect(Object.keys(result.failures)).toEqual(['ECONNRESET']);
  });

  it('when the until promise never settles, then the load stops at maxDurationMs', async () => {
    mode = 'ok';

    const result = await keepAliveLoad({ port, connections: 1, until: new Promise(() => undefined), maxDurationMs: 300 });

    expect(result.durationMs).toBeLessThan(5_000);
    expect(result.sent).toBeGreaterThan(0);
  });
});
