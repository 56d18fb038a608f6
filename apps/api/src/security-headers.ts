import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** What helmet does to a response: headers it sets, in order, and headers it removes. */
export interface SecurityHeaders {
  readonly set: readonly (readonly [name: string, value: string])[];
  readonly removed: readonly string[];
}

/**
 * Asks helmet once, at startup, which headers it sets. helmet() is a chain of
 * a dozen small middlewares, each setting one header on every request; with
 * options whose values are all constants (the defaults are) every request gets
 * the same list, so the service sets that list itself in one call instead of
 * walking helmet's chain per request (see bench/report.md for what it cost).
 * helmet stays the source of the values: upgrading it changes the headers.
 *
 * Throws when an option is a function (helmet calls those per request, e.g.
 * for a CSP nonce), when helmet does anything else to the response, or when it
 * fails (an invalid directive): headers that depend on the request are never
 * frozen by mistake.
 */
export function helmetHeaders(options?: HelmetOptions): SecurityHeaders {
  if (containsFunction(options)) throw new Error('a helmet option is a function, computed per request: its headers cannot be computed once');
  const set: [string, string][] = [];
  const removed: string[] = [];
  const response = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`helmet set ${name} to a non-string value: it cannot be computed once`);
      set.push([name, value]);
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let finished = false;
  helmet(options)({} as never, response as never, (error?: unknown) => {
    if (error !== undefined) throw error instanceof Error ? error : new Error('helmet failed without an Error');
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be computed once');
  return { set, removed };
}

/** Sets `headers` on a response. */
export function applySecurityHeaders(res: Parameters<RequestHandler>[1], headers: SecurityHeaders): void {
  for (const [name, value] of headers.set) res.setHeader(name, value);
  for (const name of headers.removed) res.removeHeader(name);
}

function containsFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(containsFunction);
}
