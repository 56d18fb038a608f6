// The worker count follows the CPU count, and every hook's worst case, added
// up from the scripts' own bounds and pm2's timeouts, must fit its appspec
// timeout on any instance type: a larger instance must not outlast its event.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DEFAULT_SHUTDOWN_TIMEOUT_MS, STARTUP_TIMEOUT_MS } from '@conveyor/config';

import { readAppSpec } from '../appspec';
import { REPO_ROOT } from './fixtures';

interface Pm2App {
  readonly instances: number;
  readonly listen_timeout: number;
  readonly kill_timeout: number;
}

const ECOSYSTEM = path.join(REPO_ROOT, 'apps', 'api', 'ecosystem.config.js');
const script = (name: string) => readFileSync(path.join(REPO_ROOT, 'scripts', 'codedeploy', name), 'utf8');

/** A whole-number constant or default from a hook script, e.g. `readonly X=30` or `"${X:-10}"`. */
function constant(source: string, pattern: RegExp): number {
  const value = pattern.exec(source)?.[1];
  if (value === undefined) throw new Error(`no match for ${pattern} in the hook scripts: update this test with them`);
  return Number(value);
}

const lib = script('lib.sh');
const bounds = {
  pm2Call: constant(lib, /^readonly PM2_CALL_TIMEOUT_SECONDS=(\d+)$/m),
  pm2Margin: constant(lib, /^readonly PM2_SPAWN_MARGIN_SECONDS=(\d+)$/m),
  killAfter: constant(lib, /timeout --kill-after=(\d+) /),
  crashWatch: constant(script('application-start.sh'), /^readonly CRASH_WATCH_SECONDS="\$\{CRASH_WATCH_SECONDS:-(\d+)\}"$/m),
  attempts: constant(script('validate-service.sh'), /^readonly ATTEMPTS="\$\{VALIDATE_ATTEMPTS:-(\d+)\}"$/m),
  interval: constant(script('validate-service.sh'), /^readonly INTERVAL_SECONDS="\$\{VALIDATE_INTERVAL_SECONDS:-(\d+)\}"$/m),
  probeMs: constant(script('validate-service.sh'), /AbortSignal\.timeout\((\d+)\)/),
};

/** The pm2 app the ecosystem file gives on a machine with `cpus` CPUs, with deploy.env's values. */
function pm2AppFor(cpus: number, env: Readonly<Record<string, string>> = {}): Pm2App {
  const spy = jest.spyOn(os, 'availableParallelism').mockReturnValue(cpus);
  const saved = { ...process.env };
  delete process.env.PM2_INSTANCES;
  Object.assign(process.env, {
    SERVICE_NAME: 'svc',
    LOG_DIR: '/var/log/svc',
    SHUTDOWN_TIMEOUT_MS: String(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    STARTUP_TIMEOUT_MS: String(STARTUP_TIMEOUT_MS),
    ...env,
  });
  try {
    let app: Pm2App | undefined;
    jest.isolateModules(() => {
      app = jest.requireActual<{ apps: Pm2App[] }>(ECOSYSTEM).apps[0];
    });
    return app as Pm2App;
  } finally {
    process.env = saved;
    spy.mockRestore();
  }
}

/** Worst cases in seconds, call by call, as the hook scripts run them (a timed-out call also waits kill-after). */
function worstCase(app: Pm2App): Record<string, number> {
  const call = bounds.pm2Call + bounds.killAfter;
  const startOrReload = (app.instances * (app.listen_timeout + app.kill_timeout)) / 1000 + bounds.pm2Margin + bounds.killAfter;
  const del = (app.instances * app.kill_timeout) / 1000 + bounds.pm2Margin + bounds.killAfter;
  return {
    // startOrReload, the state after it, the crash watch (its last 1 s sleep and query may overrun it), save
    ApplicationStart: startOrReload + call + bounds.crashWatch + 1 + call + call,
    // describe, state, delete, describe again, save
    ApplicationStop: call + call + del + call + call,
    ValidateService: bounds.attempts * (bounds.probeMs / 1000 + bounds.interval),
  };
}

const appspec = readAppSpec(path.join(REPO_ROOT, 'appspec.yml'));
const timeoutOf = (event: string) => appspec.hooks[event]?.reduce((sum, s) => sum + s.timeoutSeconds, 0) ?? 0;

describe('workers and the appspec timeouts', () => {
  it('when the contract\'s timeouts are frozen, then 4 workers give these exact worst cases', () => {
    // Arrange: the values deploy.env carries today, pinned so a change shows here.
    const app = pm2AppFor(64, { SHUTDOWN_TIMEOUT_MS: '10000', STARTUP_TIMEOUT_MS: '30000' });

    // Assert
    expect(app).toMatchObject({ instances: 4, listen_timeout: 30_000, kill_timeout: 12_000 });
    expect(worstCase(app)).toEqual({ ApplicationStart: 319, ApplicationStop: 223, ValidateService: 120 });
  });

  it('when the CPU count is anything from 1 to 1024, then the workers follow it up to the cap and never outlast an appspec timeout', () => {
    const seen = new Set<number>();
    for (let cpus = 1; cpus <= 1024; cpus++) {
      // Act
      const app = pm2AppFor(cpus);
      const worst = worstCase(app);
      seen.add(app.instances);

      // Assert
      expect(app.instances).toBe(Math.min(cpus, 4));
      for (const [event, seconds] of Object.entries(worst)) {
        expect({ event, cpus, fits: seconds <= timeoutOf(event) }).toEqual({ event, cpus, fits: true });
      }
    }
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
  });

  it('when PM2_INSTANCES is not decimal digits, then the ecosystem file refuses it by name', () => {
    for (const bad of ['PATH[$(id)]', '0x4', ' 2', '1e3', '-1']) {
      expect(() => pm2AppFor(2, { PM2_INSTANCES: bad })).toThrow('PM2_INSTANCES must be a whole number of decimal digits');
    }
  });

  it('when neither the environment nor deploy.env names the service, then the ecosystem file says which key is missing', () => {
    expect(() => pm2AppFor(2, { SERVICE_NAME: '' })).toThrow('ecosystem.config.js: SERVICE_NAME is not set');
  });
});
