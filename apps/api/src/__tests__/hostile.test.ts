// Every hostile request a client can send on the wire, against the real app
// on the real server (createGracefulServer): each answer is one 4xx in the
// JSON error contract, never a second response on the same socket, never a
// 5xx, and nothing is logged at error level. Requests Node rejects before
// Express (malformed, timed out, no Host, unknown Expect) included.
import net from 'node:net';
import { gzipSync } from 'node:zlib';

import { createLogger } from '../logger';
import { createGracefulServer, type ServerTimeouts } from '../server';
import { buildTestApp, expectNoInternals, logSink } from './helpers';

/** Short timeouts, so the timeout cases take a second, not a minute. */
const SHORT: ServerTimeouts = { keepAliveMs: 5_000, headersMs: 500, requestMs: 500 };

async function startServer(options: { timeouts?: ServerTimeouts; clientErrorLog?: { maxPerInterval?: number; intervalMs?: number } } = {}) {
  const logs = logSink();
  const logger = createLogger({ level: 'debug', service: 'test' }, logs.stream);
  const { app, lifecycle } = buildTestApp({ logger });
  const graceful = createGracefulServer({ handler: app, lifecycle, logger, shutdownTimeoutMs: 1_000, exit: () => undefined, ...options });
  await graceful.listen(0, '127.0.0.1');
  const { port } = graceful.server.address() as net.AddressInfo;
  return { port, logs, graceful, close: () => new Promise<void>((resolve) => graceful.server.close(() => resolve())).then(() => graceful.server.closeAllConnections()) };
}

/**
 * Writes `parts` (with pauses between), then reads until the server closes,
 * or until `quietMs` pass without data after an answer began: long enough for
 * a second response on the same socket to show up.
 */
function exchange(port: number, parts: (string | Buffer)[], quietMs = 400): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(answer);
    };
    const send = async () => {
      for (const part of parts) {
        if (socket.destroyed) break;
        socket.write(part);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    socket.on('connect', () => void send());
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(done, quietMs);
    });
    socket.on('close', done);
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? done() : reject(error)));
  });
}

const statusLines = (answer: string) => answer.match(/HTTP\/1\.1 \d{3} [^\r]*\r\n/g) ?? [];

/** The JSON body of the (single) response in `answer`. */
function bodyOf(answer: string): { error?: { code?: unknown; message?: unknown; requestId?: unknown } } {
  const [, rest = ''] = answer.split('\r\n\r\n');
  return JSON.parse(rest) as { error?: { code?: unknown } };
}

const POST = (headers: string) => `POST /api/greeting HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
const badGzip = Buffer.from('{"name":"Ada"}');
const goodGzip = gzipSync(Buffer.from('{"name":"Ada"}'));

const cases: [name: string, status: number, code: string, parts: (string | Buffer)[]][] = [
  ['an unparsable request line', 400, 'bad_request', ['GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n']],
  ['oversized headers', 431, 'headers_too_large', [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]],
  ['an HTTP/1.1 request without Host', 400, 'missing_host', ['GET /health HTTP/1.1\r\n\r\n']],
  ['an unknown expectation', 417, 'expectation_failed', ['GET /health HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n']],
  ['OPTIONS', 404, 'not_found', ['OPTIONS /api/greeting HTTP/1.1\r\nHost: x\r\n\r\n']],
  ['OPTIONS *', 404, 'not_found', ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n']],
  ['Content-Length and Transfer-Encoding together', 400, 'bad_request', [POST('Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n') + '0\r\n\r\n']],
  ['two different Content-Lengths', 400, 'bad_request', [POST('Content-Length: 2\r\nContent-Length: 3\r\n') + '{}']],
  ['a header with a control character', 400, 'bad_request', ['GET /health HTTP/1.1\r\nHost: x\r\nX-Evil: a\x01b\r\n\r\n']],
  ['a bad chunk size', 400, 'bad_request', [POST('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n') + 'zz\r\n{}\r\n0\r\n\r\n']],
  ['a body that is not gzip but says so', 400, 'invalid_encoding', [POST(`Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${badGzip.length}\r\n`), badGzip]],
  ['a truncated gzip body', 400, 'invalid_encoding', [POST(`Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n`), goodGzip.subarray(0, 10)]],
  ['an unknown Content-Encoding', 415, 'unsupported_encoding', [POST('Content-Type: application/json\r\nContent-Encoding: zstd-ish\r\nContent-Length: 2\r\n') + '{}']],
  ['a bad chunk after the app has answered', 415, 'unsupported_media_type', [POST('Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n') + '5\r\nhello\r\n', 'not-a-chunk\r\n\r\n']],
  ['headers that never end', 408, 'request_timeout', ['GET /health HTTP/1.1\r\nHost: x\r\n']],
  ['a body that trickles past the request timeout', 408, 'request_timeout', [POST('Content-Type: application/json\r\nContent-Length: 100\r\n') + '{"name":']],
  ['a connection that sends nothing', 408, 'request_timeout', []],
];

describe('hostile requests on the wire', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ timeouts: SHORT });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(cases)('when a client sends %s, then it gets exactly one %i %s JSON answer and no error is logged', async (_name, status, code, parts) => {
    const before = server.logs.lines().length;

    const answer = await exchange(server.port, parts);

    expect(statusLines(answer)).toEqual([expect.stringMatching(new RegExp(`^HTTP/1\\.1 ${status} `)) as string]);
    expect(answer).toMatch(/\r\ncontent-type: application\/json/i);
    const body = bodyOf(answer);
    expect(body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) as string, requestId: expect.any(String) as string }) as object });
    expectNoInternals(body);
    expect(server.logs.lines().slice(before).filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  it('when Node rejects a request, then the rejection is logged at warn with its code, never its bytes', async () => {
    const fresh = await startServer();

    await exchange(fresh.port, ['GARBAGE /secret-path-71 HTTP/1.1\r\nHost: x\r\n\r\n']);
    await fresh.close();

    const lines = fresh.logs.lines();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'Client error', code: expect.stringMatching(/^HPE_/) as string, status: 400 }));
    expect(JSON.stringify(lines)).not.toContain('secret-path-71');
  });
});

describe('client-error logging under a flood', () => {
  it('when many malformed requests arrive, then only the allowance is logged, and shutdown writes one summary counting the rest', async () => {
    const server = await startServer({ clientErrorLog: { maxPerInterval: 3, intervalMs: 600_000 } });
    try {
      for (let i = 0; i < 12; i += 1) await exchange(server.port, ['GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n']);
      const duringFlood = server.logs.lines().filter((line) => String(line.msg).startsWith('Client error'));
      server.graceful.shutdown('test');
      while (!server.logs.lines().some((line) => line.msg === 'Shutdown complete')) await new Promise((resolve) => setTimeout(resolve, 20));

      const summaries = server.logs.lines().filter((line) => String(line.msg).startsWith('Client errors suppressed'));
      expect(duringFlood).toHaveLength(3);
      expect(summaries).toEqual([expect.objectContaining({ level: 40, suppressed: 9 })]);
    } finally {
      await server.close();
    }
  });
});
