// Key paths and line numbers for the YAML files the rehearsal reads
// (buildspec.yml, appspec.yml): zod reports where a value is wrong as a path,
// the YAML parser keeps each node's position, and an error names both.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

/** A key's path in a YAML file: `['phases', 'build', 'commands', 2]`. */
export type KeyPath = readonly (string | number)[];

/** The line of a key path in a parsed document, 1-based. */
export type KeyLocator = (path: KeyPath) => number | undefined;

/** One problem with one key. */
export interface KeyProblem {
  readonly key: string;
  readonly line?: number;
  readonly problem: string;
}

/** `['phases', 'build', 'commands', 2]` → `phases.build.commands[2]`. */
export function keyName(path: KeyPath): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Finds the line of a key in YAML text, for problems found after parsing
 * (the build runner's local limitations).
 */
export function keyLocator(text: string): KeyLocator {
  const lineCounter = new LineCounter();
  return locatorFor(parseDocument(text, { schema: 'failsafe', lineCounter }), lineCounter);
}

/** The line of the deepest key of a path present in the document (a key's own line, not its value's). */
export function locatorFor(doc: Document, lineCounter: LineCounter): KeyLocator {
  const rangeLine = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    return range?.[0] === undefined ? undefined : lineCounter.linePos(range[0]).line;
  };
  return (path) => {
    let node: unknown = doc.contents;
    let line = rangeLine(node);
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === step);
        if (pair === undefined) break;
        line = rangeLine(pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        const item: unknown = node.items[step];
        if (item === undefined) break;
        line = rangeLine(item) ?? line;
        node = item;
      } else {
        break;
      }
    }
    return line;
  };
}

/** Every zod issue as a problem naming its key and line; an unknown key is reported at the key itself. */
export function problemsOf(error: z.ZodError, locate: KeyLocator): KeyProblem[] {
  return error.issues.flatMap((issue) => {
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    return paths.map((p) => {
      const path = p.filter((step): step is string | number => typeof step !== 'symbol');
      const line = locate(path);
      return { key: keyName(path), ...(line === undefined ? {} : { line }), problem: issue.message };
    });
  });
}
