import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ACCEPTANCE_ROUTE, HEALTH_PATH, SECURITY_HEADERS } from '@conveyor/config/contract';
import fc from 'fast-check';

import { UNKNOWN_ROUTE, commitMatches, formatCheck, normalizeBaseUrl, runAcceptance, type AcceptanceResult } from '../check';
import { runCli } from '../cli';

/** How the fake service misbehaves; by default it answers like the real one. */
interface Behaviour {
  commit: string;
  healthStatus: number;
  exampleStatus: number;
  exampleBody: string;
  notFoundBody: string;
  notFoundStatus: number;
  missingHeaders: readonly string[];
  /** Security headers answered with another value than the contract's. */
  alteredHeaders: readonly string[];
  poweredBy: boolean;
  stallMs: number;
}

const GOOD: Behaviour = {
  commit: '3f2c1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e',
  healthStatus: 200,
  exampleStatus: 200,
  exampleBody: JSON.stringify({ greeting: 'Hello, Ada!' }),
  notFoundBody: JSON.stringify({ error: { code: 'not_found', message: 'No route matches this method and path', requestId: 'r-1' } }),
  notFoundStatus: 404,
  missingHeaders: [],
  alteredHeaders: [],
  poweredBy: false,
  stallMs: 0,
};

let behaviour: Behaviour = GOOD;
let server: http.Server;
let baseUrl: string;

function answer(res: http.ServerResponse, status: number, body: string): void {
  for (const [header, value] of Object.entries(SECURITY_HEADERS)) {
    if (behaviour.missingHeaders.includes(header)) continue;
    res.setHeader(header, behaviour.alteredHeaders.includes(header) ? `${value}, altered` : value);
  }
  if (behaviour.poweredBy) res.setHeader('x-powered-by', 'Express');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const reply = () => {
      if (req.url === HEALTH_PATH) answer(res, behaviour.healthStatus, JSON.stringify({ status: 'ok', commit: behaviour.commit }));
      else if (req.url === ACCEPTANCE_ROUTE) answer(res, behaviour.exampleStatus, behaviour.exampleBody);
      else answer(res, behaviour.notFoundStatus, behaviour.notFoundBody);
    };
    if (behaviour.stallMs > 0) setTimeout(reply, behaviour.stallMs);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  behaviour = GOOD;
});

function byName(result: AcceptanceResult): Record<string, { passed: boolean; detail: string }> {
  return Object.fromEntries(result.checks.map((c) => [c.name, { passed: c.passed, detail: c.detail }]));
}

function failedNames(result: AcceptanceResult): string[] {
  return result.checks.filter((c) => !c.passed).map((c) => c.name);
}

describe('runAcceptance', () => {
  it('when the service answers like the real one, then all four checks pass, in order', async () => {
    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(result.passed).toBe(true);
    expect(result.checks.map((c) => c.name)).toEqual(['health', 'example route', 'unknown route', 'security headers']);
  });

  it('when /health reports another commit, then only the health check fails, naming both commits', async () => {
    behaviour = { ...GOOD, commit: 'aaaaaaaaaaaaaaaa' };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['health']);
    expect(byName(result).health?.detail).toBe(`GET ${HEALTH_PATH} reports commit "aaaaaaaaaaaaaaaa", expected ${GOOD.commit}`);
  });

  it('when /health answers 503 (draining), then the health check fails naming the status', async () => {
    behaviour = { ...GOOD, healthStatus: 503 };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['health']);
    expect(byName(result).health?.detail).toContain('answered 503, expected 200');
  });

  it('when the example route answers 500, then the example route check fails', async () => {
    behaviour = { ...GOOD, exampleStatus: 500, exampleBody: JSON.stringify({ error: { code: 'internal_error' } }) };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['example route']);
    expect(byName(result)['example route']?.detail).toBe(`GET ${ACCEPTANCE_ROUTE} answered 500, expected 200`);
  });

  it('when the example route answers 200 with HTML, then the example route check fails', async () => {
    behaviour = { ...GOOD, exampleBody: '<html>' };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['example route']);
  });

  it('when an unknown route answers 200 (a catch-all), then the unknown route check fails', async () => {
    behaviour = { ...GOOD, notFoundStatus: 200 };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['unknown route']);
    expect(byName(result)['unknown route']?.detail).toBe(`GET ${UNKNOWN_ROUTE} answered 200, expected 404`);
  });

  it('when the 404 is not the service JSON error body, then the unknown route check fails', async () => {
    behaviour = { ...GOOD, notFoundBody: 'Cannot GET /acceptance-check/no-such-route' };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['unknown route']);
  });

  it('when any set of security headers is missing, then the headers check fails naming exactly those', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(Object.keys(SECURITY_HEADERS), { minLength: 1 }), async (missing) => {
        behaviour = { ...GOOD, missingHeaders: missing };

        const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

        expect(failedNames(result)).toEqual(['security headers']);
        expect(byName(result)['security headers']?.detail).toContain(`GET ${HEALTH_PATH} lacks ${missing.join(', ')}`);
      }),
      { numRuns: 25 },
    );
  });

  it('when a security header has another value than the contract\'s, then the headers check fails naming it and both values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(SECURITY_HEADERS)), async (header) => {
        behaviour = { ...GOOD, alteredHeaders: [header] };

        const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

        const value = SECURITY_HEADERS[header] ?? '';
        expect(failedNames(result)).toEqual(['security headers']);
        expect(byName(result)['security headers']?.detail).toContain(`GET ${HEALTH_PATH} has ${header}: ${value}, altered, expected ${value}`);
      }),
      { numRuns: 10 },
    );
  });

  it('when a response reveals x-powered-by, then the headers check fails', async () => {
    behaviour = { ...GOOD, poweredBy: true };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit });

    expect(failedNames(result)).toEqual(['security headers']);
    expect(byName(result)['security headers']?.detail).toContain('reveals x-powered-by');
  });

  it('when the service stalls past the timeout, then every check fails naming the bound', async () => {
    behaviour = { ...GOOD, stallMs: 500 };

    const result = await runAcceptance({ baseUrl, commit: GOOD.commit, timeoutMs: 200 });

    expect(failedNames(result)).toEqual(['health', 'example route', 'unknown route', 'security headers']);
    expect(byName(result).health?.detail).toBe(`GET ${HEALTH_PATH}: no answer within 200 ms`);
  });

  it('when nothing listens, then the connection is retried the configured number of times and the checks fail naming ECONNREFUSED', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const result = await runAcceptance({ baseUrl: `http://127.0.0.1:${port}`, commit: GOOD.commit, connectAttempts: 2, retryDelayMs: 10 });

    expect(result.passed).toBe(false);
    expect(byName(result).health?.detail).toBe(`GET ${HEALTH_PATH}: ECONNREFUSED after 2 attempts`);
  });

  it('when the listener comes up during the retries, then the checks pass', async () => {
    const late = http.createServer((req, res) => server.emit('request', req, res));
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    setTimeout(() => late.listen(port, '127.0.0.1'), 100);

    const result = await runAcceptance({ baseUrl: `http://127.0.0.1:${port}`, commit: GOOD.commit, connectAttempts: 20, retryDelayMs: 50 });

    late.closeAllConnections();
    await new Promise((resolve) => late.close(resolve));
    expect(result.passed).toBe(true);
  });

  it('when a base URL has a path prefix, then the checks ask below it', async () => {
    const seen: string[] = [];
    const prefixed = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      req.url = (req.url ?? '').replace(/^\/env/, '');
      server.emit('request', req, res);
    });
    await new Promise<void>((resolve) => prefixed.listen(0, '127.0.0.1', resolve));

    const result = await runAcceptance({ baseUrl: `http://127.0.0.1:${(prefixed.address() as AddressInfo).port}/env/`, commit: GOOD.commit });

    prefixed.closeAllConnections();
    await new Promise((resolve) => prefixed.close(resolve));
    expect(result.passed).toBe(true);
    expect(seen.sort()).toEqual([`/env${ACCEPTANCE_ROUTE}`, `/env${HEALTH_PATH}`, `/env${UNKNOWN_ROUTE}`].sort());
  });
});

describe('commitMatches', () => {
  it('when the released commit is the reported one or a prefix of 7+ characters, then it matches; shorter or different, not', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{40}$/), fc.integer({ min: 1, max: 40 }), (sha, length) => {
        expect(commitMatches(sha, sha.slice(0, length))).toBe(length >= 7);
        expect(commitMatches(sha.slice(0, length), sha)).toBe(length === 40);
      }),
    );
  });

  it('when /health reports no commit, then nothing matches', () => {
    expect([commitMatches(undefined, 'abc1234'), commitMatches(42, '42'), commitMatches('', '')]).toEqual([false, false, false]);
  });
});

describe('normalizeBaseUrl', () => {
  it('when given a URL with trailing slashes, then they are dropped', () => {
    expect(normalizeBaseUrl('http://alb.example:8080//')).toBe('http://alb.example:8080');
  });

  it.each([
    ['alb.example', 'not a URL'],
    ['ftp://alb.example', 'must be http:// or https://'],
    ['http://alb.example/?x=1', 'must not carry a query'],
  ])('when given %s, then it is refused: %s', (raw, message) => {
    expect(() => normalizeBaseUrl(raw)).toThrow(message);
  });
});

describe('acceptance-check (the CLI)', () => {
  async function cli(argv: readonly string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, out, err: err.join('\n') };
  }

  it('when every check passes, then it prints one PASS line per check and exits 0', async () => {
    const run = await cli(['--url', baseUrl, '--commit', GOOD.commit.slice(0, 7)]);

    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(4);
    expect(run.out.every((line) => line.startsWith('PASS '))).toBe(true);
  });

  it('when a check fails, then its line says FAIL with the cause and the exit code is 1', async () => {
    behaviour = { ...GOOD, exampleStatus: 500 };

    const run = await cli(['--url', baseUrl, '--commit', GOOD.commit]);

    expect(run.code).toBe(1);
    expect(run.out).toContain(`FAIL example route: GET ${ACCEPTANCE_ROUTE} answered 500, expected 200`);
  });

  it.each([
    [[], '--url is required'],
    [['--url', 'http://x'], '--commit is required'],
    [['--url', 'x', '--commit', 'abc'], '--url not a URL'],
    [['--url', 'http://x', '--commit', 'a b'], '--commit must be a commit id'],
    [['--url', 'http://x', '--commit', 'abc', '--timeout', '0'], '--timeout must be'],
    [['--url', 'http://x', '--commit', 'abc', '--bogus'], "'--bogus'"],
  ])('when called with %j, then it exits 2 naming the flag: %s', async (argv, message) => {
    const run = await cli(argv);

    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect(run.out).toEqual([]);
  });

  it('when given one result, then formatCheck prints PASS or FAIL, the name and the detail', () => {
    expect([formatCheck({ name: 'health', passed: true, detail: 'ok' }), formatCheck({ name: 'x', passed: false, detail: 'why' })]).toEqual([
      'PASS health: ok',
      'FAIL x: why',
    ]);
  });
});
