// Real bundles (the packaging step's own code) and real processes for the deploy tests.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { createBundle } from '@conveyor/bundle';
import { freePorts } from '@conveyor/tooling-support';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `conveyor-${prefix}-`));
}

/** Builds a real bundle of the API for `commit`. */
export async function makeBundle(dir: string, commit: string): Promise<string> {
  const outDir = path.join(dir, `bundle-${commit}`);
  await createBundle({ repoRoot: REPO_ROOT, appDir: path.join(REPO_ROOT, 'apps', 'api'), outDir, commit });
  return outDir;
}

/** A copy of `bundle` released as `commit` (deploy.env and build-info.json say so), to change before deploying. */
function copyAsCommit(bundle: string, dir: string, commit: string): string {
  const copy = path.join(dir, `bundle-${commit}`);
  cpSync(bundle, copy, { recursive: true });
  const deployEnv = path.join(copy, 'deploy.env');
  writeFileSync(deployEnv, readFileSync(deployEnv, 'utf8').replace(/^BUNDLE_COMMIT=.*$/m, `BUNDLE_COMMIT=${commit}`));
  const buildInfo = path.join(copy, 'app', 'build-info.json');
  writeFileSync(buildInfo, readFileSync(buildInfo, 'utf8').replace(/"commit": ".*"/, `"commit": "${commit}"`));
  return copy;
}

/** A copy of `bundle` whose service throws while loading: it can never pass ValidateService. */
export function makeBrokenBundle(bundle: string, dir: string, commit: string): string {
  const broken = copyAsCommit(bundle, dir, commit);
  writeFileSync(path.join(broken, 'app', 'dist', 'main.js'), 'throw new Error("deliberately broken build");\n');
  return broken;
}

/**
 * A copy of `bundle` with a regression in the example route: `GET
 * /api/greeting` answers 500 for any name with a space in it (`two-word`), or
 * for every name (`every`). Either boots and passes ValidateService (which
 * asks /health); the two-word one also passes the acceptance check (whose
 * one sample name has no space), so only the 5xx alarm on real traffic can
 * catch it. The change is made in the bundled service's compiled route;
 * it throws if that code is not found, so the fixture cannot silently deploy
 * a healthy release.
 */
export function makeFailingGreetingBundle(bundle: string, dir: string, commit: string, names: 'two-word' | 'every' = 'two-word'): string {
  const failing = copyAsCommit(bundle, dir, commit);
  const main = path.join(failing, 'app', 'dist', 'main.js');
  const source = readFileSync(main, 'utf8');
  const route = /res\.json\(answer\(parseName\(req\.query, "query"\)\)\);/;
  if (!route.test(source)) throw new Error(`the GET /api/greeting handler was not found in ${main}: update makeFailingGreetingBundle`);
  writeFileSync(
    main,
    source.replace(
      route,
      `const name = parseName(req.query, "query"); if (${names === 'every' ? 'true' : 'name.includes(" ")'}) throw new Error("greeting regression"); res.json(answer(name));`,
    ),
  );
  return failing;
}

/**
 * A copy of `bundle` whose ValidateService hook outlives its appspec timeout
 * (3 s): the deployment must fail there, as CodeDeploy fails a hook that times out.
 */
export function makeSlowHookBundle(bundle: string, dir: string, commit: string): string {
  const slow = makeBrokenBundle(bundle, dir, commit);
  cpSync(path.join(bundle, 'app', 'dist', 'main.js'), path.join(slow, 'app', 'dist', 'main.js'));
  const appspec = path.join(slow, 'appspec.yml');
  writeFileSync(
    appspec,
    readFileSync(appspec, 'utf8').replace(/(location: scripts\/codedeploy\/validate-service\.sh\n\s+timeout: )\d+/, '$13'),
  );
  const hook = path.join(slow, 'scripts', 'codedeploy', 'validate-service.sh');
  writeFileSync(hook, readFileSync(hook, 'utf8').replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 30\n'));
  return slow;
}

/**
 * The settings the hook scripts run with on a local stand-in for one instance
 * under `work` (install root, log dir, pm2 home), with its instance env file
 * written (`APP_ENV`, `PORT`), `workers` pm2 workers and a patient
 * ValidateService. `extra` adds settings or overrides these.
 */
export function instanceHookEnv(
  work: string,
  options: { readonly appEnv: string; readonly port: number; readonly workers: number; readonly extra?: Readonly<Record<string, string>> },
): Record<string, string> {
  const instanceEnv = path.join(work, 'etc', 'instance.env');
  mkdirSync(path.dirname(instanceEnv), { recursive: true });
  writeFileSync(instanceEnv, `APP_ENV=${options.appEnv}\nPORT=${options.port}\n`);
  return {
    INSTALL_ROOT: path.join(work, 'opt', 'conveyor-api'),
    LOG_DIR: path.join(work, 'log'),
    PM2_HOME: path.join(work, 'pm2'),
    INSTANCE_ENV_FILE: instanceEnv,
    PM2_INSTANCES: String(options.workers),
    VALIDATE_ATTEMPTS: '60',
    VALIDATE_INTERVAL_SECONDS: '0.5',
    ...options.extra,
  };
}

/** The load balancer's port and each slot's. */
export interface RehearsalPorts {
  readonly proxy: number;
  readonly blue: number;
  readonly green: number;
}

export async function freeRehearsalPorts(): Promise<RehearsalPorts> {
  const [proxy, blue, green] = (await freePorts(3)) as [number, number, number];
  return { proxy, blue, green };
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const CLI = path.join(REPO_ROOT, 'packages', 'local-pipeline', 'dist', 'cli.js');
/** A hung CLI run fails its test (whose timeout this matches) rather than the whole suite. */
const CLI_TIMEOUT_MS = 180_000;

/**
 * The rehearsal CLI as a user runs it (deploy only: the bundles are prebuilt)
 * on one state folder and set of ports, with `workers` pm2 workers per slot.
 */
export function rehearsalCli(stateDir: string, ports: RehearsalPorts, workers: number) {
  const fixed = ['--state-dir', stateDir, '--port', String(ports.proxy), '--slot-ports', `${ports.blue},${ports.green}`, '--workers', String(workers)];
  return (args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args, ...fixed], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? stateDir, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
}

export interface Ran {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a hook script as the CodeDeploy agent would: its own environment, and
 * done only when its output closes (a daemon holding the pipes would hang it).
 */
export function runHook(script: string, env: Readonly<Record<string, string>>, timeoutMs = 90_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, [], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} did not finish (or kept its output open) within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** GET /health on 127.0.0.1; rejects on connection errors. */
export function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      })
      .on('error', reject);
  });
}

/** `pm2 kill` for one private PM2_HOME, with the pm2 of a bundle: only this test's daemon ends. */
export function pm2Kill(bundle: string, pm2Home: string): void {
  if (!existsSync(path.join(pm2Home, 'pm2.pid'))) return;
  execFileSync(process.execPath, [path.join(bundle, 'app', 'node_modules', 'pm2', 'bin', 'pm2'), 'kill'], {
    env: { PATH: process.env.PATH ?? '', PM2_HOME: pm2Home },
    stdio: 'ignore',
  });
}

/** Whether this process may mount a tmpfs (root, and a kernel/container that allows it); if not, why. */
export function tmpfsMountable(): { readonly ok: boolean; readonly reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root: mounting a tmpfs needs root' };
  const probe = tempDir('mount-probe');
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

/** Mounts a tmpfs of `size` (e.g. `1m`) at `dir`, root's and 0755 like a real volume, and fills it when `full`. */
export function mountTmpfs(dir: string, size: string, options: { readonly full?: boolean; readonly readOnly?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755${options.readOnly ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'pipe', timeout: 10_000 });
  if (options.full) {
    // Fill it block by block until the kernel says ENOSPC: df then reports 0 KB available.
    const fd = openSync(path.join(dir, 'filler'), 'w');
    const block = Buffer.alloc(64 * 1024);
    try {
      for (;;) writeSync(fd, block);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  }
}

/** Unmounts `dir` if it is a mount point; lazily when a process still holds it. */
export function unmount(dir: string): void {
  if (!readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir} `)) return;
  try {
    execFileSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
  }
}
