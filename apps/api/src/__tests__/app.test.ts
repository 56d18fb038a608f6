import { SECURITY_HEADERS } from '@conveyor/config';
import { Router } from 'express';
import request from 'supertest';

import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

import { buildTestApp, expectNoInternals, failingRoutes, logSink, testConfig } from './helpers';
import { createLogger } from '../logger';
import { serviceRoutes } from '../routes/index';

const greetingOf = (name: string) => ({ greeting: `${testConfig.GREETING}, ${name}!` });

describe('GET /health', () => {
  it('when serving, then it answers 200 with the service, build and uptime', async () => {
    const { app } = buildTestApp();

    const res = await request(app).get('/health');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      service: testConfig.SERVICE_NAME,
      version: '1.2.3',
      commit: 'abc1234',
      uptimeSeconds: expect.any(Number) as number,
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('when shutdown has begun, then it answers 503 draining and asks the client to close the connection', async () => {
    const { app, lifecycle } = buildTestApp();
    lifecycle.draining = true;

    const res = await request(app).get('/health');

    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'draining' });
    expect(res.headers.connection).toBe('close');
  });
});

describe('GET /api/greeting', () => {
  it('when a valid name is given, then the greeting word comes from config', async () => {
    const { app } = buildTestApp({ config: { ...testConfig, GREETING: 'Howdy' } });

    const res = await request(app).get('/api/greeting').query({ name: 'Ada' });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ greeting: 'Howdy, Ada!' });
  });

  it.each([
    ['missing', ''],
    ['empty', '?name='],
    ['too long', `?name=${'a'.repeat(51)}`],
    ['markup', '?name=%3Cscript%3E'],
    ['repeated', '?name=a&name=b'],
  ])('when the name is %s, then it answers 400 naming the field', async (_case, query) => {
    const { app } = buildTestApp();

    const res = await request(app).get(`/api/greeting${query}`);

    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'invalid_request', message: expect.stringContaining('"name"') as string, field: 'name', requestId: expect.any(String) as string },
    });
  });
});

describe('POST /api/greeting', () => {
  it('when the body is valid JSON, then it greets the name', async () => {
    const { app } = buildTestApp();

    const res = await request(app).post('/api/greeting').send({ name: 'Grace' });

    expect(res.status).toBe(200);
    expect(res.body).toEqual(greetingOf('Grace'));
  });

  it('when the body lacks the field, then it answers 400 naming the field', async () => {
    const { app } = buildTestApp();

    const res = await request(app).post('/api/greeting').send({ nom: 'Grace' });

    expect(res.status).toBe(400);
    expect((res.body as { error: unknown }).error).toMatchObject({ code: 'invalid_request', field: 'name' });
  });
});

describe('bad input', () => {
  const cases: [name: string, status: number, code: string, send: (app: ReturnType<typeof buildTestApp>['app']) => request.Test][] = [
    ['malformed JSON', 400, 'invalid_json', (app) => request(app).post('/api/greeting').set('Content-Type', 'application/json').send('{"name": ')],
    ['a wrong content type', 415, 'unsupported_media_type', (app) => request(app).post('/api/greeting').set('Content-Type', 'text/plain').send('name=Ada')],
    ['no content type', 415, 'unsupported_media_type', (app) => request(app).post('/api/greeting')],
    ['an oversized body', 413, 'payload_too_large', (app) => request(app).post('/api/greeting').send({ name: 'A', pad: 'x'.repeat(2048) })],
    ['an unsupported charset', 415, 'unsupported_charset', (app) => request(app).post('/api/greeting').set('Content-Type', 'application/json; charset=klingon').send('{}')],
    ['an unknown route', 404, 'not_found', (app) => request(app).get('/no/such/route')],
    ['a known path with the wrong method', 404, 'not_found', (app) => request(app).delete('/api/greeting')],
    ['an invalid query', 400, 'invalid_request', (app) => request(app).get('/api/greeting?name=%00')],
    ['OPTIONS on a known path', 404, 'not_found', (app) => request(app).options('/api/greeting')],
    ['OPTIONS on the health path', 404, 'not_found', (app) => request(app).options('/health')],
    ...(['gzip', 'deflate', 'br'] as const).map(
      (encoding): (typeof cases)[number] => [
        `a body that is not valid ${encoding}`,
        400,
        'invalid_encoding',
        (app) => request(app).post('/api/greeting').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send('{"name":"Ada"}'),
      ],
    ),
    ['an unknown Content-Encoding', 415, 'unsupported_encoding', (app) => request(app).post('/api/greeting').set('Content-Type', 'application/json').set('Content-Encoding', 'compress').send('{}')],
    ['two stacked Content-Encodings', 415, 'unsupported_encoding', (app) => request(app).post('/api/greeting').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip, br').send('{}')],
  ];

  it.each(cases)('when the request has %s, then it answers %i %s as JSON with the request id and no internals', async (_name, status, code, send) => {
    const { app } = buildTestApp();

    const res = await send(app);

    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) as string, requestId: res.headers['x-request-id'] as string }) as object });
    expectNoInternals(res.body);
  });

  it.each(cases)('when the request has %s, then nothing is logged at error level', async (_name, _status, _code, send) => {
    const { app, logs } = buildTestApp();

    await send(app);

    expect(logs.lines().filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('when a body is validly %s-encoded, then it is decoded and served', async (encoding, encode) => {
    const { app } = buildTestApp();

    const res = await request(app)
      .post('/api/greeting')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      // The bytes as they are: superagent would serialize a Buffer for a JSON content type.
      .serialize((body: string) => body)
      .send(encode(Buffer.from('{"name":"Ada"}')));

    expect(res.status).toBe(200);
    expect(res.body).toEqual(greetingOf('Ada'));
  });

  it('when an error of any origin carries a 4xx status, then that status is the answer, with the standard phrase and not its message', async () => {
    const { app } = buildTestApp({
      routes: [
        () => {
          const router = Router();
          router.get('/teapot', () => {
            throw Object.assign(new Error('internal detail at /srv/app/dist/x.js:1'), { status: 418 });
          });
          return router;
        },
      ],
    });

    const res = await request(app).get('/teapot');

    expect(res.status).toBe(418);
    expect((res.body as { error: unknown }).error).toMatchObject({ code: 'i_m_a_teapot', message: "I'm a Teapot" });
    expectNoInternals(res.body);
  });
});

describe('thrown errors', () => {
  const originalNodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = originalNodeEnv;
  });

  it.each([
    ['sync', 'unset', '/boom/sync'],
    ['async', 'unset', '/boom/async'],
    ['non-Error', 'unset', '/boom/string'],
    ['sync', 'development', '/boom/sync'],
    ['async', 'production', '/boom/async'],
  ])('when a route throws (%s, NODE_ENV %s), then it answers 500 JSON with a request id and no stack or paths', async (_kind, nodeEnv, path) => {
    if (nodeEnv === 'unset') delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    const { app, logs } = buildTestApp({ routes: [...serviceRoutes, () => failingRoutes()] });

    const res = await request(app).get(path).set('x-request-id', 'req-500');

    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'Internal server error', requestId: 'req-500' } });
    expectNoInternals(res.body);
    // The server side keeps the detail, tied to the same request id.
    expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 50, reqId: 'req-500', msg: 'Request failed' }));
  });
});

describe('hardening', () => {
  it('when any response is sent, then it has no X-Powered-By and no ETag (every answer is no-store)', async () => {
    const { app } = buildTestApp();

    const res = await request(app).get('/api/greeting?name=Ada');

    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers.etag).toBeUndefined();
  });

  it('when a request succeeds, is not found, fails or is refused, then it carries every header of the contract\'s SECURITY_HEADERS with its value', async () => {
    const { app } = buildTestApp({ routes: [...serviceRoutes, failingRoutes] });

    const answers = await Promise.all([
      request(app).get('/health'),
      request(app).get('/api/greeting?name=Ada'),
      request(app).post('/api/greeting').send({ name: 'Ada' }),
      request(app).get('/no/such/path'),
      request(app).get('/boom/sync'),
      request(app).options('/health'),
    ]);

    for (const res of answers) {
      const carried = Object.fromEntries(Object.keys(SECURITY_HEADERS).map((name) => [name, res.headers[name] as unknown]));
      expect(carried).toEqual(SECURITY_HEADERS);
    }
  });

  it('when behind the ALB, then trust proxy is one hop: req.ip is the address the ALB saw', () => {
    const { app } = buildTestApp();

    expect(app.get('trust proxy')).toBe(1);
  });
});

describe('request ids and logging', () => {
  it('when the caller sends x-request-id, then it is echoed and on every log line of that request', async () => {
    const { app, logs } = buildTestApp();

    const res = await request(app).get('/api/greeting?name=Ada').set('x-request-id', 'abc-123');

    expect(res.headers['x-request-id']).toBe('abc-123');
    const lines = logs.lines().filter((line) => line.msg === 'request completed');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'abc-123', method: 'GET', path: '/api/greeting', status: 200 })]);
  });

  it('when no or an unsafe request id is sent, then a fresh UUID is used', async () => {
    const { app } = buildTestApp();

    const none = await request(app).get('/health');
    const unsafe = await request(app).get('/health').set('x-request-id', 'evil id {"with":"json"}');

    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the log level is debug, then a health check writes one debug line with its request id', async () => {
    const { app, logs } = buildTestApp();

    await request(app).get('/health').set('x-request-id', 'hc-1');

    const lines = logs.lines().filter((line) => line.msg === 'request completed');
    expect(lines).toEqual([expect.objectContaining({ level: 20, reqId: 'hc-1', path: '/health', status: 200 })]);
  });

  it('when the log level is info, then health checks write nothing and other requests still write their line', async () => {
    const logs = logSink();
    const { app } = buildTestApp({ logger: createLogger({ level: 'info', service: testConfig.SERVICE_NAME }, logs.stream) });

    await request(app).get('/health');
    await request(app).get('/api/greeting?name=Ada').set('x-request-id', 'g-1');

    expect(logs.lines().filter((line) => line.msg === 'request completed')).toEqual([expect.objectContaining({ level: 30, reqId: 'g-1', path: '/api/greeting' })]);
  });

  it('when a route logs an object holding a credential, then its line is redacted while the access line is written whole', async () => {
    const leaky = () => {
      const router = Router();
      router.get('/test/leaky', (req, res) => {
        req.log.info({ user: { name: 'ada', password: 'pw-secret-5' }, headers: { authorization: 'hdr-secret-6' } }, 'signed in');
        res.json({ ok: true });
      });
      return router;
    };
    const { app, logs } = buildTestApp({ routes: [...serviceRoutes, leaky] });

    await request(app).get('/test/leaky').set('x-request-id', 'leak-1');

    expect(logs.text()).not.toMatch(/secret-[56]/);
    expect(logs.lines()).toContainEqual(expect.objectContaining({ reqId: 'leak-1', msg: 'signed in', user: { name: 'ada', password: '[redacted]' }, headers: '[redacted]' }));
    expect(logs.lines()).toContainEqual(expect.objectContaining({ reqId: 'leak-1', msg: 'request completed', method: 'GET', path: '/test/leaky', status: 200 }));
  });

  it('when a request carries a body, query and credentials, then none of them reach the log', async () => {
    const { app, logs } = buildTestApp();

    await request(app)
      .post('/api/greeting?token=qs-secret-1')
      .set('Authorization', 'Bearer hdr-secret-2')
      .set('Cookie', 'session=cookie-secret-3')
      .send({ name: 'Ada', password: 'body-secret-4' });

    expect(logs.text()).toContain('request completed');
    expect(logs.text()).not.toMatch(/secret-[1-4]/);
  });
});
