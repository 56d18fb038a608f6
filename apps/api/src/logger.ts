import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  readonly service: string;
  readonly environment?: string;
  readonly version?: string;
}

/**
 * One JSON logger for the process. Field names that usually hold secrets are
 * redacted as a safety net; the code itself never logs bodies or headers.
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, env: options.environment, version: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.password', '*.secret', '*.token', '*.authorization', '*.cookie', 'headers', 'body'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
