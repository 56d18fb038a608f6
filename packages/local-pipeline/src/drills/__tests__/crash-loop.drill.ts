// Reliability drill: a release whose workers crash while loading. Version 1
// serves through the rehearsal's load balancer (slot blue); the broken
// release goes to slot green. ApplicationStart must see the restarts and fail
// within its short watch, naming the crash loop on its last line, instead of
// reporting success and leaving ValidateService to find out a minute later;
// version 1 must serve every request meanwhile.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT, freePort, health, makeBrokenBundle, makeBundle, tempDir } from '../../codedeploy/__tests__/fixtures';
import { failureReasons, startLoad } from './load';

const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

let work: string;
let stateDir: string;
let bundles: { first: string; broken: string };
let ports: { proxy: number; blue: number; green: number };

/** The rehearsal CLI as a user runs it (deploy only: the bundles are prebuilt), bounded in time. */
function cli(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--state-dir', stateDir, '--port', String(ports.proxy), '--slot-ports', `${ports.blue},${ports.green}`, '--workers', '2'],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** The last line of a failed event's hook output, as the rehearsal prints it (indented under "<event> Failed"). */
function lastHookLine(stderr: string, event: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => new RegExp(`\\] ${event} +Failed`).test(line));
  const block = lines.slice(start + 1);
  const end = block.findIndex((line) => !/^\s/.test(line));
  return (end === -1 ? block : block.slice(0, end)).at(-1)?.trim() ?? '';
}

beforeAll(async () => {
  work = tempDir('drill-crash-loop');
  stateDir = path.join(work, 'state');
  ports = { proxy: await freePort(), blue: await freePort(), green: await freePort() };
  const first = await makeBundle(work, 'rev-1');
  bundles = { first, broken: makeBrokenBundle(first, work, 'rev-crash') };
  const run = await cli(['deploy', '--bundle', bundles.first]);
  if (run.code !== 0) throw new Error(`the first deployment failed:\n${run.stderr}`);
});

afterAll(async () => {
  if (stateDir) await cli(['stop']);
  rmSync(work, { recursive: true, force: true });
});

describe('a release that crash-loops', () => {
  it('when its workers crash while loading, then ApplicationStart fails naming the crash loop last, and version 1 serves every request', async () => {
    const load = startLoad({ port: ports.proxy, connections: 4, maxDurationMs: 120_000 });

    const run = await cli(['deploy', '--bundle', bundles.broken]);
    const outcomes = await load.stop();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ApplicationStart Failed');
    expect(run.stderr).toContain('FAILED at ApplicationStart on slot green');
    expect(lastHookLine(run.stderr, 'ApplicationStart')).toMatch(/ERROR: conveyor-api's workers are crash-looping: \d+ restarts within 10 s of starting/);
    expect(run.stderr).not.toContain('ValidateService');
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: outcomes.filter((o) => o.result !== 'ok').length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });
});
