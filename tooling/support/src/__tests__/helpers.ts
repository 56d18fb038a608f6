// What the process tests share: a temp dir per test file, polling.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One temp dir for the test file (removed after it); each call gives a new empty folder inside it. */
export function scratch(prefix: string): () => string {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), `conveyor-support-${prefix}-`));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return () => mkdtempSync(path.join(root, 'test-'));
}

/** Polls `condition` every 20 ms for up to 10 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await sleep(20);
}
