import http from 'node:http';
import net, { type Socket } from 'node:net';

import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from '@conveyor/config';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';

import type { Lifecycle } from './lifecycle';

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
 * 3. After a short grace (`idleGraceMs`, at most half the deadline) sockets
 *    that stayed idle are closed.
 * 4. When no request is in flight and no socket is open, exit with `exitCode`.
 *    At the deadline, exit 1 if a request is still running.
 */
export function createGracefulServer(options: GracefulServerOptions): GracefulServer {
  const { lifecycle, logger, shutdownTimeoutMs, exit } = options;
  const server = http.createServer(options.handler);
  // Outlive the ALB's idle timeout (see @conveyor/config's contract for why).
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;

  // A request Node cannot even parse never reaches Express: answer it with the
  // same JSON error contract instead of Node's plain-text 400, and close.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'headers_too_large', message: 'Request headers are too large' }
        : { code: 'bad_request', message: 'Malformed HTTP request' },
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  const sockets = new Set<Socket>();
  const inFlight = new Set<{ req: http.IncomingMessage; res: http.ServerResponse }>();
  let shuttingDown: { exitCode: number; timers: NodeJS.Timeout[] } | undefined;
  let exited = false;

  const finish = (code: number) => {
    if (exited) return;
    exited = true;
    for (const timer of shuttingDown?.timers ?? []) clearTimeout(timer);
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

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const entry = { req, res };
    inFlight.add(entry);
    // 'close' fires when the response is finished or the connection is gone.
    res.once('close', () => {
      inFlight.delete(entry);
      // Idle sockets are not closed here, even with nothing in flight: under
      // load a socket is "idle" for the instant between a response and the
      // client's next request, and closing it then resets that request (a
      // pm2 reload measured one reset per open socket that way). Each socket
      // instead gets its next answer with Connection: close (step 1), and the
      // grace timer closes the ones that stay quiet (step 3).
      checkDrained();
    });
  });

  const shutdown = (reason: string, exitCode = 0) => {
    if (shuttingDown) {
      logger.warn({ reason }, 'Shutdown already in progress; ignoring');
      return;
    }
    logger.info({ reason, inFlight: inFlight.size, sockets: sockets.size, deadlineMs: shutdownTimeoutMs }, 'Shutting down');
    lifecycle.draining = true;
    for (const { res } of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');

    const idleGraceMs = Math.min(options.idleGraceMs ?? 1_000, Math.floor(shutdownTimeoutMs / 2));
    shuttingDown = {
      exitCode,
      timers: [
        setTimeout(() => server.closeIdleConnections(), idleGraceMs),
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
