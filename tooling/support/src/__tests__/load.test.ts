import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { failureReasons, loadUntil, startLoad } from '../load';

let server: http.Server;
let port: number;
let mode: 'ok' | 'error' | 'reset' | 'hold' = 'ok';

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    if (mode === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (mode === 'hold') return; // Never answers: a request a dying process holds.
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

const for200ms = () => sleep(200);

describe('loadUntil', () => {
  it('when every answer is 200, then nothing fails and answers are counted per commit', async () => {
    mode = 'ok';

    const result = await loadUntil(for200ms(), { port, connections: 4 });

    expect(result.failed).toBe(0);
    expect(result.ok).toBe(result.sent);
    expect(result.commits['rev-1']).toBe(result.ok);
    expect(result.firstSeenMs['rev-1']).toBeGreaterThanOrEqual(0);
  });

  it('when the server answers 500, then every answer counts as a failure by status', async () => {
    mode = 'error';

    const result = await loadUntil(for200ms(), { port, connections: 2 });

    expect(result.ok).toBe(0);
    expect(result.failures['HTTP 500']).toBe(result.sent);
  });

  it('when the server resets sockets, then each reset counts as a failure by error code', async () => {
    mode = 'reset';

    const result = await loadUntil(for200ms(), { port, connections: 2 });

    expect(result.ok).toBe(0);
    expect(result.failed).toBe(result.sent);
    expect(Object.keys(result.failures)).toEqual(['ECONNRESET']);
  });

  it('when the until promise never settles, then the load stops at maxDurationMs', async () => {
    mode = 'ok';

    const result = await loadUntil(new Promise(() => undefined), { port, connections: 1, maxDurationMs: 300 });

    expect(result.durationMs).toBeLessThan(5_000);
    expect(result.sent).toBeGreaterThan(0);
  });
});

describe('startLoad', () => {
  it('when a request is held past its timeout, then it is destroyed and counted as a timeout, not left hanging', async () => {
    mode = 'hold';

    const load = startLoad({ port, connections: 2, requestTimeoutMs: 200, maxDurationMs: 10_000 });
    await sleep(100);
    const outcomes = await load.stop();

    expect(outcomes).toHaveLength(2);
    expect(failureReasons(outcomes)).toEqual({ timeout: 2 });
    for (const { startedAt, endedAt } of outcomes) expect(endedAt - startedAt).toBeGreaterThanOrEqual(190);
  });

  it('when it reaches maxRequests, then it stops by itself with exactly that many outcomes, each ok with its start time', async () => {
    mode = 'ok';
    const before = Date.now();

    const load = startLoad({ port, connections: 3, maxRequests: 25 });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => load.outcomes.length >= 25 && (clearInterval(poll), resolve()), 10);
    });
    const outcomes = await load.stop();

    expect(outcomes).toHaveLength(25);
    expect(failureReasons(outcomes)).toEqual({});
    expect(outcomes.every((o) => o.result === 'ok' && o.commit === 'rev-1' && o.startedAt >= before)).toBe(true);
  });
});
