// Reliability drill: a property-based HTTP fuzz of the real app on a real
// loopback server. Thousands of generated methods, paths, query strings,
// headers and bodies; no answer may be a 5xx, every error must be the JSON
// contract without a stack or a path, and the server must still be up after.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';

import { buildTestApp, expectNoInternals } from './helpers';

const RUNS = 2_000;
// Bounded by RUNS; the timeout only guards against a hang. ~5 s on an idle
// 2-core machine, far more when CI runs every workspace's tests at once.
const HANG_GUARD_MS = 180_000;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

let server: http.Server;
let port: number;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  server = http.createServer(buildTestApp().app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  // Always a Content-Length with a body: Node's client does not chunk bodies of
  // GET/HEAD/DELETE/OPTIONS, so without it the bytes would follow the request
  // unframed and be parsed as a (malformed) next request.
  const sent = body !== undefined && method !== 'HEAD' ? body : undefined;
  const framed = sent === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(sent)) };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: framed, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: text }));
    });
    req.on('error', reject);
    req.end(sent);
  });
}

/** What is wrong with an answer, or undefined: no 5xx; every error is the JSON contract, without internals. */
function violation(method: string, answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}`;
  if (answer.status < 400 || method === 'HEAD') return undefined;
  if (!/^application\/json/.test(answer.contentType)) return `error answered as ${answer.contentType}`;
  let parsed: { error?: { code?: unknown; requestId?: unknown } };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    return 'error body is not JSON';
  }
  if (typeof parsed.error?.code !== 'string' || typeof parsed.error.requestId !== 'string') return `error body lacks code or requestId: ${answer.body}`;
  try {
    expectNoInternals(parsed);
  } catch {
    return `error body leaks internals: ${answer.body}`;
  }
  return undefined;
}

/** Header-safe text: what a client can actually put on the wire. */
const headerText = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:;/=,+ '.split('')), maxLength: 40 });
const segment = fc.oneof(
  fc.constantFrom('api', 'greeting', 'health', '..', '.', '%2e%2e', '%00', '%ff', '%E0%A4%A', '~', 'index.html', 'etc', 'passwd'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constantFrom('/health', '/api/greeting', '/api/greeting/'),
  fc.array(segment, { minLength: 0, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
);
const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('name', 'Name', 'name[]', 'name[a]', '__proto__', 'constructor', 'x'), fc.string({ maxLength: 60 }), { maxKeys: 3 }).map(
    (entries) => `?${Object.entries(entries).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
  ),
  fc.string({ maxLength: 30 }).map((raw) => `?${raw.replace(/[\s#]/g, '')}`),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'application/*', '*/*', 'garbage');
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.record({ name: fc.oneof(fc.string({ maxLength: 60 }), fc.integer(), fc.constant(null), fc.array(fc.string())) }).map((value) => JSON.stringify(value)),
  fc.constant('x'.repeat(20_000)),
  fc.constant('{"__proto__": {"polluted": true}, "name": "Ada"}'),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
  path,
  query,
  contentType,
  requestId: fc.option(headerText, { nil: undefined }),
  extraHeader: fc.option(
    fc.oneof(
      fc.tuple(fc.constantFrom('x-forwarded-for', 'accept', 'accept-encoding', 'cookie', 'authorization'), headerText),
      // A body that claims an encoding it does not have must be a 4xx, never a 500.
      fc.tuple(fc.constant('content-encoding'), fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip', 'identity', 'gzip, br'), headerText)),
    ),
    { nil: undefined },
  ),
  body,
});

describe('HTTP fuzz', () => {
  it(`when ${RUNS} generated requests hit the app, then none gets a 5xx, every error is the JSON contract without internals, and the server stays up`, async () => {
    let tried = 0;

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        tried += 1;
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
        if (r.extraHeader) headers[r.extraHeader[0]] = r.extraHeader[1];

        const answer = await send(r.method, `${r.path}${r.query}`, headers, r.body);

        expect(violation(r.method, answer)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    const health = await send('GET', '/health', {}, undefined);
    console.log(`HTTP fuzz: ${tried} generated requests tried`);

    expect(tried).toBe(RUNS);
    expect(health.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, HANG_GUARD_MS);
});
