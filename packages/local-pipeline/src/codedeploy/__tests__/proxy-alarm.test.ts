// The load balancer's 5xx alarm, the stand-in for a CloudWatch alarm wired to
// CodeDeploy's automatic rollback: the answer that reaches the threshold moves
// traffic to the original slot before the next request is forwarded.
import http from 'node:http';
import net from 'node:net';

import fc from 'fast-check';

import { CONTROL_PREFIX, createProxy, parseAlarm, type AlarmStatus, type ProxyStatus } from '../proxy';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function close(server: http.Server): Promise<unknown> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

let proxy: http.Server;
let oldSlot: http.Server;
let newSlot: http.Server;
let ports: { proxy: number; old: number; new: number };

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${ports.proxy}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const status = async () => (await send('GET', `${CONTROL_PREFIX}status`)).body as ProxyStatus;
const armed = (threshold: number) => ({ port: ports.new, threshold, fallback: { slot: 'blue', port: ports.old } });

beforeAll(async () => {
  oldSlot = http.createServer((_req, res) => res.end('{"from":"old"}'));
  // The new slot fails every request: 500 from the service.
  newSlot = http.createServer((_req, res) => {
    res.statusCode = 500;
    res.end('{"from":"new"}');
  });
  ports = { proxy: 0, old: await listen(oldSlot), new: await listen(newSlot) };
  proxy = createProxy();
  ports.proxy = await listen(proxy);
});

afterAll(async () => {
  await Promise.all([close(proxy), close(oldSlot), close(newSlot)]);
});

beforeEach(async () => {
  await send('DELETE', `${CONTROL_PREFIX}alarm`);
  await send('PUT', `${CONTROL_PREFIX}target`, { slot: 'green', port: ports.new });
});

describe('the proxy\'s 5xx alarm', () => {
  it('when the new slot answers 5xx, then the answer that reaches the threshold moves traffic to the original slot, and no later request reaches the new slot', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), async (threshold, after) => {
        await send('DELETE', `${CONTROL_PREFIX}alarm`);
        await send('PUT', `${CONTROL_PREFIX}target`, { slot: 'green', port: ports.new });
        await send('PUT', `${CONTROL_PREFIX}alarm`, armed(threshold));

        const answers: number[] = [];
        for (let i = 0; i < threshold + after; i++) answers.push((await send('GET', '/api/greeting')).status);

        expect(answers).toEqual([...Array<number>(threshold).fill(500), ...Array<number>(after).fill(200)]);
        const now = await status();
        expect(now.target).toEqual({ slot: 'blue', port: ports.old });
        expect(now.alarm).toMatchObject({ state: 'ALARM', requests: threshold, serverErrors: threshold, serverErrorsAtAlarm: threshold });
      }),
      { numRuns: 15 },
    );
  });

  it('when the new slot answers below the threshold, then the alarm stays OK and traffic stays on the new slot', async () => {
    await send('PUT', `${CONTROL_PREFIX}alarm`, armed(3));

    await send('GET', '/');
    await send('GET', '/');

    expect(await status()).toMatchObject({ target: { slot: 'green', port: ports.new }, alarm: { state: 'OK', requests: 2, serverErrors: 2 } });
  });

  it('when the alarm is disarmed, then it answers its final state and counts nothing more', async () => {
    await send('PUT', `${CONTROL_PREFIX}alarm`, armed(100));
    await send('GET', '/');

    const disarmed = await send('DELETE', `${CONTROL_PREFIX}alarm`);
    await send('GET', '/');

    expect((disarmed.body as { alarm: AlarmStatus }).alarm).toMatchObject({ state: 'OK', serverErrors: 1 });
    expect((await status()).alarm).toBeUndefined();
  });

  it('when the watched slot does not answer at all, then its 502s count as 5xx', async () => {
    const dead = http.createServer();
    const deadPort = await listen(dead);
    await close(dead);
    await send('PUT', `${CONTROL_PREFIX}target`, { slot: 'green', port: deadPort });
    await send('PUT', `${CONTROL_PREFIX}alarm`, { port: deadPort, threshold: 1, fallback: { slot: 'blue', port: ports.old } });

    const first = await send('GET', '/');
    const second = await send('GET', '/');

    expect([first.status, second.status]).toEqual([502, 200]);
  });

  it.each([
    ['bad JSON', '{"port": '],
    ['no threshold', '{"port":3000,"fallback":{"slot":"blue","port":3001}}'],
    ['threshold 0', '{"port":3000,"threshold":0,"fallback":{"slot":"blue","port":3001}}'],
    ['a fractional threshold', '{"port":3000,"threshold":1.5,"fallback":{"slot":"blue","port":3001}}'],
    ['no fallback', '{"port":3000,"threshold":5}'],
    ['a fallback on the watched port', '{"port":3000,"threshold":5,"fallback":{"slot":"blue","port":3000}}'],
    ['a bad fallback slot', '{"port":3000,"threshold":5,"fallback":{"slot":"../x","port":3001}}'],
  ])('when the alarm body has %s, then it is refused with 400 and nothing is armed', async (_name, body) => {
    expect(parseAlarm(body)).toBeUndefined();
    const res = await fetch(`http://127.0.0.1:${ports.proxy}${CONTROL_PREFIX}alarm`, { method: 'PUT', body });

    expect(res.status).toBe(400);
    expect((await status()).alarm).toBeUndefined();
  });
});
