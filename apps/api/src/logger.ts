import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  readonly service: string;
  readonly environment?: string;
  readonly version?: string;
  /** The commit the running build was made from: on every line, so a log query can pick one release. */
  readonly commit?: string;
}

/**
 * Standard output, written synchronously. Pino's default destination writes
 * asynchronously, and at `process.exit` it flushes what is buffered while an
 * earlier write may still be in flight: the last lines of a shutdown came out
 * in the wrong order ("Shutdown complete" before "Shutting down"). One
 * destination for every logger of the process, so their lines interleave in
 * the order they were logged. A synchronous write per line costs little next
 * to the request it logs (see bench/report.md for the service's throughput).
 */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
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
