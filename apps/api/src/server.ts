import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type Socket } from 'node:net';

import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '@conveyor/config';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';

import { createClientErrorLog } from './client-error-log';
import type { Lifecycle } from './lifecycle';

/** The server's HTTP timeouts, in ms. */
export interface ServerTimeouts {
  /** Idle time before a keep-alive socket is closed. */
  readonly keepAliveMs: number;
  /** Time from a request's first byte to the end of its headers. */
  readonly headersMs: number;
  /** Time from a request's first byte to the end of its body; at least `headersMs` (Node checks). */
  readonly requestMs: number;
}

const CONTRACT_TIMEOUTS: ServerTimeouts = {
  keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
  headersMs: HEADERS_TIMEOUT_MS,
  requestMs: REQUEST_TIMEOUT_MS,
};

/**
 * How often Node checks the headers and request timeouts. Its default (30 s)
 * lets a timed-out request live up to 30 s longer; the check only visits
 * sockets in the middle of a request, so every second costs next to nothing.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Answers to requests Node rejects before the app sees them, by Node's error code. */
const CLIENT_ERROR_ANSWERS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'Request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'The request was not received in time' },
};
const MALFORMED = { status: 400, code: 'bad_request', message: 'Malformed HTTP request' };

/** The error contract's JSON, as raw HTTP/1.1 bytes for a socket no ServerResponse owns. */
function rawJsonError(status: number, code: string, message: string, requestId: string): string {
  const body = JSON.stringify({ error: { code, message, requestId } });
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Node's per-socket HTTP state. Private fields, the ones Node's own clientError default reads. */
interface HttpSocketState {
  /** The response currently attached to the socket, if any; `_headerSent` once bytes of it went out. */
  _httpMessage?: { _headerSent?: boolean } | null;
  /** The parser; `incoming` is the last request whose headers were parsed. */
  parser?: { incoming?: http.IncomingMessage | null } | null;
}

/**
 * Whether the server may still write an answer of its own on this socket.
 * Not when the peer is gone, nor when a response is already on it: either
 * bytes of the attached response went out, or the error is in the body of a
 * request the app already answered (its response finished and was detached
 * before the bad chunk arrived). A second status line there would be read by
 * the client as the answer to its next request.
 */
function mayAnswer(error: NodeJS.ErrnoException, socket: Socket): boolean {
  if (error.code === 'ECONNRESET' || !socket.writable) return false;
  const state = socket as Socket & HttpSocketState;
  const attached = state._httpMessage;
  if (attached) return attached._headerSent !== true;
  const parsing = state.parser?.incoming;
  return !parsing || parsing.complete;
}

export interface GracefulServerOptions {
  readonly handler: RequestListener;
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
  /** Deadline for in-flight requests once shutdown begins; past it the process exits 1. */
  readonly shutdownTimeoutMs: number;
  /**
   * How long idle keep-alive sockets stay open after shutdown begins, so each
   * can have its next request answered with `Connection: close`. Capped at
   * half the deadline. @default 1000
   */
  readonly idleGraceMs?: number;
  /** Ends the process. Injected so the sequence can be driven in a test. */
  readonly exit: (code: number) => void;
  /** @default - the contract's KEEP_ALIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS */
  readonly timeouts?: ServerTimeouts;
  /** Rate of client-error log lines. @default - 10 per minute, then one summary line */
  readonly clientErrorLog?: { readonly maxPerInterval?: number; readonly intervalMs?: number };
}

export interface GracefulServer {
  readonly server: http.Server;
  /** Starts listening; resolves once the port is bound. */
  listen(port: number, host: string): Promise<void>;
  /**
   * Begins a graceful shutdown. Safe to call more than once: later calls are
   * logged and ignored. `exitCode` is used when everything drains in time.
   */
  shutdown(reason: string, exitCode?: number): void;
}

/**
 * An HTTP server that drains instead of dropping connections.
 *
 * Shutdown, in order:
 * 1. `/health` turns 503 and every response carries `Connection: close`.
 * 2. The listener stops accepting connections. This deliberately skips
 *    `http.Server#close`, which (Node >= 19) also closes idle keep-alive
 *    sockets at once: a client that is sending its next request on such a
 *    socket at that instant gets a reset. Instead each socket's next request
 *    is answered, with `Connection: close`, so the client reconnects elsewhere.
 * 3. After a short grace (`idleGraceMs`, at most half the deadline) every
 *    socket with no request in flight is closed, including ones that never
 *    sent a request.
 * 4. When no request is in flight and no socket is open, exit with `exitCode`.
 *    At the deadline, exit 1 if a request is still running.
 */
export function createGracefulServer(options: GracefulServerOptions): GracefulServer {
  const { lifecycle, logger, shutdownTimeoutMs, exit } = options;
  const timeouts = options.timeouts ?? CONTRACT_TIMEOUTS;
  const server = http.createServer(
    {
      // Every timeout set on purpose (see @conveyor/config's contract for why these values).
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      // A request without Host is answered by the app, as JSON (see app.ts).
      requireHostHeader: false,
    },
    // No handler here: the 'request' listener below tracks each request and
    // then calls it, one listener (Node copies the listener array on every
    // emit of an event that has two).
  );
  // Outlive the ALB's idle timeout.
  server.keepAliveTimeout = timeouts.keepAliveMs;

  const logClientError = createClientErrorLog({ logger, ...options.clientErrorLog });

  // A request Node cannot even parse, or that timed out, never reaches
  // Express: answer it with the same JSON error contract instead of Node's
  // plain-text one (408 for a timeout, 431 for oversized headers, else 400),
  // once, and close.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const answer = (error.code && CLIENT_ERROR_ANSWERS[error.code]) || MALFORMED;
    const canAnswer = mayAnswer(error, socket);
    // A reset is a client leaving, not an attack: not worth a line.
    if (error.code !== 'ECONNRESET') {
      logClientError({ code: error.code ?? 'unknown', status: answer.status, answered: canAnswer, remoteAddress: socket.remoteAddress });
    }
    if (!canAnswer) {
      socket.destroy();
      return;
    }
    socket.end(rawJsonError(answer.status, answer.code, answer.message, randomUUID()));
  });

  // `Expect` other than 100-continue: Node would answer an empty 417 itself.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requestId = randomUUID();
    logClientError({ code: 'unsupported_expectation', status: 417, answered: true, remoteAddress: req.socket.remoteAddress });
    const body = JSON.stringify({ error: { code: 'expectation_failed', message: 'Only the expectation 100-continue is supported', requestId } });
    res.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'x-request-id': requestId, Connection: 'close' });
    res.end(body);
  });

  const sockets = new Set<Socket>();
  /** Responses not yet closed; each one's request is `res.req`. */
  const inFlight = new Set<http.ServerResponse>();
  let shuttingDown: { exitCode: number; timers: NodeJS.Timeout[] } | undefined;
  let exited = false;

  const finish = (code: number) => {
    if (exited) return;
    exited = true;
    for (const timer of shuttingDown?.timers ?? []) clearTimeout(timer);
    logClientError.flush();
    logger.info({ exitCode: code }, 'Shutdown complete');
    exit(code);
  };

  const checkDrained = () => {
    if (shuttingDown && inFlight.size === 0 && sockets.size === 0) finish(shuttingDown.exitCode);
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      checkDrained();
    });
  });

  // 'close' fires when the response is finished or the connection is gone.
  // One function for every response (`this` is the response), not a closure each.
  function onResponseClose(this: http.ServerResponse): void {
    inFlight.delete(this);
    // Idle sockets are not closed here, even with nothing in flight: under
    // load a socket is "idle" for the instant between a response and the
    // client's next request, and closing it then resets that request (a
    // pm2 reload measured one reset per open socket that way). Each socket
    // instead gets its next answer with Connection: close (step 1), and the
    // grace timer closes the ones that stay quiet (step 3).
    checkDrained();
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.add(res);
    res.on('close', onResponseClose);
    options.handler(req, res);
  });

  const shutdown = (reason: string, exitCode = 0) => {
    if (shuttingDown) {
      logger.warn({ reason }, 'Shutdown already in progress; ignoring');
      return;
    }
    logger.info({ reason, inFlight: inFlight.size, sockets: sockets.size, deadlineMs: shutdownTimeoutMs }, 'Shutting down');
    lifecycle.draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');

    const idleGraceMs = Math.min(options.idleGraceMs ?? 1_000, Math.floor(shutdownTimeoutMs / 2));
    shuttingDown = {
      exitCode,
      timers: [
        // Every socket with no request in flight: idle keep-alive ones, and
        // ones that never sent a request (which Node's closeIdleConnections
        // leaves open until the headers timeout, past the deadline).
        setTimeout(() => {
          const busy = new Set<Socket>();
          for (const res of inFlight) busy.add(res.req.socket);
          for (const socket of sockets) if (!busy.has(socket)) socket.destroy();
        }, idleGraceMs),
        setTimeout(() => {
          if (inFlight.size === 0) {
            finish(exitCode);
            return;
          }
          const abandoned = [...inFlight].map(({ req }) => `${req.method ?? '?'} ${(req.url ?? '').split('?')[0] ?? ''}`);
          logger.error({ abandoned }, `Shutdown deadline of ${shutdownTimeoutMs} ms passed with requests still running`);
          finish(1);
        }, shutdownTimeoutMs),
      ],
    };
    // Stop accepting without closing idle keep-alive sockets (see step 2 above).
    if (server.listening) net.Server.prototype.close.call(server);
    checkDrained();
  };

  const listen = (port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });

  return { server, listen, shutdown };
}
