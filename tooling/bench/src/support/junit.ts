import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface TestTotals {
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
  /** Report files read: one per workspace with tests. */
  readonly reports: number;
}

/** The totals on the root `<testsuites>` element of one JUnit XML report (jest-junit writes them there). */
export function junitTotals(xml: string): Omit<TestTotals, 'reports'> {
  const root = /<testsuites\b([^>]*)>/.exec(xml);
  if (!root) throw new Error('not a JUnit report: no <testsuites> element');
  const attribute = (name: string) => {
    const match = new RegExp(`\\b${name}="(\\d+)"`).exec(root[1]!);
    return match ? Number(match[1]) : 0;
  };
  return { tests: attribute('tests'), failures: attribute('failures'), errors: attribute('errors') };
}

/** Adds up every `*.xml` report in `dir` (none when it does not exist). */
export function junitDirTotals(dir: string): TestTotals {
  const files = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.xml')) : [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const file of files) {
    const totals = junitTotals(readFileSync(path.join(dir, file), 'utf8'));
    tests += totals.tests;
    failures += totals.failures;
    errors += totals.errors;
  }
  return { tests, failures, errors, reports: files.length };
}
