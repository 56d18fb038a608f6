// Reliability drill: the install root is full, or read-only, when a new
// version is installed. Version 1 serves through the rehearsal's load
// balancer (slot blue); the next deployment goes to slot green, whose install
// root is a tiny tmpfs (smaller than the bundle), then a read-only one. The
// deployment must fail at Install naming the cause (ENOSPC, EROFS), and
// version 1 must keep serving every request meanwhile. Mounting needs root:
// without it the drill is skipped and says why.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT, freePort, health, makeBundle, tempDir } from '../../deploy/__tests__/fixtures';
import { failureReasons, startLoad } from './load';

const CLI = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** Whether this process may mount a tmpfs (root, and a kernel/container that allows it); if not, why. */
function tmpfsMountable(): { readonly ok: boolean; readonly reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root: mounting a tmpfs needs root' };
  const probe = tempDir('drill-mount-probe');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe', timeout: 10_000 });
    execFileSync('umount', [probe], { stdio: 'pipe', timeout: 10_000 });
    return { ok: true, reason: '' };
  } catch (error) {
    return { ok: false, reason: `mount -t tmpfs failed (${(error as Error).message.split('\n')[0]})` };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const mountable = tmpfsMountable();
if (!mountable.ok) console.log(`disk-full drill skipped: ${mountable.reason}`);
// A describe, not an it, alias: lint (jest/no-standalone-expect) recognises plain `it` inside it.
const describeIfMountable = mountable.ok ? describe : describe.skip;

let work: string;
let stateDir: string;
let bundles: { first: string; second: string };
let ports: { proxy: number; blue: number; green: number };
/** Slot green's install root: /opt/conveyor-api on that local instance. */
let greenInstallRoot: string;
const mounted: string[] = [];

function mount(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe', timeout: 10_000 });
  mounted.push(dir);
}

function unmountAll(): void {
  while (mounted.length > 0) {
    const dir = mounted.pop() as string;
    if (!readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir} `)) continue;
    try {
      execFileSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 });
    } catch {
      // Still busy (a process of a failed deployment in it): detach it now, the kernel frees it when released.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
    }
  }
}

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The rehearsal CLI as a user runs it (deploy only: the bundles are prebuilt), bounded in time. */
function cli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--state-dir', stateDir, '--port', String(ports.proxy), '--slot-ports', `${ports.blue},${ports.green}`, '--workers', '1'],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Deploys `bundle` while a keep-alive load runs through the load balancer; returns both. */
async function deployUnderLoad(bundle: string) {
  const load = startLoad({ port: ports.proxy, connections: 4, maxDurationMs: 120_000 });
  const run = await cli(['deploy', '--bundle', bundle]);
  const outcomes = await load.stop();
  return { run, outcomes, failed: outcomes.filter((o) => o.result !== 'ok') };
}

beforeAll(async () => {
  work = tempDir('drill-disk');
  stateDir = path.join(work, 'state');
  greenInstallRoot = path.join(stateDir, 'slots', 'green', 'opt', 'conveyor-api');
  ports = { proxy: await freePort(), blue: await freePort(), green: await freePort() };
  if (!mountable.ok) return;
  const [first, second] = await Promise.all([makeBundle(work, 'rev-1'), makeBundle(work, 'rev-2')]);
  bundles = { first, second };
  const run = await cli(['deploy', '--bundle', bundles.first]);
  if (run.code !== 0) throw new Error(`the first deployment failed:\n${run.stderr}`);
});

afterAll(async () => {
  if (stateDir) await cli(['stop']);
  unmountAll();
  rmSync(work, { recursive: true, force: true });
});

describeIfMountable('a full or read-only install root during Install', () => {
  it('when the install root is a disk too small for the bundle, then the deployment fails at Install naming ENOSPC and version 1 serves every request', async () => {
    mount(greenInstallRoot, 'size=1m');

    const { run, outcomes, failed } = await deployUnderLoad(bundles.second);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('BeforeInstall    Succeeded');
    expect(run.stderr).toContain('FAILED at Install on slot green');
    expect(run.stderr).toMatch(/Install +Failed[^\n]*\n +Install could not copy the revision to \/opt\/conveyor-api \(appspec files destination\): ENOSPC: no space left on device, writing /);
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect(outcomes.length).toBeGreaterThan(0);
    expect((await health(ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when the install root is read-only, then the deployment fails at Install naming EROFS and version 1 serves every request', async () => {
    unmountAll();
    mount(greenInstallRoot, 'size=64m,ro');

    const { run, outcomes, failed } = await deployUnderLoad(bundles.second);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILED at Install on slot green');
    expect(run.stderr).toMatch(/Install +Failed[^\n]*\n +Install could not copy the revision to \/opt\/conveyor-api \(appspec files destination\): EROFS: read-only file system, writing /);
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });
});
