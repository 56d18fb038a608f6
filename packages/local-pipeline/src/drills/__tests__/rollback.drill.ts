// Reliability drill: a release whose greeting route answers 500. Version 1
// serves through the rehearsal's load balancer (slot blue) under a bounded
// keep-alive load on the greeting route; the bad release goes to slot green
// with a termination wait. It boots, passes ValidateService and the
// acceptance check (whose one sample name has no space, and the regression
// needs one), takes traffic, and answers the load 500: the 5xx alarm must put
// it in ALARM, traffic must go back to blue, green must stop, the command
// must report the deployment rolled back and exit non-zero, and the only
// failed requests must be the 5xx the alarm counted.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { REPO_ROOT, freePort, health, makeBundle, makeFailingGreetingBundle, tempDir } from '../../codedeploy/__tests__/fixtures';
import { failureReasons, startLoad } from './load';

const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
/** A name the bad release fails on (it has a space); the acceptance check's own name has none. */
const GREETING_PATH = '/api/greeting?name=Ada%20Lovelace';
const THRESHOLD = 5;
const CONNECTIONS = 4;

let work: string;
let stateDir: string;
let bundles: { first: string; failing: string };
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

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One GET through the load balancer: status and body. */
async function get(pathname: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${ports.proxy}${pathname}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  work = tempDir('drill-rollback');
  stateDir = path.join(work, 'state');
  ports = { proxy: await freePort(), blue: await freePort(), green: await freePort() };
  const first = await makeBundle(work, 'rev-1');
  bundles = { first, failing: makeFailingGreetingBundle(first, work, 'rev-500') };
  const run = await cli(['deploy', '--bundle', bundles.first]);
  if (run.code !== 0) throw new Error(`the first deployment failed:\n${run.stderr}`);
});

afterAll(async () => {
  if (stateDir) await cli(['stop']);
  rmSync(work, { recursive: true, force: true });
});

describe('a release whose greeting route answers 500', () => {
  it('when it takes traffic under load, then the 5xx alarm rolls it back: exit 1, slot green stopped, version 1 serving, no failed request beyond the 5xx the alarm counted', async () => {
    const before = await get(GREETING_PATH);
    const load = startLoad({ port: ports.proxy, path: GREETING_PATH, connections: CONNECTIONS, maxDurationMs: 150_000 });

    const run = await cli(['deploy', '--bundle', bundles.failing, '--termination-wait', '60', '--alarm-5xx', String(THRESHOLD)]);
    // A moment more of load on version 1, after the rollback.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const outcomes = await load.stop();

    // Arrange's own check: version 1 answered that name before the deployment.
    expect(before.status).toBe(200);
    // The acceptance check passed: only the alarm could catch this release.
    expect(run.stderr).toMatch(/\[acceptance\] PASS example route/);
    expect(run.stderr).toContain('[deploy] AllowTraffic');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/deployment d-\w+ Stopped \(ALARM_ACTIVE\): alarm conveyor-api-rehearsal-5xx in ALARM/);
    expect(run.stderr).toContain('[rehearse] rolled back: traffic on slot blue, commit rev-1');
    expect(run.stderr).toContain('[deploy:green] stopped');
    expect(await listening(ports.green)).toBe(false);
    expect((await health(ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
    expect(await get(GREETING_PATH)).toEqual({ status: 200, body: { greeting: 'Hello, Ada Lovelace!' } });

    const counted = /slot green answered (\d+) 5xx of (\d+) requests/.exec(run.stderr);
    expect(counted).not.toBeNull();
    const alarmed = Number(counted?.[1]);
    const failed = outcomes.filter((o) => o.result !== 'ok').length;
    console.log(`rollback drill: ${outcomes.length} requests, ${failed} failed ${JSON.stringify(failureReasons(outcomes))}, alarm counted ${alarmed} 5xx (threshold ${THRESHOLD})`);
    // Every failed request is a 500 the alarm counted: none before the switch, none after the rollback, no connection error.
    expect(failureReasons(outcomes)).toEqual({ 'HTTP 500': alarmed });
    // The alarm tripped at the threshold; the rest were already in flight on one of the connections.
    expect(alarmed).toBeGreaterThanOrEqual(THRESHOLD);
    expect(alarmed).toBeLessThanOrEqual(THRESHOLD + CONNECTIONS - 1);
  });
});
