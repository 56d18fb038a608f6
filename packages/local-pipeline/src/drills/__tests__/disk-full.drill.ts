// Reliability drill: full and read-only disks on the instance that receives
// the next version. Version 1 serves through the rehearsal's load balancer
// (slot blue); the next deployment goes to slot green, where, in turn:
// the install root is a tmpfs too small for the bundle (BeforeInstall must
// refuse it, measuring that filesystem and not its parent's), a read-only one
// (Install must fail naming EROFS), and pm2's home is a full disk
// (ApplicationStart must fail at once naming it, not wait for its event
// timeout). Version 1 must serve every request meanwhile. Last, with TMPDIR a
// full disk, the deployment must succeed: pm2 did start the service, and the
// hooks judge by that. Mounting needs root: without it the drill is skipped
// and says why.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { failureReasons, startLoad } from '@conveyor/tooling-support';

import { health, makeBundle, mountTmpfs, tmpfsMountable, unmount } from '../../codedeploy/__tests__/fixtures';
import { rehearsalServingVersion1, type DrillRehearsal } from './rehearsal';

const mountable = tmpfsMountable();
if (!mountable.ok) console.log(`disk-full drill skipped: ${mountable.reason}`);
// A describe, not an it, alias: lint (jest/no-standalone-expect) recognises plain `it` inside it.
const describeIfMountable = mountable.ok ? describe : describe.skip;

let rehearsal: DrillRehearsal;
let secondBundle: string;
/** Slot green's install root (/opt/conveyor-api on that local instance) and pm2's home there. */
let greenInstallRoot: string;
let greenPm2Home: string;
const mounted: string[] = [];

function mount(dir: string, size: string, options: { readonly full?: boolean; readonly readOnly?: boolean } = {}): void {
  mountTmpfs(dir, size, options);
  mounted.push(dir);
}

/** The scripts.log of the latest deployment to `slot` (the agent keeps one per deployment). */
function latestScriptsLog(slot: string): string {
  const root = path.join(rehearsal.stateDir, 'slots', slot, 'opt', 'codedeploy-agent', 'deployment-root');
  const logs = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(`${path.sep}scripts.log`))
    .map((file) => path.join(root, file));
  return logs.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs).at(-1) ?? '';
}

function unmountAll(): void {
  // A process of a failed deployment may still hold one: unmount detaches it lazily then.
  while (mounted.length > 0) unmount(mounted.pop() as string);
}

/** Deploys `bundle` while a keep-alive load runs through the load balancer; returns both. */
async function deployUnderLoad(bundle: string, env: Readonly<Record<string, string>> = {}) {
  const load = startLoad({ port: rehearsal.ports.proxy, connections: 4, maxDurationMs: 120_000 });
  const run = await rehearsal.cli(['deploy', '--bundle', bundle], env);
  const outcomes = await load.stop();
  return { run, outcomes, failed: outcomes.filter((o) => o.result !== 'ok') };
}

beforeAll(async () => {
  if (!mountable.ok) return;
  rehearsal = await rehearsalServingVersion1('drill-disk', 1);
  greenInstallRoot = path.join(rehearsal.stateDir, 'slots', 'green', 'opt', 'conveyor-api');
  greenPm2Home = path.join(rehearsal.stateDir, 'slots', 'green', 'home', 'app', '.pm2');
  secondBundle = await makeBundle(rehearsal.work, 'rev-2');
});

afterAll(async () => {
  await rehearsal?.stop(unmountAll);
});

describeIfMountable('full or read-only disks on the instance being deployed to', () => {
  it('when the install root is a disk too small for the bundle, then BeforeInstall refuses it, measuring that disk, and version 1 serves every request', async () => {
    mount(greenInstallRoot, '1m');

    const { run, outcomes, failed } = await deployUnderLoad(secondBundle);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILED at BeforeInstall on slot green');
    expect(run.stderr).toMatch(/ERROR: only \d+ KB free for \/[^ ]+\/slots\/green\/opt\/conveyor-api; the revision needs \d+ KB/);
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect(outcomes.length).toBeGreaterThan(0);
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when the install root is read-only, then the deployment fails at Install naming EROFS and version 1 serves every request', async () => {
    unmountAll();
    mount(greenInstallRoot, '256m', { readOnly: true });

    const { run, outcomes, failed } = await deployUnderLoad(secondBundle);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILED at Install on slot green');
    expect(run.stderr).toMatch(/Install +Failed[^\n]*\n +Install could not copy the revision to \/opt\/conveyor-api \(appspec files destination\): EROFS: read-only file system, writing /);
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when pm2\'s home is a full disk, then ApplicationStart fails at once naming it (not at its event timeout) and version 1 serves every request', async () => {
    unmountAll();
    mount(greenPm2Home, '512k', { full: true });

    const { run, outcomes, failed } = await deployUnderLoad(secondBundle);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILED at ApplicationStart on slot green');
    expect(run.stderr).toMatch(/ERROR: pm2's home \/[^ ]+\/slots\/green\/home\/app\/\.pm2 has \d+ KB free, pm2 needs 10240 KB/);
    expect(run.stderr).not.toContain('failed to complete in');
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });

  it('when TMPDIR is a full disk, then the deployment still succeeds, says pm2\'s output was dropped, and version 2 serves', async () => {
    unmountAll();
    const tmp = path.join(rehearsal.work, 'full-tmp');
    mount(tmp, '512k', { full: true });

    const { run, outcomes, failed } = await deployUnderLoad(secondBundle, { TMPDIR: tmp });

    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(run.stderr).toContain('ValidateService  Succeeded');
    expect(readFileSync(latestScriptsLog('green'), 'utf8')).toContain('(TMPDIR) has no room: pm2 startOrReload\'s output is not shown');
    expect({ failed: failed.length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-2' });
  });
});
