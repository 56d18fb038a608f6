import { STATUS_CODES } from 'node:http';

import type { ErrorRequestHandler, RequestHandler } from 'express';

export interface AppErrorOptions {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Stable, machine-readable error code, e.g. `invalid_request`. */
  readonly code: string;
  /** Whether `message` may be shown to the client. Unexposed errors answer a generic text. @default status < 500 */
  readonly expose?: boolean;
  /** The request field at fault, for validation errors. */
  readonly field?: string;
  readonly cause?: unknown;
}

/** The one error type the service throws on purpose. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly field: string | undefined;

  constructor(message: string, options: AppErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status;
    this.code = options.code;
    this.expose = options.expose ?? options.status < 500;
    this.field = options.field;
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string; field?: string };
}

/**
 * Errors raised by Express's own body parser (the `http-errors` shape). Their
 * messages can quote parser internals, so each type gets a fixed text.
 */
const BODY_PARSER_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'Request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'Request body is too large' },
  'entity.verify.failed': { status: 400, code: 'invalid_body', message: 'Request body failed verification' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'Content-Encoding is not supported' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'Charset is not supported' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'Request was aborted' },
  'request.size.invalid': { status: 400, code: 'invalid_body', message: 'Request body size does not match Content-Length' },
  'stream.encoding.set': { status: 500, code: 'internal_error', message: 'Internal server error' },
};

/**
 * A body that does not decode as its Content-Encoding says (bad gzip, deflate
 * or brotli data): zlib's error, which the body parser passes on with status
 * 400 but no `type`.
 */
const ZLIB_ERROR_CODE = /^(Z_|ERR_BROTLI|ERR__ERROR)/;

/** The status of an error that says it is the client's fault (`http-errors` and Node's shape), else undefined. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500 ? value : undefined;
}

function toResponse(error: unknown): { status: number; code: string; message: string; field?: string } {
  if (error instanceof AppError) {
    return error.expose
      ? { status: error.status, code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) }
      : { status: error.status, code: error.code, message: 'Internal server error' };
  }
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) return BODY_PARSER_ERRORS[type];
  // Any other error that carries a 4xx status is the client's doing, whatever
  // raised it: answer that status, never a 500 (a 5xx is what the rollback
  // alarms count, so a client must not be able to cause one). Its message
  // may quote internals, so the text is the status's standard phrase.
  const status = clientErrorStatus(error);
  if (status !== undefined) {
    const code = (error as { code?: unknown }).code;
    if (status === 400 && typeof code === 'string' && ZLIB_ERROR_CODE.test(code)) {
      return { status, code: 'invalid_encoding', message: 'Request body does not match its Content-Encoding' };
    }
    const phrase = STATUS_CODES[status] ?? 'Bad Request';
    return { status, code: phrase.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, ''), message: phrase };
  }
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}

/** Unknown routes: 404 JSON, never Express's HTML page. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError('No route matches this method and path', { status: 404, code: 'not_found' }));
};

/**
 * The one error middleware. It answers JSON with the request id and never a
 * stack, an internal message or a file path, whatever NODE_ENV is. Server-side
 * errors are logged with their stack; client errors at debug level.
 */
export const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const { status, code, message, field } = toResponse(error);
  if (status >= 500) req.log.error({ err: error }, 'Request failed');
  else req.log.debug({ code }, 'Request rejected');
  const body: ErrorBody = { error: { code, message, requestId: req.id, ...(field ? { field } : {}) } };
  res.status(status).json(body);
};
