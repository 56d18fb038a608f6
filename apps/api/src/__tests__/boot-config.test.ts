// Reliability drill: a config source that is slow or throttled at boot. The
// real service runs as a child process with an IPC channel, as under pm2, and
// Parameter Store inside it is replaced by aws-sdk-client-mock (a `-r`
// preload, fixtures/ssm-stub.cjs). Whatever SSM does, the service either
// reports ready with a valid config inside its startup budget (pm2's
// listen_timeout comes from the same STARTUP_TIMEOUT_MS), or exits non-zero
// inside that budget with one line naming the cause, never ready, never bound.
import path from 'node:path';

import { describeConfigKeys } from '@conveyor/config';

import { cleanup, get, startService, type ServiceProcess } from './process';

const STUB = path.join(__dirname, 'fixtures', 'ssm-stub.cjs');
const SSM_PATH = '/svc/test/';
/** The startup budget these boots get: pm2 would give up on the process after it. */
const BUDGET_MS = 4_000;
/**
 * The service counts its budget from its own start, which a busy machine can
 * delay by seconds after spawn (CI once saw a load average of 30). The
 * deadline below allows that much, and still proves the process ends by itself
 * instead of hanging until pm2 gives up.
 */
const SPAWN_SLACK_MS = 5_000;

let service: ServiceProcess | undefined;
afterEach(() => {
  cleanup(service);
  service = undefined;
});

/** The service with Parameter Store answering as `mode` says (see ssm-stub.cjs). */
function startWithSsm(mode: 'slow' | 'throttle' | 'invalid' | 'hang', extra: Record<string, string> = {}): Promise<ServiceProcess> {
  return startService({
    NODE_OPTIONS: `--require ${JSON.stringify(STUB)}`,
    SSM_STUB: mode,
    CONFIG_SSM_PATH: SSM_PATH,
    AWS_REGION: 'eu-west-1',
    STARTUP_TIMEOUT_MS: String(BUDGET_MS),
    ...extra,
  });
}

/** How the process ended, or 'still running' if it had not by `deadline` (a Date.now() value). */
function exitBy(started: ServiceProcess, deadline: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'still running'> {
  const left = Math.max(0, deadline - Date.now());
  // Decided one loop turn after the timer: on a busy machine an exit the OS
  // already reported must win over a timer that fired late in the same turn.
  const late = new Promise<'still running'>((resolve) => setTimeout(() => setImmediate(() => resolve('still running')), left).unref());
  return Promise.race([started.exited, late]);
}

const fatalLine = (started: ServiceProcess) => started.logs.find((line) => line.level === 60);

describe('boot with a slow or throttled Parameter Store', () => {
  it('when Parameter Store is slow but answers within the budget, then the service reports ready, serves, and has the values of every page', async () => {
    // Pages 400 ms apart, and a budget with room for a slow start on a busy
    // machine (the SDK alone takes a second to load there): this case is about
    // a slow source inside the budget, the others about the budget's edge.
    service = await startWithSsm('slow', { SSM_STUB_DELAY_MS: '400', STARTUP_TIMEOUT_MS: '15000' });

    await service.ready;
    const health = await get(service.port, '/health');

    expect(health.status).toBe(200);
    const fromRequired = Object.fromEntries(
      describeConfigKeys()
        .filter((info) => info.ssmRequired)
        .map((info) => [info.key, `SSM parameter ${SSM_PATH}${info.parameter ?? ''}`]),
    );
    expect(service.logs.find((line) => line.msg === 'Configuration loaded')).toMatchObject({
      sources: { ...fromRequired, LOG_LEVEL: `SSM parameter ${SSM_PATH}log-level` },
    });
    // Parameter Store was read, so the SDK loaded: its notices are JSON lines, never plain text on stderr.
    expect(service.logs.filter((line) => 'stderr' in line)).toEqual([]);
  });

  it('when Parameter Store throttles every call, then the service exits 1 within the budget naming throttling and the path, never ready', async () => {
    const deadline = Date.now() + BUDGET_MS + SPAWN_SLACK_MS;
    service = await startWithSsm('throttle');

    const exit = await exitBy(service, deadline);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(service.wasReady()).toBe(false);
    expect(service.logs.some((line) => line.msg === 'Listening')).toBe(false);
    const fatal = String(fatalLine(service)?.msg);
    expect(fatal).toContain(`Could not read SSM Parameter Store path ${SSM_PATH}`);
    expect(fatal).toContain('ThrottlingException: Rate exceeded');
  });

  it('when Parameter Store never answers, then the service exits 1 before the budget runs out naming the budget and the path, never ready nor bound', async () => {
    const deadline = Date.now() + BUDGET_MS + SPAWN_SLACK_MS;
    service = await startWithSsm('hang');
    const whileWaiting = await new Promise((resolve) => setTimeout(resolve, 1_500)).then(() =>
      get(service?.port ?? 0, '/health').catch((error: NodeJS.ErrnoException) => error.code),
    );

    const exit = await exitBy(service, deadline);

    expect(whileWaiting).toBe('ECONNREFUSED');
    expect(exit).toEqual({ code: 1, signal: null });
    expect(service.wasReady()).toBe(false);
    const fatal = String(fatalLine(service)?.msg);
    expect(fatal).toContain(`Could not read SSM Parameter Store path ${SSM_PATH} within the startup budget (STARTUP_TIMEOUT_MS=${BUDGET_MS})`);
  });

  it('when Parameter Store holds an invalid value, then the service exits 1 naming the key and the parameter but not the value, never ready', async () => {
    const secret = 'not-a-number-5ecret-91d';
    const deadline = Date.now() + BUDGET_MS + SPAWN_SLACK_MS;
    service = await startWithSsm('invalid', { SSM_STUB_SECRET: secret });

    const exit = await exitBy(service, deadline);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(service.wasReady()).toBe(false);
    expect(String(fatalLine(service)?.msg)).toContain(`JSON_BODY_LIMIT_BYTES (SSM parameter ${SSM_PATH}json-body-limit-bytes)`);
    expect(JSON.stringify(service.logs)).not.toContain(secret);
  });
});
