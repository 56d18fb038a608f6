import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  readonly service: string;
  readonly environment?: string;
  readonly version?: string;
  /** The commit the running build was made from: on every line, so a log query can pick one release. */
  readonly commit?: string;
}

/** A log destination whose buffered lines can be written out at once. */
export interface FlushableDestination extends DestinationStream {
  /** Writes every buffered line now, synchronously. */
  flushSync(): void;
}

/** Past this many buffered characters a batch is written at once, whatever the event loop is doing. */
const MAX_BATCH_CHARS = 64 * 1024;

/**
 * Standard output, written in batches: every line logged during one turn of
 * the event loop is kept in memory and written with one synchronous write
 * (sonic-boom, pino's own destination) in the check phase that ends the
 * turn, or at once past 64 KiB. Under load one turn answers many requests,
 * and one write(2) per access line was the largest cost of the service's own
 * code (bench/report.md).
 *
 * Nothing is lost and nothing comes out of order:
 * - Every write is synchronous, so no write is ever in flight when the
 *   process exits: what pino's asynchronous destination (`sync: false`)
 *   could not promise (the last lines of a shutdown came out in the wrong
 *   order at `process.exit`, "Shutdown complete" before "Shutting down").
 * - An `exit` listener writes what is buffered. Node runs it on
 *   `process.exit` (every exit of the service: drained, deadline, fatal
 *   error, boot failure) and after an uncaught exception.
 * Only a process killed outright (SIGKILL, a native crash) loses the lines
 * of the turn it was in; pm2 and CodeDeploy stop the service with SIGINT or
 * SIGTERM, which drain and exit.
 *
 * One destination for every logger of the process, so their lines
 * interleave in the order they were logged.
 */
export function stdoutDestination(): FlushableDestination {
  return batchedDestination(pino.destination({ dest: 1, sync: true }));
}

/** Batches the lines written to `target` per event-loop turn (see stdoutDestination). */
export function batchedDestination(target: { write(text: string): unknown }): FlushableDestination {
  let pending = '';
  let scheduled = false;
  const flushSync = () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    target.write(text);
  };
  const flushTurn = () => {
    scheduled = false;
    flushSync();
  };
  process.on('exit', flushSync);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= MAX_BATCH_CHARS) flushSync();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushTurn);
      }
    },
    flushSync,
  };
}

/**
 * One JSON logger for the process. Field names that usually hold secrets are
 * redacted as a safety net; the code itself never logs bodies or headers.
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, env: options.environment, version: options.version, commit: options.commit },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.password', '*.secret', '*.token', '*.authorization', '*.cookie', 'headers', 'body'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
