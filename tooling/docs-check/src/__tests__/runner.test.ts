import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort, git } from '@conveyor/tooling-support';

import { WorkshopError, runWorkshop, type RunWorkshopOptions } from '../runner';

const sh = (body: string) => `\`\`\`sh\n${body}\n\`\`\``;
const text = (body: string) => `\`\`\`text\n${body}\n\`\`\``;

let work: string;

/** A one-commit repo holding docs/workshop/01-test.md, plus an untracked file and an uncommitted edit. */
function makeRepo(markdown: string): string {
  const repo = path.join(work, `repo-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(path.join(repo, 'docs', 'workshop'), { recursive: true });
  writeFileSync(path.join(repo, 'docs', 'workshop', '01-test.md'), markdown);
  writeFileSync(path.join(repo, 'greeting.txt'), 'committed\n');
  git(repo, ['init', '--quiet']);
  git(repo, ['add', '.']);
  git(repo, ['commit', '--quiet', '-m', 'module'], { author: 't' });
  writeFileSync(path.join(repo, 'greeting.txt'), 'edited, not committed\n');
  writeFileSync(path.join(repo, 'new-file.txt'), 'untracked\n');
  return repo;
}

function options(repo: string, extra: Partial<RunWorkshopOptions> = {}): RunWorkshopOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    sourceRoot: repo,
    files: ['docs/workshop/01-test.md'],
    parentEnv: process.env,
    ports: [],
    progress: (line) => lines.push(line),
    stopGraceMs: 3_000,
    lines,
    ...extra,
  };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'docs-check-runner-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('runWorkshop', () => {
  it('when every block does what its module says, then it passes: in a copy with the uncommitted files, outputs checked, servers and copy cleaned up', async () => {
    const port = await freePort();
    const outside = path.join(work, 'teardown-ran');
    const repo = makeRepo([
      '# Test module', '',
      '<!-- run -->', sh('cat greeting.txt new-file.txt\necho "GREETING=${GREETING:-unset}"\necho changed > greeting.txt'), '',
      '<!-- output -->', text('edited, not committed\nuntracked\nGREETING=unset'), '',
      `<!-- run: background name=srv ready=http://127.0.0.1:${port}/ -->`,
      sh(`node -e "require('http').createServer((q, s) => s.end('hi')).listen(${port}, () => console.log('listening on ${port}'))"`), '',
      '<!-- output -->', text('listening on …'), '',
      '<!-- run -->', sh(`curl -s http://127.0.0.1:${port}/; echo`), '',
      '<!-- output -->', text('hi'), '',
      '<!-- run: stop srv -->', '',
      '<!-- run: expect-exit=3 -->', sh('echo refused; exit 3'), '',
      'A block without a marker is not run:', sh('exit 9'),
    ].join('\n'));
    const captured: string[] = [];
    const opts = options(repo, {
      // Not passed to blocks: their environment is allow-listed, as a newcomer's fresh shell.
      parentEnv: { ...process.env, GREETING: 'leaked' },
      teardown: [{ ifExists: 'greeting.txt', command: `touch ${outside}`, timeoutSeconds: 10 }],
      capture: (chunk) => captured.push(chunk),
    });

    const report = await runWorkshop(opts);

    expect(report.modules).toEqual([{ file: 'docs/workshop/01-test.md', blocks: 5, seconds: expect.any(Number) as number }]);
    expect(readFileSync(path.join(repo, 'greeting.txt'), 'utf8')).toBe('edited, not committed\n');
    expect(existsSync(outside)).toBe(true);
    expect(await portIsFree(port)).toBe(true);
    const copyLine = opts.lines.find((line) => line.includes('copy: '));
    const copyDir = /copy: (\S+)/.exec(copyLine ?? '')?.[1] ?? '';
    expect(copyDir).toContain('workshop-');
    expect(existsSync(copyDir)).toBe(false);
    expect(captured.join('')).toContain('refused');
  });

  it('when a command fails, then the error names the module, the block, the command and its last output, and what was started is stopped', async () => {
    const port = await freePort();
    const repo = makeRepo([
      `<!-- run: background name=srv ready=http://127.0.0.1:${port}/ -->`,
      // Outside the copy, so only the stop by process group reaches it, not the final sweep of the temp dir.
      sh(`cd / && exec node -e "require('http').createServer((q, s) => s.end('hi')).listen(${port})"`), '',
      '<!-- run -->', sh('echo one\necho "about to fail" >&2\nfalse\necho never'),
    ].join('\n'));

    const run = runWorkshop(options(repo));

    await expect(run).rejects.toThrow(WorkshopError);
    await expect(run).rejects.toThrow(/docs\/workshop\/01-test\.md, block 2 of 2 \(line 7\): it exited with code 1, expected 0\ncommand:\n {2}\$ echo one\n(.|\n)*\| about to fail/);
    expect(await portIsFree(port)).toBe(true);
  });

  it('when the real output lacks a documented line, then the error names that line and the output block', async () => {
    const repo = makeRepo(['<!-- run -->', sh('echo "Serving from slot blue"'), '', '<!-- output -->', text('Serving from slot green')].join('\n'));

    const run = runWorkshop(options(repo));

    await expect(run).rejects.toThrow(/block 1 of 1 \(line 2\): its output does not match the "what you should see" block at line 7\n(.|\n)*Serving from slot green/);
  });

  it('when a block outlives its timeout, then it is stopped and the error says so', async () => {
    const repo = makeRepo(['<!-- run: timeout=1 -->', sh('sleep 30')].join('\n'));
    const started = Date.now();

    const run = runWorkshop(options(repo));

    await expect(run).rejects.toThrow(/did not finish within 1 s/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('when asked to run in the checkout itself, then it refuses before running anything', async () => {
    const marker = path.join(work, 'ran-in-checkout');
    const repo = makeRepo(['<!-- run -->', sh(`touch ${marker}`)].join('\n'));

    const run = runWorkshop(options(repo, { existingCopy: repo }));

    await expect(run).rejects.toThrow(/is the checkout \(or holds it\)/);
    expect(existsSync(marker)).toBe(false);
  });

  it('when a port the workshop needs is taken, then it fails naming the port before running anything', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, () => resolve((blocker.address() as net.AddressInfo).port)));
    const marker = path.join(work, 'should-not-exist');
    const repo = makeRepo(['<!-- run -->', sh(`touch ${marker}`)].join('\n'));

    const run = runWorkshop(options(repo, { ports: [port] }));

    await expect(run).rejects.toThrow(`port ${port} (EADDRINUSE)`);
    blocker.close();
    expect(existsSync(marker)).toBe(false);
  });
});

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
