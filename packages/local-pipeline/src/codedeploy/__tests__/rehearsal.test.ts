import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {
  REPO_ROOT,
  freeRehearsalPorts,
  health,
  makeBrokenBundle,
  makeBundle,
  makeFailingGreetingBundle,
  makeSlowHookBundle,
  rehearsalCli,
  tempDir,
  type CliRun,
  type RehearsalPorts,
} from './fixtures';

const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

let work: string;
let stateDir: string;
let bundles: { first: string; second: string; broken: string; slowHook: string; failingGreeting: string };
let ports: RehearsalPorts;
let cli: (args: readonly string[], env?: Readonly<Record<string, string>>) => Promise<CliRun>;

/**
 * A bounded keep-alive load through the proxy: `connections` clients loop on
 * GET /health until `until` settles (and at most 90 s), counting every
 * non-200 answer and every socket error.
 */
async function loadDuring<T>(until: Promise<T>, connections = 8): Promise<{ result: T; ok: number; failed: number; commits: Record<string, number>; errors: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = false;
  const deadline = Date.now() + 90_000;
  const counts = { ok: 0, failed: 0 };
  const commits: Record<string, number> = {};
  const errors: string[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      http
        .get({ host: '127.0.0.1', port: ports.proxy, path: '/health', agent }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            if (res.statusCode === 200) {
              counts.ok += 1;
              const { commit } = JSON.parse(text) as { commit: string };
              commits[commit] = (commits[commit] ?? 0) + 1;
            } else {
              counts.failed += 1;
              errors.push(`HTTP ${res.statusCode}`);
            }
            resolve();
          });
        })
        .on('error', (error: NodeJS.ErrnoException) => {
          counts.failed += 1;
          errors.push(error.code ?? error.message);
          resolve();
        });
    });
  const clients = Array.from({ length: connections }, async () => {
    while (!done && Date.now() < deadline) await one();
  });
  const result = await until;
  done = true;
  await Promise.all(clients);
  agent.destroy();
  return { result, ...counts, commits, errors };
}

beforeAll(async () => {
  work = tempDir('rehearsal');
  stateDir = path.join(work, 'state');
  const [first, second] = await Promise.all([makeBundle(work, 'rev-first'), makeBundle(work, 'rev-second')]);
  bundles = {
    first,
    second,
    broken: makeBrokenBundle(second, work, 'rev-broken'),
    slowHook: makeSlowHookBundle(second, work, 'rev-slow-hook'),
    failingGreeting: makeFailingGreetingBundle(second, work, 'rev-500', 'every'),
  };
  ports = await freeRehearsalPorts();
  cli = rehearsalCli(stateDir, ports, 1);
});

afterAll(async () => {
  await cli(['stop']);
  rmSync(work, { recursive: true, force: true });
});

describe('the blue/green rehearsal', () => {
  it('when deploying for the first time, then the revision goes to slot blue and the load balancer serves its commit', async () => {
    const run = await cli(['deploy', '--bundle', bundles.first]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Serving http://127.0.0.1:${ports.proxy} from slot blue, commit rev-first`);
    for (const event of ['ApplicationStop  Skipped', 'DownloadBundle   Succeeded', 'Install          Succeeded', 'ValidateService  Succeeded']) {
      expect(run.stderr).toContain(event);
    }
    expect((await health(ports.proxy)).body).toMatchObject({ commit: 'rev-first' });
    expect(run.stderr.split('\n').filter((line) => line.startsWith('[acceptance] '))).toEqual([
      expect.stringMatching(/^\[acceptance\] PASS health: .* commit rev-first$/),
      expect.stringMatching(/^\[acceptance\] PASS example route: /),
      expect.stringMatching(/^\[acceptance\] PASS unknown route: /),
      expect.stringMatching(/^\[acceptance\] PASS security headers: /),
    ]);
  });

  it('when deploying again under load, then the new commit goes to slot green, the proxy follows, blue stops, and no request fails', async () => {
    const { result: run, ok, failed, commits, errors } = await loadDuring(cli(['deploy', '--bundle', bundles.second]));

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from slot green, commit rev-second');
    expect({ failed, errors }).toEqual({ failed: 0, errors: [] });
    expect(ok).toBeGreaterThan(100);
    expect(Object.keys(commits).sort()).toEqual(['rev-first', 'rev-second']);
    expect((await health(ports.proxy)).body).toMatchObject({ commit: 'rev-second' });
    await expect(health(ports.blue)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('when a broken bundle is deployed, then ApplicationStart sees its workers crash-loop and fails, the command exits non-zero and green keeps serving', async () => {
    const run = await cli(['deploy', '--bundle', bundles.broken], { VALIDATE_ATTEMPTS: '4', VALIDATE_INTERVAL_SECONDS: '0.5' });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILED at ApplicationStart on slot blue');
    expect(run.stderr).toMatch(/workers are crash-looping: \d+ restarts within 10 s of starting/);
    expect(run.stderr).toContain('traffic stays on slot green, commit rev-second');
    expect((await health(ports.proxy)).body).toMatchObject({ commit: 'rev-second' });
    await expect(health(ports.blue)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('when the example route answers 500 after the switch, then the acceptance check fails, traffic goes back to green, blue stops, and no health request fails', async () => {
    const { result: run, failed, errors } = await loadDuring(cli(['deploy', '--bundle', bundles.failingGreeting]));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[acceptance] FAIL example route: GET /api/greeting?name=Ada answered 500, expected 200');
    expect(run.stderr).toContain('FAILED at AcceptanceCheck on slot blue: acceptance check failed: example route');
    expect(run.stderr).toContain('rolled back: traffic on slot green, commit rev-second');
    expect({ failed, errors }).toEqual({ failed: 0, errors: [] });
    expect((await health(ports.proxy)).body).toMatchObject({ commit: 'rev-second' });
    await expect(health(ports.blue)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('when a hook outlives its timeout, then the deployment fails at that event and green keeps serving', async () => {
    const run = await cli(['deploy', '--bundle', bundles.slowHook]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Script at specified location: scripts/codedeploy/validate-service.sh failed to complete in 3 seconds');
    expect(run.stderr).toContain('traffic stays on slot green, commit rev-second');
    expect((await health(ports.proxy)).body).toMatchObject({ commit: 'rev-second' });
  });

  it('when stopped, then the load balancer and every slot are gone', async () => {
    const run = await cli(['stop']);

    // On failure the diff shows what the CLI said, not only its exit code.
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
    await expect(health(ports.proxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(health(ports.green)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
  });

  it.each([
    [['--port', 'eighty'], '--port must be a port number, got "eighty"'],
    [['--termination-wait=-1'], '--termination-wait must be a number of seconds from 0 to 3600, got "-1"'],
    [['--termination-wait', 'soon'], '--termination-wait must be a number of seconds from 0 to 3600, got "soon"'],
    [['--alarm-5xx', '0'], '--alarm-5xx must be a whole number from 1 to 100000, got "0"'],
    [['--alarm-5xx', '2.5'], '--alarm-5xx must be a whole number from 1 to 100000, got "2.5"'],
  ])('when given %j, then it exits 2 naming the option', async (args, message) => {
    const run = await new Promise<CliRun>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'deploy', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
