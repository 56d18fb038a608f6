import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { INSTALL_ROOT, SERVICE_NAME, STARTUP_TIMEOUT_MS } from '@conveyor/config';
import { freePort } from '@conveyor/tooling-support';

import { createBundle, type BundleReport } from '../bundle';
import { readLockfile } from '../lockfile';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const appDir = path.join(repoRoot, 'apps', 'api');
let work: string;
let report: BundleReport;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
  report = await createBundle({
    repoRoot,
    appDir,
    outDir: path.join(work, 'bundle'),
    archivePath: path.join(work, 'bundle.tar.gz'),
    commit: 'test-commit-1234',
    builtAt: new Date('2026-01-02T03:04:05Z'),
  });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('createBundle', () => {
  it('when packaged, then the revision has appspec.yml at its root, the hooks, deploy.env and the app', () => {
    const bundle = report.outDir;

    for (const file of ['appspec.yml', 'deploy.env', 'scripts/codedeploy/lib.sh', 'app/dist/main.js', 'app/ecosystem.config.js', 'app/node_modules/pm2/bin/pm2']) {
      expect(existsSync(path.join(bundle, file))).toBe(true);
    }
    expect(statSync(path.join(bundle, 'scripts/codedeploy/application-start.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(bundle, 'appspec.yml'), 'utf8')).toBe(readFileSync(path.join(repoRoot, 'appspec.yml'), 'utf8'));
  });

  it('when packaged, then build-info and deploy.env carry the commit, and deploy.env the contract values', () => {
    const buildInfo = JSON.parse(readFileSync(path.join(report.outDir, 'app', 'build-info.json'), 'utf8')) as Record<string, string>;
    const deployEnv = readFileSync(path.join(report.outDir, 'deploy.env'), 'utf8');

    expect(buildInfo).toEqual({ version: '0.1.0', commit: 'test-commit-1234', builtAt: '2026-01-02T03:04:05.000Z' });
    expect(deployEnv).toContain('BUNDLE_COMMIT=test-commit-1234\n');
    expect(deployEnv).toContain(`SERVICE_NAME=${SERVICE_NAME}\n`);
    expect(deployEnv).toContain(`INSTALL_ROOT=${INSTALL_ROOT}\n`);
    expect(deployEnv).toContain(`STARTUP_TIMEOUT_MS=${STARTUP_TIMEOUT_MS}\n`);
  });

  it('when packaged, then nothing in it comes from a dev dependency', () => {
    const lock = readLockfile(repoRoot);
    const packageOf = (input: string) => {
      const normalized = path.relative(repoRoot, path.resolve(input)).split(path.sep).join('/');
      const keys = Object.keys(lock.packages).filter((key) => key && normalized.startsWith(`${key}/`));
      return keys.sort((a, b) => b.length - a.length)[0];
    };
    const bundledPackages = report.bundledInputs.map(packageOf).filter((key): key is string => key !== undefined && key.includes('node_modules/'));

    expect(report.packages.length).toBeGreaterThan(10);
    expect(bundledPackages.length).toBeGreaterThan(10);
    const dev = [...report.packages, ...bundledPackages].filter((key) => lock.packages[key]?.dev);
    expect(dev).toEqual([]);
  });

  it('when packaged, then the archive holds the same files as the directory', () => {
    const listed = execFileSync('tar', ['-tzf', path.join(work, 'bundle.tar.gz')], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line && !line.endsWith('/'));

    expect(listed).toHaveLength(report.files);
  });

  it('when the bundle is copied away from the repo, then the service boots from it alone and reports its commit', async () => {
    const isolated = mkdtempSync(path.join(os.tmpdir(), 'bundle-isolated-'));
    cpSync(report.outDir, isolated, { recursive: true });
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(isolated, 'app', 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (message) => message === 'ready' && resolve());
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;

      expect(health).toMatchObject({ status: 'ok', commit: 'test-commit-1234', version: '0.1.0' });
    } finally {
      child.kill('SIGTERM');
      rmSync(isolated, { recursive: true, force: true });
    }
  });

  it('when pm2 is run from the copied bundle, then its dependency closure is complete', () => {
    const isolated = mkdtempSync(path.join(os.tmpdir(), 'bundle-pm2-'));
    cpSync(path.join(report.outDir, 'app'), isolated, { recursive: true });
    const pm2 = (...args: string[]) =>
      execFileSync(process.execPath, [path.join(isolated, 'node_modules', 'pm2', 'bin', 'pm2'), ...args], {
        env: { PATH: process.env.PATH ?? '', PM2_HOME: path.join(isolated, '.pm2'), PM2_DISCRETE_MODE: 'true' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    try {
      const version = pm2('--version');

      expect(version.trim().split('\n').at(-1)).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      // --version starts pm2's daemon in this private PM2_HOME: end it.
      pm2('kill');
      rmSync(isolated, { recursive: true, force: true });
    }
  });

  it('when the app is not built, then it says to build first', async () => {
    await expect(
      createBundle({ repoRoot, appDir: path.join(work, 'no-app'), outDir: path.join(work, 'x'), commit: 'c' }),
    ).rejects.toThrow();
    await expect(createBundle({ repoRoot, appDir, outDir: path.join(work, 'y'), commit: 'bad commit; rm -rf' })).rejects.toThrow('The commit id must be');
  });
});
