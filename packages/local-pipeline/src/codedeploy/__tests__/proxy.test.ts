// The rehearsal's load balancer against malformed and foreign control
// requests: each gets a 4xx, and the proxy keeps serving afterwards.
import http from 'node:http';
import net from 'node:net';

import { CONTROL_PREFIX, MAX_CONTROL_BODY_BYTES, createProxy, isLoopbackHost, parseTarget } from '../proxy';

let proxy: http.Server;
let upstream: http.Server;
let proxyPort: number;
let upstreamPort: number;

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** One request to the proxy; resolves with the status and parsed JSON body. */
function request(options: { method: string; path: string; body?: string | Buffer; host?: string }): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: proxyPort, method: options.method, path: options.path, agent: false, headers: { host: options.host ?? `127.0.0.1:${proxyPort}` } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const putTarget = (body: string | Buffer, host?: string) => request({ method: 'PUT', path: `${CONTROL_PREFIX}target`, body, host });
const status = () => request({ method: 'GET', path: `${CONTROL_PREFIX}status` });

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('{"from":"upstream"}'));
  upstreamPort = await listen(upstream);
  proxy = createProxy({ slot: 'blue', port: upstreamPort });
  proxyPort = await listen(proxy);
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await new Promise((resolve) => upstream.close(resolve));
});

describe('the proxy\'s control requests', () => {
  it.each([
    ['bad JSON', '{"slot": "green", "port": '],
    ['null', 'null'],
    ['an empty body', ''],
    ['an array', '[]'],
    ['a string port', '{"slot":"green","port":"3000"}'],
    ['port 1e400 (Infinity once parsed)', '{"slot":"green","port":1e400}'],
    ['port 70000', '{"slot":"green","port":70000}'],
    ['port 0', '{"slot":"green","port":0}'],
    ['a fractional port', '{"slot":"green","port":3000.5}'],
    ['no slot', '{"port":3000}'],
  ])('when the target body is %s, then it answers 400, keeps its target and keeps serving', async (_name, body) => {
    const answer = await putTarget(body);

    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'expected {"slot": string, "port": whole number 1-65535}' });
    expect((await status()).body).toMatchObject({ target: { slot: 'blue', port: upstreamPort } });
    expect((await request({ method: 'GET', path: '/health' })).body).toEqual({ from: 'upstream' });
  });

  it('when the control body is larger than the bound, then it answers 413 without buffering it and keeps serving', async () => {
    const answer = await putTarget(Buffer.alloc(MAX_CONTROL_BODY_BYTES * 64, 0x20));

    expect(answer.status).toBe(413);
    expect((await status()).body).toMatchObject({ target: { slot: 'blue' } });
  });

  it.each(['evil.example', 'evil.example:80', '127.0.0.1.evil.example', '10.0.0.1'])('when the Host is %s, then control requests are refused with 403', async (host) => {
    const put = await putTarget(JSON.stringify({ slot: 'green', port: upstreamPort }), host);
    const get = await request({ method: 'GET', path: `${CONTROL_PREFIX}status`, host });

    expect([put.status, get.status]).toEqual([403, 403]);
    expect((await status()).body).toMatchObject({ target: { slot: 'blue' } });
  });

  it('when a request has no Host at all, then control requests are refused with 403', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(proxyPort, '127.0.0.1', () => socket.end(`GET ${CONTROL_PREFIX}status HTTP/1.0\r\n\r\n`));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
  });

  it('when a well-formed target comes from a loopback Host, then the proxy switches to it', async () => {
    const answer = await putTarget(JSON.stringify({ slot: 'green', port: upstreamPort }), `localhost:${proxyPort}`);

    expect(answer).toEqual({ status: 200, body: { target: { slot: 'green', port: upstreamPort } } });
    expect((await request({ method: 'GET', path: '/health' })).body).toEqual({ from: 'upstream' });
  });
});

describe('parseTarget and isLoopbackHost', () => {
  it('when given every port from -2 to 65537, then exactly 1-65535 are accepted', () => {
    const accepted = [];
    for (let port = -2; port <= 65_537; port++) if (parseTarget(JSON.stringify({ slot: 'blue', port }))) accepted.push(port);

    expect([accepted.length, accepted[0], accepted.at(-1)]).toEqual([65_535, 1, 65_535]);
  });

  it('when given loopback names with and without ports, then they are accepted; anything else is not', () => {
    expect(['127.0.0.1', '127.0.0.1:8080', 'localhost', 'LOCALHOST:1', '[::1]', '[::1]:8080'].map(isLoopbackHost)).toEqual([true, true, true, true, true, true]);
    expect([undefined, '', '127.0.0.2', 'localhost.evil', '[::1]evil', 'localhost:', 'localhost:123456'].map(isLoopbackHost)).toEqual([false, false, false, false, false, false, false]);
  });
});
