// The hook scripts against what the service user (or a bad day) can do to an
// instance: planted links and code, hostile settings, full disks, a release
// that crash-loops. The real scripts run in a temporary install root with a
// private PM2_HOME, as in hooks.test.ts. The machine's own /etc is never
// written: SYSTEM_ROOT points the boot service and log rotation at a folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '@conveyor/tooling-support';

import { health, instanceHookEnv, makeBrokenBundle, makeBundle, mountTmpfs, pm2Kill, runHook, tempDir, tmpfsMountable, unmount } from './fixtures';

let work: string;
let bundle: string;
let broken: string;
let env: Record<string, string>;
let instanceEnv: string;
/** Created only by planted code; it records the uid the code ran as. */
let marker: string;
/** A .js file the service user could write (its log directory). */
let planted: string;

const hook = (name: string, from = bundle) => path.join(from, 'scripts', 'codedeploy', `${name}.sh`);
const installRoot = () => env.INSTALL_ROOT as string;
const isRoot = process.getuid?.() === 0;
/** A real non-root account to stand for the app user (its files, the rendered unit). */
const appUser = (() => {
  try {
    execFileSync('id', ['nobody'], { stdio: 'ignore' });
    return 'nobody';
  } catch {
    return undefined;
  }
})();
const appUid = appUser ? Number(execFileSync('id', ['-u', appUser]).toString()) : undefined;
const appGid = appUser ? Number(execFileSync('id', ['-g', appUser]).toString()) : undefined;

function install(from: string): void {
  rmSync(installRoot(), { recursive: true, force: true });
  mkdirSync(installRoot(), { recursive: true });
  cpSync(from, installRoot(), { recursive: true });
}

// describe aliases, not it aliases: lint (jest/no-standalone-expect) recognises plain `it` inside them.
const describeAsRoot = isRoot && appUser ? describe : describe.skip;
if (!isRoot || !appUser) console.log('root-only hook tests skipped: they need root and a non-root account (nobody) to stand for the app user');
const describeWithLogrotate = isRoot && appUser && existsSync('/usr/sbin/logrotate') ? describe : describe.skip;

const lastLine = (output: string) => output.trim().split('\n').at(-1) ?? '';

beforeAll(async () => {
  work = tempDir('hardening');
  bundle = await makeBundle(work, 'rev-h1');
  broken = makeBrokenBundle(bundle, work, 'rev-h2');
  env = instanceHookEnv(work, { appEnv: 'test', port: await freePort(), workers: 1, extra: { CRASH_WATCH_SECONDS: '3' } });
  instanceEnv = env.INSTANCE_ENV_FILE as string;
  marker = path.join(work, 'ran-planted-code');
  planted = path.join(env.LOG_DIR as string, 'planted.js');
  mkdirSync(env.LOG_DIR as string, { recursive: true });
  writeFileSync(planted, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\nmodule.exports = { commit: 'rev-h1' };\n`);
  install(bundle);
});

afterAll(() => {
  pm2Kill(bundle, env.PM2_HOME as string);
  rmSync(work, { recursive: true, force: true });
});

describe('settings from env files', () => {
  let original: string;
  beforeAll(() => (original = readFileSync(instanceEnv, 'utf8')));
  afterEach(() => writeFileSync(instanceEnv, original));

  it('when the environment sets VALIDATE_ATTEMPTS to an arithmetic payload, then the hook refuses it by name and runs nothing', async () => {
    const ran = await runHook(hook('validate-service'), { ...env, VALIDATE_ATTEMPTS: `PATH[$(id>${marker})]` });

    expect(ran.code).toBe(1);
    expect(lastLine(ran.output)).toContain('VALIDATE_ATTEMPTS must be a whole number of decimal digits');
    expect(existsSync(marker)).toBe(false);
  });

  it('when the instance env file sets VALIDATE_ATTEMPTS to that payload, then the key is ignored as not allowed and nothing runs', async () => {
    writeFileSync(instanceEnv, `${readFileSync(instanceEnv, 'utf8')}VALIDATE_ATTEMPTS=PATH[$(id>${marker})]\n`);
    const { VALIDATE_ATTEMPTS: _attempts, ...rest } = env;

    const ran = await runHook(hook('validate-service'), { ...rest, PORT: String(await freePort()), VALIDATE_ATTEMPTS: '1' });

    expect(ran.output).toContain(`ignoring VALIDATE_ATTEMPTS in ${instanceEnv}: not a setting this file may hold`);
    expect(existsSync(marker)).toBe(false);
  });

  it('when an allowed key of the instance env file holds shell syntax, then the hook fails naming the key', async () => {
    writeFileSync(instanceEnv, `APP_ENV=$(id>${marker})\n`);
    const { PORT: _port, ...rest } = env;

    const ran = await runHook(hook('before-install'), rest);

    expect(ran.code).toBe(1);
    expect(ran.output).toContain(`APP_ENV in ${instanceEnv} has characters a setting may not hold`);
    expect(existsSync(marker)).toBe(false);
  });

  it('when the instance env file names no APP_ENV, then ApplicationStart refuses to start the service on laptop defaults', async () => {
    writeFileSync(instanceEnv, `PORT=${await freePort()}\n`);
    const { APP_ENV: _appEnv, ...rest } = env;

    const ran = await runHook(hook('application-start'), rest);

    expect(ran.code).toBe(1);
    expect(lastLine(ran.output)).toContain(`APP_ENV is not set: ${instanceEnv} must name the environment`);
  });

  it('when the instance env file sets NODE_OPTIONS to load planted code, then root hooks ignore it and the code never runs', async () => {
    writeFileSync(instanceEnv, `${readFileSync(instanceEnv, 'utf8')}NODE_OPTIONS=--require=${planted}\n`);

    const ran = await runHook(hook('after-install'), env);

    expect(ran.code).toBe(0);
    expect(ran.output).toContain('ignoring NODE_OPTIONS');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('what the service user can write, root hooks never run', () => {
  afterEach(() => install(bundle));

  it('when build-info.json is a link to a .js file the service user planted, then AfterInstall refuses the link and the code never runs', async () => {
    const buildInfo = path.join(installRoot(), 'app', 'build-info.json');
    rmSync(buildInfo);
    symlinkSync(planted, buildInfo);

    const ran = await runHook(hook('after-install'), env);

    expect(ran.code).toBe(1);
    expect(ran.output).toContain(`${buildInfo} is a symbolic link: refusing to follow it`);
    expect(existsSync(marker)).toBe(false);
  });

});

describeAsRoot('an install root the service user could write', () => {
  afterEach(() => install(bundle));

  it('when a file in the install root belongs to the service user, then AfterInstall fails naming it and BeforeInstall empties the tree', async () => {
    const ecosystem = path.join(installRoot(), 'app', 'ecosystem.config.js');
    chownSync(ecosystem, appUid as number, appUid as number);

    const after = await runHook(hook('after-install'), env);
    const before = await runHook(hook('before-install'), env);

    expect(after.code).toBe(1);
    expect(lastLine(after.output)).toContain(`${ecosystem} is not root's, or is writable by others`);
    expect(before.code).toBe(0);
    expect(before.output).toContain('holds files the app user could change: emptying it');
    expect(existsSync(ecosystem)).toBe(false);
  });
});

let systemRoot: string;
/** AfterInstall as root with SYSTEM_ROOT: writes the boot unit and the log rotation under systemRoot. */
async function afterInstallAsRoot(): Promise<void> {
  systemRoot = path.join(work, 'system');
  const ran = await runHook(hook('after-install'), { ...env, SYSTEM_ROOT: systemRoot, APP_USER: appUser as string });
  if (ran.code !== 0) throw new Error(`after-install failed:\n${ran.output}`);
}

describeAsRoot('the boot service and log rotation', () => {
  beforeAll(afterInstallAsRoot);

  it('when AfterInstall runs as root, then it writes the pm2 boot unit itself: pm2 runs as the app user, never as root', () => {
    const unit = readFileSync(path.join(systemRoot, 'etc', 'systemd', 'system', `pm2-${appUser}.service`), 'utf8');

    expect(unit).toMatch(new RegExp(`^User=${appUser}$`, 'm'));
    expect(unit).toMatch(new RegExp(`^ExecStart=\\S+/node ${installRoot()}/app/node_modules/pm2/bin/pm2 resurrect$`, 'm'));
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
    expect(existsSync(path.join(env.PM2_HOME as string, 'pm2.pid'))).toBe(false);
  });

  it('when AfterInstall runs as root, then logrotate rotates the log directory as the app user, copying and truncating what pm2 holds open', () => {
    const config = readFileSync(path.join(systemRoot, 'etc', 'logrotate.d', 'conveyor-api'), 'utf8');
    const block = config.slice(config.indexOf('{') + 1, config.indexOf('}'));

    expect(config).toContain(`${env.LOG_DIR}/*.log {`);
    expect(block.trim().split('\n').map((line) => line.trim())).toEqual([
      `su ${appUser} ${execFileSync('id', ['-gn', appUser as string]).toString().trim()}`,
      'daily',
      'maxsize 100M',
      'rotate 7',
      'missingok',
      'notifempty',
      'compress',
      'delaycompress',
      'copytruncate',
    ]);
    expect(readFileSync(path.join(systemRoot, 'etc', 'systemd', 'system', 'logrotate.timer.d', 'conveyor-api.conf'), 'utf8')).toBe('[Timer]\nOnCalendar=\nOnCalendar=hourly\n');
  });

});

describeWithLogrotate('the log rotation, read by logrotate itself', () => {
  beforeAll(afterInstallAsRoot);
  it('when logrotate reads the config, then it accepts it and would rotate a log over maxsize', () => {
    // As on an instance: the log directory and its files are the app user's, reachable from /.
    const log = path.join(env.LOG_DIR as string, 'conveyor-api.log');
    writeFileSync(log, '');
    truncateSync(log, 101 * 1024 * 1024);
    chmodSync(work, 0o755);
    for (const owned of [env.LOG_DIR as string, log]) chownSync(owned, appUid as number, appGid as number);
    try {
      // -d: a dry run that prints, on stderr, what it would do and any error in the config.
      const ran = spawnSync('/usr/sbin/logrotate', ['-d', '-s', path.join(work, 'logrotate.state'), path.join(systemRoot, 'etc', 'logrotate.d', 'conveyor-api')], { encoding: 'utf8' });
      const said = `${ran.stdout}${ran.stderr}`;

      expect({ status: ran.status, errors: said.split('\n').filter((line) => /error/i.test(line)) }).toEqual({ status: 0, errors: [] });
      expect(said).toContain('log needs rotating');
    } finally {
      rmSync(log, { force: true });
      chmodSync(work, 0o700);
    }
  });
});

describe('ValidateService output', () => {
  it('when validation fails, then the cause is the last line of the output (CodeDeploy keeps only the end)', async () => {
    const serviceLog = path.join(env.LOG_DIR as string, 'conveyor-api.log');
    writeFileSync(serviceLog, `${'{"level":30,"msg":"a long service log line"}\n'.repeat(200)}`);

    const ran = await runHook(hook('validate-service'), { ...env, PORT: String(await freePort()), VALIDATE_ATTEMPTS: '2', VALIDATE_INTERVAL_SECONDS: '0' });
    rmSync(serviceLog);

    expect(ran.code).toBe(1);
    expect(ran.output).toContain('last lines of');
    expect(lastLine(ran.output)).toMatch(/ERROR: http:\/\/127\.0\.0\.1:\d+\/health did not report commit rev-h1 after 2 attempts$/);
    expect(ran.output.trim().split('\n').at(-2)).toContain('last answer: no answer (ECONNREFUSED)');
  });
});

const mountable = tmpfsMountable();
if (!mountable.ok) console.log(`full-disk hook tests skipped: ${mountable.reason}`);

(mountable.ok ? describe : describe.skip)('full disks', () => {
  const mounts: string[] = [];
  afterAll(() => mounts.forEach(unmount));

  it('when TMPDIR is full, then ApplicationStart reports the start pm2 did, and ApplicationStop stops and still saves pm2\'s list', async () => {
    const tmp = path.join(work, 'full-tmp');
    mountTmpfs(tmp, '512k', { full: true });
    mounts.push(tmp);

    const start = await runHook(hook('application-start'), { ...env, TMPDIR: tmp });
    const served = await health(Number(readFileSync(instanceEnv, 'utf8').match(/^PORT=(\d+)$/m)?.[1]));
    const stop = await runHook(hook('application-stop'), { ...env, TMPDIR: tmp });
    const dump = readFileSync(path.join(env.PM2_HOME as string, 'dump.pm2'), 'utf8');

    expect(start.code).toBe(0);
    expect(start.output).toContain('(TMPDIR) has no room');
    expect(served.body).toMatchObject({ status: 'ok', commit: 'rev-h1' });
    expect(stop.code).toBe(0);
    expect(stop.output).toMatch(/\[application-stop\] stopped/);
    expect(stop.output).not.toContain('pm2 save failed');
    expect(JSON.parse(dump)).toEqual([]);
  });

  it('when pm2\'s home is on a full disk, then ApplicationStart fails at once naming it, instead of waiting for the event timeout', async () => {
    const pm2Home = path.join(work, 'full-pm2');
    mountTmpfs(pm2Home, '512k', { full: true });
    mounts.push(pm2Home);

    const ran = await runHook(hook('application-start'), { ...env, PM2_HOME: pm2Home }, 30_000);

    expect(ran.code).toBe(1);
    expect(lastLine(ran.output)).toMatch(new RegExp(`pm2's home ${pm2Home} has \\d+ KB free, pm2 needs 10240 KB`));
  });
});

describe('a release that crash-loops', () => {
  it('when the workers crash while loading, then ApplicationStart fails within its watch, the cause last, not ValidateService later', async () => {
    install(broken);

    const ran = await runHook(hook('application-start', broken), { ...env, CRASH_WATCH_SECONDS: '20' });

    expect(ran.code).toBe(1);
    expect(lastLine(ran.output)).toMatch(/conveyor-api's workers are crash-looping: \d+ restarts within 20 s of starting/);
    expect(ran.output).toMatch(/App \[conveyor-api:0\] will restart in \d+ms/);
  });
});
