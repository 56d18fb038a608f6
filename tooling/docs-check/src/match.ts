/**
 * "What you should see" against what a command really printed.
 *
 * The rule, kept small enough to hold in your head:
 * - Every non-blank documented line must match one line of the real output
 *   (stdout and stderr together, as a terminal shows them), in the same order.
 * - Real lines may be skipped before, between and after: the docs show a trimmed output.
 * - `…` (one character, U+2026) matches any text within a line, including none:
 *   times, commit ids, ports, pids. Three ASCII dots are literal (real output uses them).
 * - Leading and trailing spaces, colour codes and carriage-return progress are ignored.
 */
import { stripVTControlCharacters } from 'node:util';

export type MatchResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** The first documented line with no matching real line after the previous match. */
      readonly missing: string;
      /** Index of that line among the documented (non-blank) lines. */
      readonly index: number;
    };

export const WILDCARD = '…';

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Real output as comparable lines: no colour codes, only what a `\r` left visible, trimmed. */
export function outputLines(raw: string): string[] {
  // Node's own stripper: CSI sequences (colours, cursor moves) and OSC ones (titles, links).
  return stripVTControlCharacters(raw)
    .split('\n')
    .map((line) => (line.split('\r').filter((part) => part.trim() !== '').at(-1) ?? '').trim());
}

/** Documented lines: trimmed, blank ones dropped. */
export function expectedLines(lines: readonly string[]): string[] {
  return lines.map((line) => line.trim()).filter((line) => line !== '');
}

/** Whether one documented line (with `…` wildcards) matches one whole real line. */
export function lineMatches(pattern: string, line: string): boolean {
  const parts = pattern.trim().split(WILDCARD).map(escapeRegExp);
  return new RegExp(`^${parts.join('.*')}$`, 's').test(line.trim());
}

/** Checks documented lines against real output: in order, skipping allowed, wildcards honoured. */
export function matchOutput(documented: readonly string[], raw: string): MatchResult {
  const expected = expectedLines(documented);
  const actual = outputLines(raw);
  let next = 0;
  for (const [index, pattern] of expected.entries()) {
    // Earliest match first: for a subsequence, taking the earliest never loses a later match.
    while (next < actual.length && !lineMatches(pattern, actual[next] ?? '')) next++;
    if (next >= actual.length) return { ok: false, missing: pattern, index };
    next++;
  }
  return { ok: true };
}
