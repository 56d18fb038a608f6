import http from 'node:http';
import net from 'node:net';

import { freePort } from '@conveyor/tooling-support';

import { cleanup, get, startService, type ServiceProcess } from './process';

let service: ServiceProcess | undefined;
afterEach(() => {
  cleanup(service);
  service = undefined;
});

describe('boot', () => {
  it('when config is valid, then it reports ready to pm2 only once the port answers', async () => {
    service = await startService();

    await service.ready;
    const health = await get(service.port, '/health');
    // The fixture adds routes with extraRoutes: the service's own stay served.
    const own = await get(service.port, '/api/greeting?name=Ada');
    const extra = await get(service.port, '/test/slow?ms=1');

    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', commit: 'unknown' });
    expect([own.status, extra.status]).toEqual([200, 200]);
  });

  it('when it serves, then every log line names the release that wrote it', async () => {
    service = await startService();
    await service.ready;

    const health = JSON.parse((await get(service.port, '/health')).body) as { version: string; commit: string };
    await get(service.port, '/no-such-route');
    await service.waitForLog('request completed');

    // From Listening on, through the access lines: a log query can pick one release by its commit.
    const served = service.logs.slice(service.logs.findIndex((line) => line.msg === 'Listening'));
    expect(served.map((line) => line.msg)).toEqual(expect.arrayContaining(['Listening', 'request completed']));
    for (const line of served) expect(line).toMatchObject({ version: health.version, commit: health.commit });
  });

  it('when a config value is invalid, then it exits 1 naming the key, never ready', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: 'soon' });

    const { code } = await service.exited;

    expect(code).toBe(1);
    expect(service.wasReady()).toBe(false);
    const fatal = service.logs.find((line) => line.level === 60);
    expect(String(fatal?.msg)).toContain('SHUTDOWN_TIMEOUT_MS (environment variable SHUTDOWN_TIMEOUT_MS)');
    expect(JSON.stringify(service.logs)).not.toContain('soon');
  });

  it('when Parameter Store is unreachable, then it exits 1 with a message naming the path, never ready', async () => {
    const closedPort = await freePort();
    service = await startService({
      CONFIG_SSM_PATH: '/svc/test/',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${closedPort}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'test-only-not-a-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
    });

    const { code } = await service.exited;

    expect(code).toBe(1);
    expect(service.wasReady()).toBe(false);
    const fatal = service.logs.find((line) => line.level === 60);
    expect(String(fatal?.msg)).toMatch(/Could not read SSM Parameter Store path \/svc\/test\//);
    expect(JSON.stringify(fatal)).not.toMatch(/\n\s+at /);
  });
});

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('when %s arrives during a slow request, then the request completes with 200 and the process exits 0', async (signal) => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await service.ready;
    const slow = get(service.port, '/test/slow?ms=1500');
    await service.waitForLog('slow request started');

    service.child.kill(signal);
    const [response, exit] = await Promise.all([slow, service.exited]);

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ done: true });
    expect(response.headers.connection).toBe('close');
    expect(exit.code).toBe(0);
  });

  it('when a request is still running at the deadline, then the process exits 1 and names it', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '1500' });
    await service.ready;
    const hung = get(service.port, '/test/hang').catch((error: Error) => error);
    await service.waitForLog('hanging request started');

    service.child.kill('SIGTERM');
    const exit = await service.exited;

    expect(exit.code).toBe(1);
    expect(await hung).toMatchObject({ code: 'ECONNRESET' });
    const deadline = await service.waitForLog(/deadline of 1500 ms passed/);
    expect(deadline.abandoned).toEqual(['GET /test/hang']);
  });

  it('when draining, then /health answers 503 on an open keep-alive connection and new connections are refused', async () => {
    // A long idle grace, so a busy CI machine cannot close the kept-alive socket before the test uses it.
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '20000', SHUTDOWN_IDLE_GRACE_MS: '8000' });
    await service.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(service.port, '/health', agent)).status).toBe(200);
    const slow = get(service.port, '/test/slow?ms=2000');
    await service.waitForLog('slow request started');

    service.child.kill('SIGTERM');
    await service.waitForLog('Shutting down');
    const draining = await get(service.port, '/health', agent);
    const fresh = await get(service.port, '/health').catch((error: NodeJS.ErrnoException) => error);

    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toEqual({ status: 'draining' });
    expect(draining.headers.connection).toBe('close');
    expect((fresh as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect((await slow).status).toBe(200);
    expect((await service.exited).code).toBe(0);
    agent.destroy();
  });

  it('when the signal is sent twice, then shutdown runs once and still exits 0', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await service.ready;
    const slow = get(service.port, '/test/slow?ms=1000');
    await service.waitForLog('slow request started');

    service.child.kill('SIGTERM');
    await service.waitForLog('Shutting down');
    service.child.kill('SIGTERM');
    const exit = await service.exited;

    expect(exit.code).toBe(0);
    expect((await slow).status).toBe(200);
    expect(service.logs.filter((line) => line.msg === 'Shutting down')).toHaveLength(1);
    expect(service.logs.filter((line) => line.msg === 'Shutdown already in progress; ignoring')).toHaveLength(1);
  });

  it('when the last in-flight request finishes during shutdown, then an idle keep-alive socket stays open for the grace and its next request is answered with Connection: close', async () => {
    // The race this guards: under load a socket is idle only for the instant
    // between a response and its client's next request. Closing idle sockets
    // whenever nothing is in flight resets exactly those requests (a pm2
    // reload measured one reset per open socket); they must get an answer.
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '20000', SHUTDOWN_IDLE_GRACE_MS: '5000' });
    await service.ready;
    const idle = await rawConnection(service.port);
    expect(await idle.request('/health')).toMatch(/^HTTP\/1\.1 200/);
    const slow = get(service.port, '/test/slow?ms=500');
    await service.waitForLog('slow request started');

    service.child.kill('SIGTERM');
    expect((await slow).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = await idle.request('/health');

    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect((await service.exited).code).toBe(0);
  }, 30_000);

  it('when idle keep-alive clients are connected and nothing is in flight, then it exits 0 promptly without waiting for the deadline', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '60000' });
    await service.ready;
    const agent = new http.Agent({ keepAlive: true });
    await Promise.all([get(service.port, '/health', agent), get(service.port, '/health', agent)]);

    service.child.kill('SIGTERM');
    const exit = await service.exited;

    expect(exit.code).toBe(0);
    expect(service.logs.find((line) => line.msg === 'Shutdown complete')).toMatchObject({ exitCode: 0 });
    agent.destroy();
  }, 20_000);
});

describe('log output', () => {
  it('when the service logs a burst and shuts down, then stdout is one JSON line per event, in the order logged, and stderr is empty', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await service.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    // A burst of access-log lines right before the signal, so writes are still pending when it comes.
    const burst = Array.from({ length: 300 }, () => get(service?.port ?? 0, '/health?burst', agent).catch(() => undefined));

    service.child.kill('SIGTERM');
    await Promise.all(burst);
    const exit = await service.exited;
    agent.destroy();

    expect(exit.code).toBe(0);
    // startService parses every stdout line as JSON (a plain-text line fails the test there).
    expect(service.logs.filter((line) => 'stderr' in line)).toEqual([]);
    const order = service.logs.map((line) => line.msg).filter((msg) => msg === 'Listening' || msg === 'Shutting down' || msg === 'Shutdown complete');
    expect(order).toEqual(['Listening', 'Shutting down', 'Shutdown complete']);
    expect(service.logs.at(-1)).toMatchObject({ msg: 'Shutdown complete' });
  });

  it('when a burst of requests is answered right before SIGTERM, then every one of them has its access line, with its request id, before Shutdown complete', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await service.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    // Access lines are buffered for a turn of the event loop: the signal comes while some still are.
    const burst = Array.from({ length: 300 }, (_, i) => get(service?.port ?? 0, `/api/greeting?name=Ada&i=${i}`, agent).catch(() => undefined));
    await service.waitForLog('request completed');

    service.child.kill('SIGTERM');
    const answers = await Promise.all(burst);
    const exit = await service.exited;
    agent.destroy();

    expect(exit.code).toBe(0);
    const answered = answers.flatMap((res) => (res?.status === 200 ? [String(res.headers['x-request-id'])] : []));
    expect(answered.length).toBeGreaterThan(0);
    const logged = service.logs.filter((line) => line.msg === 'request completed' && line.path === '/api/greeting');
    expect(logged.map((line) => line.reqId).sort()).toEqual([...answered].sort());
    for (const line of logged) expect(line).toMatchObject({ status: 200, method: 'GET', commit: 'unknown', durationMs: expect.any(Number) as number });
    expect(service.logs.at(-1)).toMatchObject({ msg: 'Shutdown complete', exitCode: 0 });
  });

  it('when the process crashes on an uncaught exception after a burst, then the fatal line and every access line come out and it exits 1', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await service.ready;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const burst = Array.from({ length: 200 }, (_, i) => get(service?.port ?? 0, `/api/greeting?name=Ada&i=${i}`, agent).catch(() => undefined));
    await service.waitForLog('request completed');

    const crash = await get(service.port, '/test/crash', agent).catch(() => undefined);
    const answers = await Promise.all(burst);
    const exit = await service.exited;
    agent.destroy();

    expect(exit.code).toBe(1);
    const answered = [...answers, crash].flatMap((res) => (res?.status === 200 ? [String(res.headers['x-request-id'])] : []));
    const logged = service.logs.filter((line) => line.msg === 'request completed' && line.status === 200);
    expect(logged.map((line) => line.reqId).sort()).toEqual([...answered].sort());
    expect(service.logs).toContainEqual(expect.objectContaining({ level: 60, msg: 'uncaughtException', err: expect.objectContaining({ message: 'test crash' }) as unknown }));
    expect(service.logs.at(-1)).toMatchObject({ msg: 'Shutdown complete', exitCode: 1 });
    expect(service.logs.filter((line) => 'stderr' in line)).toEqual([]);
  });

  it('when a process warning is emitted, then it is one JSON line at warn level, not plain text on stderr', async () => {
    service = await startService();
    await service.ready;

    await get(service.port, '/test/warning');
    const warning = await service.waitForLog(/first line of a test warning/);

    expect(warning).toMatchObject({ level: 40, warning: { name: 'TestWarning' } });
    expect(String(warning.msg)).toContain('third line');
    expect(service.logs.filter((line) => 'stderr' in line)).toEqual([]);
  });
});

/** One raw keep-alive connection, to send requests on exactly this socket. */
async function rawConnection(port: number): Promise<{ request: (path: string) => Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    request: (path) =>
      new Promise((resolve) => {
        if (socket.readyState !== 'open') {
          resolve('closed before the request was sent');
          return;
        }
        let text = '';
        const onData = (chunk: Buffer) => {
          text += chunk.toString();
          // The health answer is small: headers and body arrive together.
          if (/\r\n\r\n\{.*\}$/s.test(text)) done(text);
        };
        const done = (result: string) => {
          socket.off('data', onData);
          resolve(result);
        };
        socket.on('data', onData);
        socket.once('close', () => done(text || 'closed without an answer'));
        socket.once('error', (error: NodeJS.ErrnoException) => done(`socket error ${error.code ?? error.message}`));
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      }),
  };
}
