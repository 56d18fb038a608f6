import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '@conveyor/tooling-support';

import { health, instanceHookEnv, makeBundle, pm2Kill, runHook, tempDir } from './fixtures';

// One instance, deployed to in sequence: the tests below share it, in order.
let work: string;
let bundle1: string;
let bundle2: string;
let env: Record<string, string>;
let port: number;

const hook = (bundle: string, name: string) => path.join(bundle, 'scripts', 'codedeploy', `${name}.sh`);
const installRoot = () => env.INSTALL_ROOT as string;

/** CodeDeploy's Install event: the previous revision's files go, the new ones are copied. */
function install(bundle: string): void {
  rmSync(installRoot(), { recursive: true, force: true });
  mkdirSync(installRoot(), { recursive: true });
  cpSync(bundle, installRoot(), { recursive: true });
}

beforeAll(async () => {
  work = tempDir('hooks');
  [bundle1, bundle2] = await Promise.all([makeBundle(work, 'rev-1'), makeBundle(work, 'rev-2')]);
  port = await freePort();
  env = instanceHookEnv(work, { appEnv: 'test', port, workers: 1 });
});

afterAll(() => {
  pm2Kill(bundle2, env.PM2_HOME as string);
  rmSync(work, { recursive: true, force: true });
});

describe('lifecycle hooks on one instance', () => {
  it('when nothing is installed (first deployment), then ApplicationStop succeeds and says so', async () => {
    const ran = await runHook(hook(bundle1, 'application-stop'), env);

    expect(ran.code).toBe(0);
    expect(ran.output).toContain('nothing installed');
  });

  it('when deploying for the first time, then every hook succeeds and the service answers with the bundle commit', async () => {
    expect((await runHook(hook(bundle1, 'before-install'), env)).code).toBe(0);
    install(bundle1);
    expect((await runHook(hook(bundle1, 'after-install'), env)).code).toBe(0);
    const start = await runHook(hook(bundle1, 'application-start'), env);
    const validate = await runHook(hook(bundle1, 'validate-service'), env);

    expect(start.code).toBe(0);
    expect(validate.code).toBe(0);
    expect(validate.output).toContain('healthy');
    expect((await health(port)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when ApplicationStart returns, then the pm2 daemon it started keeps running without holding the hook open', () => {
    const pid = Number(readFileSync(path.join(env.PM2_HOME as string, 'pm2.pid'), 'utf8'));

    expect(() => process.kill(pid, 0)).not.toThrow();
  });

  it.each(['before-install', 'after-install', 'application-start'])('when %s runs twice, then it succeeds both times', async (name) => {
    const first = await runHook(hook(bundle1, name), env);
    const second = await runHook(hook(bundle1, name), env);

    expect([first.code, second.code]).toEqual([0, 0]);
    expect((await health(port)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when the running build is not the bundle being validated, then ValidateService fails and shows the last answer and the log', async () => {
    const ran = await runHook(hook(bundle2, 'validate-service'), { ...env, VALIDATE_ATTEMPTS: '2' });

    expect(ran.code).toBe(1);
    expect(ran.output).toContain('did not report commit rev-2');
    expect(ran.output).toMatch(/last answer: HTTP 200 .*"commit":"rev-1"/);
    expect(ran.output).toContain('last lines of');
  });

  it('when nothing answers on the port, then ValidateService fails after its bounded retries', async () => {
    const closed = await freePort();

    const ran = await runHook(hook(bundle1, 'validate-service'), { ...env, PORT: String(closed), VALIDATE_ATTEMPTS: '3' });

    expect(ran.code).toBe(1);
    expect(ran.output).toContain('after 3 attempts');
    expect(ran.output).toContain('no answer (ECONNREFUSED)');
  });

  it('when redeploying over a running version, then the previous revision stops it and the new one serves', async () => {
    // CodeDeploy runs ApplicationStop from the revision installed last, not from the new bundle.
    const stop = await runHook(path.join(installRoot(), 'scripts', 'codedeploy', 'application-stop.sh'), env);
    await expect(health(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await runHook(hook(bundle2, 'before-install'), env)).code).toBe(0);
    install(bundle2);
    expect((await runHook(hook(bundle2, 'after-install'), env)).code).toBe(0);
    expect((await runHook(hook(bundle2, 'application-start'), env)).code).toBe(0);
    const validate = await runHook(hook(bundle2, 'validate-service'), env);

    expect(stop.code).toBe(0);
    expect(stop.output).toContain('stopped');
    expect(validate.code).toBe(0);
    expect((await health(port)).body).toMatchObject({ commit: 'rev-2' });
  });

  it('when the previous revision is broken (its pm2 cannot run), then ApplicationStop still succeeds', async () => {
    rmSync(path.join(installRoot(), 'app', 'node_modules', 'pm2', 'lib'), { recursive: true });

    const ran = await runHook(path.join(installRoot(), 'scripts', 'codedeploy', 'application-stop.sh'), env);

    expect(ran.code).toBe(0);
    expect(existsSync(path.join(installRoot(), 'app', 'node_modules', 'pm2', 'bin', 'pm2'))).toBe(true);
  });

  it('when the install is incomplete, then AfterInstall fails naming the missing file', async () => {
    rmSync(path.join(installRoot(), 'app', 'build-info.json'));

    const ran = await runHook(hook(bundle2, 'after-install'), env);

    expect(ran.code).toBe(1);
    expect(ran.output).toContain('build-info.json is missing');
  });
});
