import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnv } from 'node:util';

import { formatCheck, runAcceptance } from '@conveyor/acceptance';

import { onInstance, runLifecycle, type DeploymentInfo, type LifecycleResult, type LocalInstance } from './agent';
import { CONTROL_PREFIX, type AlarmStatus, type ProxyStatus } from './proxy';

export const SLOTS = ['blue', 'green'] as const;
export type Slot = (typeof SLOTS)[number];

export interface RehearsalState {
  readonly proxy?: { readonly pid: number; readonly port: number };
  readonly active?: Slot;
  readonly groupId: string;
  readonly slots: Partial<Record<Slot, { readonly port: number; readonly commit: string; readonly deploymentId: string }>>;
}

export interface BlueGreenOptions {
  /** Where the rehearsal keeps its instances, proxy log and state (e.g. <repo>/.rehearsal). */
  readonly stateDir: string;
  /** The revision to deploy: the build artifact, appspec.yml at its root. */
  readonly bundleDir: string;
  /** The port the local load balancer listens on. */
  readonly proxyPort: number;
  /** The ports of the two slots' services. */
  readonly slotPorts: Readonly<Record<Slot, number>>;
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  readonly progress: (line: string) => void;
  /** How long to let the old slot's in-flight requests finish after the switch (the target group's deregistration delay). @default 10000 */
  readonly drainTimeoutMs?: number;
  /** pm2 workers per slot. @default 2 */
  readonly workersPerSlot?: number;
  /** Extra environment for every hook (e.g. VALIDATE_ATTEMPTS in tests). */
  readonly hookEnv?: Readonly<Record<string, string>>;
  /**
   * How long the old slot keeps running after traffic moves, while the 5xx
   * alarm watches the new slot (CodeDeploy's wait before terminating the
   * original instances). 0 stops the old slot as soon as it has drained, with
   * no alarm. @default 0
   */
  readonly terminationWaitMs?: number;
  /** 5xx answers from the new slot during the termination wait that put the alarm in ALARM and roll the deployment back. @default 5 */
  readonly alarm5xxThreshold?: number;
  /** Each acceptance-check request's bound. @default 5000 */
  readonly acceptanceTimeoutMs?: number;
}

/** Why a deployment whose traffic had moved was rolled back. */
export interface Rollback {
  /** CodeDeploy's error code: ALARM_ACTIVE for the 5xx alarm; the acceptance check's failure is the rehearsal's own. */
  readonly cause: 'ALARM_ACTIVE' | 'ACCEPTANCE_CHECK_FAILED';
  /** One line: what tripped it. */
  readonly detail: string;
  /** The 5xx alarm at the end, when it tripped. */
  readonly alarm?: AlarmStatus;
}

export interface BlueGreenResult {
  readonly succeeded: boolean;
  readonly slot: Slot;
  readonly commit: string;
  readonly url: string;
  readonly deploymentId: string;
  readonly lifecycle: LifecycleResult;
  /** On failure: the slot still serving, if any. */
  readonly serving?: { readonly slot: Slot; readonly commit: string };
  /** Set when traffic had moved to the new slot and went back to the old one. */
  readonly rollback?: Rollback;
}

const PROXY_MAIN = path.join(__dirname, 'proxy-main.js');

function statePath(stateDir: string): string {
  return path.join(stateDir, 'state.json');
}

export function readState(stateDir: string): RehearsalState {
  const file = statePath(stateDir);
  if (!existsSync(file)) return { groupId: randomUUID(), slots: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as RehearsalState;
}

function writeState(stateDir: string, state: RehearsalState): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(statePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** A CodeDeploy-style deployment id: d- and nine characters. */
function newDeploymentId(): string {
  return `d-${randomBytes(7).toString('base64url').toUpperCase().replace(/[^A-Z0-9]/g, 'X').slice(0, 9)}`;
}

/**
 * The slot's local instance. Its instance.env is what the instance's user
 * data writes on AWS; here the port is the slot's own, so two slots can run
 * side by side. Every absolute path the bundle names is mapped below the slot.
 */
function slotInstance(stateDir: string, slot: Slot, port: number, deployEnv: Readonly<Record<string, string | undefined>>, options: BlueGreenOptions): LocalInstance {
  const root = path.join(stateDir, 'slots', slot);
  const instance: LocalInstance = { name: slot, root, env: {} };
  const required = (key: string) => {
    const value = deployEnv[key];
    if (!value) throw new Error(`the bundle's deploy.env has no ${key}`);
    return value;
  };
  const instanceEnvFile = onInstance(instance, required('INSTANCE_ENV_FILE'));
  mkdirSync(path.dirname(instanceEnvFile), { recursive: true });
  writeFileSync(instanceEnvFile, `APP_ENV=rehearsal\nPORT=${port}\n`);
  return {
    ...instance,
    env: {
      INSTALL_ROOT: onInstance(instance, required('INSTALL_ROOT')),
      LOG_DIR: onInstance(instance, required('LOG_DIR')),
      INSTANCE_ENV_FILE: instanceEnvFile,
      PM2_HOME: path.join(root, 'home', 'app', '.pm2'),
      PM2_INSTANCES: String(options.workersPerSlot ?? 2),
      ...options.hookEnv,
    },
  };
}

async function proxyStatus(port: number): Promise<ProxyStatus | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${CONTROL_PREFIX}status`, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? ((await res.json()) as ProxyStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the proxy (detached: it outlives this command) unless ours already answers on the port. */
async function ensureProxy(options: BlueGreenOptions, state: RehearsalState): Promise<RehearsalState> {
  if (state.proxy && state.proxy.port === options.proxyPort && (await proxyStatus(options.proxyPort))) return state;
  const active = state.active ? state.slots[state.active] : undefined;
  const logFile = path.join(options.stateDir, 'proxy.log');
  mkdirSync(options.stateDir, { recursive: true });
  const log = openSync(logFile, 'a');
  const args = [PROXY_MAIN, String(options.proxyPort), ...(state.active && active ? [state.active, String(active.port)] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  closeSync(log);
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await proxyStatus(options.proxyPort)) {
      options.progress(`[proxy] listening on http://127.0.0.1:${options.proxyPort} (pid ${child.pid})`);
      return { ...state, proxy: { pid: child.pid ?? 0, port: options.proxyPort } };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`the local load balancer could not start on port ${options.proxyPort}: see ${logFile}`);
}

async function switchProxy(port: number, slot: Slot, targetPort: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${CONTROL_PREFIX}target`, {
    method: 'PUT',
    body: JSON.stringify({ slot, port: targetPort }),
    signal: AbortSignal.timeout(2_000),
  });
  if (!res.ok) throw new Error(`the proxy refused the switch to ${slot}: HTTP ${res.status}`);
}

/** Arms the proxy's 5xx alarm on the new slot: at the threshold the proxy itself moves traffic to `fallback`. */
async function armAlarm(port: number, spec: { port: number; threshold: number; fallback: { slot: Slot; port: number } }): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${CONTROL_PREFIX}alarm`, { method: 'PUT', body: JSON.stringify(spec), signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`the proxy refused the 5xx alarm: HTTP ${res.status}`);
}

/** Disarms the alarm and returns its final state (it may have tripped an instant before). */
async function disarmAlarm(port: number): Promise<AlarmStatus | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}${CONTROL_PREFIX}alarm`, { method: 'DELETE', signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`the proxy refused to disarm the 5xx alarm: HTTP ${res.status}`);
  return ((await res.json()) as { alarm: AlarmStatus | null }).alarm ?? undefined;
}

/**
 * Ends the watch: when the alarm has tripped, waits for the requests still in
 * flight on the new slot (the proxy already sends every new one to the
 * original slot), so the count is final; then disarms it and returns its state.
 */
async function stopWatching(proxyPort: number, port: number, drainTimeoutMs: number): Promise<AlarmStatus | undefined> {
  if ((await proxyStatus(proxyPort))?.alarm?.state === 'ALARM') await drain(proxyPort, port, drainTimeoutMs);
  return disarmAlarm(proxyPort);
}

/** The termination wait: the alarm keeps watching the new slot until the wait ends or it trips. Returns its final state. */
async function watchTerminationWait(proxyPort: number, port: number, waitMs: number, drainTimeoutMs: number): Promise<AlarmStatus | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if ((await proxyStatus(proxyPort))?.alarm?.state === 'ALARM') break;
    await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
  }
  return stopWatching(proxyPort, port, drainTimeoutMs);
}

/**
 * Ends a slot's pm2 daemon and the service under it, gracefully (pm2 gives
 * each worker its kill_timeout), through that slot's own PM2_HOME: only
 * processes this rehearsal started are touched.
 */
function stopSlot(stateDir: string, slot: Slot, parentEnv: BlueGreenOptions['parentEnv'], progress: (line: string) => void): void {
  const root = path.join(stateDir, 'slots', slot);
  const pm2Home = path.join(root, 'home', 'app', '.pm2');
  const pm2 = findInstalledPm2(root);
  if (!pm2 || !existsSync(path.join(pm2Home, 'pm2.pid'))) return;
  try {
    execFileSync(process.execPath, [pm2, 'kill'], { env: { PATH: parentEnv.PATH ?? '', PM2_HOME: pm2Home }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  } catch (error) {
    const { status, signal, stderr } = error as { status?: number | null; signal?: string | null; stderr?: Buffer };
    const said = stderr?.toString().trim().split('\n').slice(-5).join('\n') ?? '';
    throw new Error(`[deploy:${slot}] pm2 kill (PM2_HOME ${pm2Home}) failed: ${signal ? `killed by ${signal} after 60 s` : `exit ${status ?? '?'}`}${said ? `\n${said}` : ''}`, { cause: error });
  }
  progress(`[deploy:${slot}] stopped: pm2 kill for this slot's PM2_HOME`);
}

/** The pm2 a slot has installed (<slot>/opt/<service>/app/node_modules/pm2). */
function findInstalledPm2(slotRoot: string): string | undefined {
  const opt = path.join(slotRoot, 'opt');
  if (!existsSync(opt)) return undefined;
  return readdirSync(opt)
    .map((name) => path.join(opt, name, 'app', 'node_modules', 'pm2', 'bin', 'pm2'))
    .find((bin) => existsSync(bin));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;

/**
 * Polls /health through the proxy until it reports `commit` (the ALB's view
 * of the switch). 'alarm' when the 5xx alarm trips first: under load the new
 * slot's errors can reach the threshold before the poll's own request is
 * answered, and the proxy has then already moved traffic back.
 */
async function waitForCommitThroughProxy(port: number, commit: string): Promise<'served' | 'alarm' | 'timeout'> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { commit?: string };
      if (res.ok && body.commit === commit) return 'served';
    } catch {
      // not yet
    }
    if ((await proxyStatus(port))?.alarm?.state === 'ALARM') return 'alarm';
    await sleep(100);
  }
  return 'timeout';
}

/** Waits until the proxy has no request in flight to `port`, or the timeout passes. */
async function drain(proxyPort: number, port: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await proxyStatus(proxyPort))?.inFlight[String(port)] ?? 0;
    if (left === 0 || Date.now() >= deadline) return left;
    await sleep(100);
  }
}

/**
 * A blue/green deployment on this machine, in CodeDeploy's order:
 * 1. install the revision on the idle slot (the "green" instances): the whole
 *    in-place lifecycle, ApplicationStop through ValidateService;
 * 2. BeforeAllowTraffic; a 5xx alarm armed on the new slot (when there is an
 *    old one to return to); AllowTraffic (the proxy now sends new requests
 *    to the new slot), AfterAllowTraffic;
 * 3. the acceptance check (`@conveyor/acceptance`, what the pipeline runs
 *    against staging) through the proxy, one `[acceptance]` line per check;
 * 4. BlockTraffic on the old slot: wait for its in-flight requests (the
 *    deregistration delay); keep it running through the termination wait
 *    while the alarm watches the new slot; then stop it (CodeDeploy
 *    terminates it) and disarm the alarm.
 * If any step fails, traffic stays on (or returns to) the old slot, the new
 * slot is stopped, and the result says what failed; when traffic had moved,
 * `rollback` says why it came back (ALARM_ACTIVE, or the acceptance check).
 * The alarm needs nobody to poll it: the proxy moves traffic back on the
 * very answer that reaches the threshold.
 */
export async function deployBlueGreen(options: BlueGreenOptions): Promise<BlueGreenResult> {
  const { stateDir, bundleDir, progress } = options;
  // deploy.env holds KEY=VALUE lines with plain values (the bundle writes only
  // letters, digits and _ . / : @ + -), which dotenv syntax reads unchanged.
  const deployEnv = parseEnv(readFileSync(path.join(bundleDir, 'deploy.env'), 'utf8'));
  const commit = deployEnv.BUNDLE_COMMIT ?? 'unknown';
  const serviceName = deployEnv.SERVICE_NAME ?? 'service';

  let state = await ensureProxy(options, readState(stateDir));
  writeState(stateDir, state);
  const previous = state.active;
  const previousSlot = previous ? state.slots[previous] : undefined;
  const slot: Slot = previous === 'blue' ? 'green' : 'blue';
  const port = options.slotPorts[slot];
  const deployment: DeploymentInfo = {
    id: newDeploymentId(),
    applicationName: serviceName,
    groupName: `${serviceName}-rehearsal`,
    groupId: state.groupId,
  };
  const url = `http://127.0.0.1:${options.proxyPort}`;
  progress(
    `[deploy] ${deployment.id}: commit ${commit} to slot ${slot} (port ${port}); ` +
      (previous ? `traffic stays on ${previous} until ${slot} validates` : 'first deployment'),
  );

  // A fresh "instance": a process left on this slot by an earlier failed run is stopped first.
  stopSlot(stateDir, slot, options.parentEnv, progress);
  const instance = slotInstance(stateDir, slot, port, deployEnv, options);
  const run = (events?: readonly string[]) =>
    runLifecycle({ instance, bundleDir, deployment, parentEnv: options.parentEnv, progress, ...(events ? { events } : {}) });
  const fail = (lifecycle: LifecycleResult): BlueGreenResult => {
    stopSlot(stateDir, slot, options.parentEnv, progress);
    return {
      succeeded: false, slot, commit, url, deploymentId: deployment.id, lifecycle,
      ...(previous && previousSlot ? { serving: { slot: previous, commit: previousSlot.commit } } : {}),
    };
  };

  const installed = await run();
  if (!installed.succeeded) return fail(installed);

  const beforeAllow = await run(['BeforeAllowTraffic']);
  if (!beforeAllow.succeeded) return fail(beforeAllow);

  // The 5xx alarm watches the new slot from the moment it takes traffic until
  // the original slot stops: only then is there nothing to roll back to.
  const original = previous && previousSlot ? { slot: previous, port: previousSlot.port, commit: previousSlot.commit } : undefined;
  const threshold = options.alarm5xxThreshold ?? 5;
  const alarmName = `${serviceName}-rehearsal-5xx`;
  if (original) {
    await armAlarm(options.proxyPort, { port, threshold, fallback: { slot: original.slot, port: original.port } });
    progress(`[deploy] alarm ${alarmName} watches slot ${slot} until slot ${original.slot} stops: ALARM at ${threshold} 5xx`);
  }

  /**
   * Traffic goes back to the original slot (when there is one; the alarm has
   * already moved it) and the new slot stops once its in-flight requests
   * have ended.
   */
  const rollBack = async (rollback: Rollback, event: string): Promise<BlueGreenResult> => {
    if (original) {
      await switchProxy(options.proxyPort, original.slot, original.port);
      progress(`[deploy] Rollback: ${url} routes to slot ${original.slot} again, commit ${original.commit}`);
    }
    await drain(options.proxyPort, port, options.drainTimeoutMs ?? 10_000);
    const failed = fail({ succeeded: false, events: [], failure: { event, message: rollback.detail }, archiveDir: installed.archiveDir });
    return original ? { ...failed, rollback } : failed;
  };
  const alarmRollback = (alarm: AlarmStatus, event: string) => {
    progress(
      `[deploy] alarm ${alarmName} in ALARM: slot ${slot} answered ${alarm.serverErrors} 5xx of ${alarm.requests} requests ` +
        `(threshold ${threshold}; ${alarm.serverErrorsAtAlarm ?? alarm.serverErrors} when it tripped, the rest were in flight)`,
    );
    return rollBack({ cause: 'ALARM_ACTIVE', detail: `alarm ${alarmName} in ALARM: ${alarm.serverErrors} 5xx of ${alarm.requests} requests from slot ${slot}`, alarm }, event);
  };

  await switchProxy(options.proxyPort, slot, port);
  const seen = await waitForCommitThroughProxy(options.proxyPort, commit);
  if (seen === 'alarm' && original) {
    // As CodeDeploy does when an alarm goes off during any event: the
    // deployment stops (ALARM_ACTIVE) and rolls back.
    const alarm = await stopWatching(options.proxyPort, port, options.drainTimeoutMs ?? 10_000);
    if (alarm?.state === 'ALARM') return alarmRollback(alarm, 'AllowTraffic');
  }
  const switched = seen === 'served';
  const afterAllow = switched ? await run(['AfterAllowTraffic']) : undefined;
  if (!switched || !afterAllow?.succeeded) {
    if (original) {
      await disarmAlarm(options.proxyPort);
      await switchProxy(options.proxyPort, original.slot, original.port);
    }
    const failed: LifecycleResult = afterAllow ?? {
      succeeded: false,
      events: [],
      failure: { event: 'AllowTraffic', message: `the proxy did not serve commit ${commit} from slot ${slot}` },
      archiveDir: installed.archiveDir,
    };
    return fail(failed);
  }
  progress(`[deploy] AllowTraffic: ${url} now routes to slot ${slot}`);

  // The acceptance check: what a user sees through the load balancer, the same code the pipeline runs.
  const acceptance = await runAcceptance({ baseUrl: url, commit, timeoutMs: options.acceptanceTimeoutMs ?? 5_000 });
  for (const check of acceptance.checks) progress(`[acceptance] ${formatCheck(check)}`);
  if (!acceptance.passed) {
    const alarm = original ? await stopWatching(options.proxyPort, port, options.drainTimeoutMs ?? 10_000) : undefined;
    if (alarm?.state === 'ALARM') return alarmRollback(alarm, 'AcceptanceCheck');
    const failedChecks = acceptance.checks.filter((check) => !check.passed).map((check) => check.name);
    return rollBack({ cause: 'ACCEPTANCE_CHECK_FAILED', detail: `acceptance check failed: ${failedChecks.join(', ')}` }, 'AcceptanceCheck');
  }

  if (original) {
    const left = await drain(options.proxyPort, original.port, options.drainTimeoutMs ?? 10_000);
    progress(`[deploy] BlockTraffic: slot ${original.slot} drained${left > 0 ? ` (${left} requests still running at the deadline)` : ''}`);
    const waitMs = options.terminationWaitMs ?? 0;
    if (waitMs > 0) progress(`[deploy] termination wait: ${seconds(waitMs)} before stopping slot ${original.slot}`);
    const alarm = await watchTerminationWait(options.proxyPort, port, waitMs, options.drainTimeoutMs ?? 10_000);
    if (alarm?.state === 'ALARM') return alarmRollback(alarm, 'TerminationWait');
    if (waitMs > 0) progress(`[deploy] termination wait over: alarm OK, ${alarm?.serverErrors ?? 0} 5xx of ${alarm?.requests ?? 0} requests from slot ${slot}`);
    stopSlot(stateDir, original.slot, options.parentEnv, progress);
  }

  const slots = { ...state.slots, [slot]: { port, commit, deploymentId: deployment.id } };
  if (previous) delete slots[previous];
  state = { ...state, active: slot, slots };
  writeState(stateDir, state);
  return { succeeded: true, slot, commit, url, deploymentId: deployment.id, lifecycle: installed };
}

/** Stops everything the rehearsal started: each slot's pm2 (by its PM2_HOME) and the proxy (by the pid it recorded). */
export async function stopRehearsal(options: Pick<BlueGreenOptions, 'stateDir' | 'parentEnv' | 'progress'>): Promise<void> {
  const state = readState(options.stateDir);
  for (const slot of SLOTS) stopSlot(options.stateDir, slot, options.parentEnv, options.progress);
  if (state.proxy && (await proxyStatus(state.proxy.port))) {
    process.kill(state.proxy.pid, 'SIGTERM');
    for (let attempt = 0; attempt < 30 && (await proxyStatus(state.proxy.port)); attempt++) await sleep(100);
    options.progress(`[proxy] stopped (pid ${state.proxy.pid})`);
  }
  rmSync(statePath(options.stateDir), { force: true });
}
