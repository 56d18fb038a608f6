import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { INSTALL_EVENTS, readAppSpec, type AppSpec } from './appspec';

/** One local "EC2 instance": a directory standing in for its filesystem. */
export interface LocalInstance {
  /** A name for progress lines, e.g. the slot (`blue`). */
  readonly name: string;
  /** The instance's filesystem root: appspec destinations and the agent's files live below it. */
  readonly root: string;
  /** Environment every hook on this instance sees on top of the agent's variables (paths mapped under root, PM2_HOME...). */
  readonly env: Readonly<Record<string, string>>;
}

/** What CodeDeploy tells hooks about the deployment (the agent's environment variables). */
export interface DeploymentInfo {
  readonly id: string;
  readonly applicationName: string;
  readonly groupName: string;
  readonly groupId: string;
}

export interface EventResult {
  readonly event: string;
  readonly status: 'Succeeded' | 'Failed' | 'Skipped';
  readonly durationMs: number;
  readonly message?: string;
}

export interface LifecycleResult {
  readonly succeeded: boolean;
  readonly events: readonly EventResult[];
  /** The first failure, when there is one. */
  readonly failure?: { readonly event: string; readonly message: string };
  /** The instance's copy of the revision: later events (ApplicationStop of the next deployment) run its scripts. */
  readonly archiveDir: string;
}

export interface RunLifecycleOptions {
  readonly instance: LocalInstance;
  /** The revision to deploy (the build artifact: appspec.yml at its root). */
  readonly bundleDir: string;
  readonly deployment: DeploymentInfo;
  /** The parent environment: PATH, HOME and LANG are passed to hooks, nothing else. */
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  readonly progress: (line: string) => void;
  /** @default INSTALL_EVENTS: ApplicationStop through ValidateService */
  readonly events?: readonly string[];
}

/** The agent's own directories, as on an instance (/opt/codedeploy-agent/deployment-root). */
function agentPaths(instance: LocalInstance, deployment: DeploymentInfo) {
  const deploymentRoot = path.join(instance.root, 'opt', 'codedeploy-agent', 'deployment-root');
  const instructions = path.join(deploymentRoot, 'deployment-instructions');
  const deploymentDir = path.join(deploymentRoot, deployment.groupId, deployment.id);
  return {
    archiveDir: path.join(deploymentDir, 'deployment-archive'),
    scriptsLog: path.join(deploymentDir, 'logs', 'scripts.log'),
    lastSuccessfulInstall: path.join(instructions, `${deployment.groupId}_last_successful_install`),
    cleanupFile: path.join(instructions, `${deployment.groupId}-cleanup`),
  };
}

/** The path an absolute appspec path has on this local instance. */
export function onInstance(instance: LocalInstance, absolutePath: string): string {
  return path.join(instance.root, absolutePath);
}

/**
 * Runs CodeDeploy's in-place lifecycle for one revision on one local instance,
 * the way the CodeDeploy agent does: ApplicationStop from the PREVIOUS
 * revision (skipped on the instance's first deployment), DownloadBundle,
 * BeforeInstall, Install (appspec `files` and `permissions`), AfterInstall,
 * ApplicationStart, ValidateService. Stops at the first failing event.
 */
export async function runLifecycle(options: RunLifecycleOptions): Promise<LifecycleResult> {
  const { instance, deployment, progress } = options;
  const paths = agentPaths(instance, deployment);
  const appspec = readAppSpec(path.join(options.bundleDir, 'appspec.yml'));
  const results: EventResult[] = [];
  mkdirSync(path.dirname(paths.scriptsLog), { recursive: true });
  mkdirSync(path.dirname(paths.lastSuccessfulInstall), { recursive: true });

  const hookContext = { ...options, scriptsLog: paths.scriptsLog };
  for (const event of options.events ?? INSTALL_EVENTS) {
    const started = Date.now();
    let outcome: { status: EventResult['status']; message?: string };
    try {
      outcome = await runEvent(event, { ...hookContext, appspec, paths });
    } catch (error) {
      outcome = { status: 'Failed', message: error instanceof Error ? error.message : String(error) };
    }
    const result: EventResult = { event, status: outcome.status, durationMs: Date.now() - started, ...(outcome.message ? { message: outcome.message } : {}) };
    results.push(result);
    progress(formatEvent(instance.name, result));
    if (result.status === 'Failed') {
      return { succeeded: false, events: results, failure: { event, message: result.message ?? 'failed' }, archiveDir: paths.archiveDir };
    }
  }
  writeFileSync(paths.lastSuccessfulInstall, `${paths.archiveDir}\n`);
  return { succeeded: true, events: results, archiveDir: paths.archiveDir };
}

interface EventContext extends RunLifecycleOptions {
  readonly appspec: AppSpec;
  readonly paths: ReturnType<typeof agentPaths>;
  readonly scriptsLog: string;
}

async function runEvent(event: string, context: EventContext): Promise<{ status: EventResult['status']; message?: string }> {
  const { paths } = context;
  switch (event) {
    case 'ApplicationStop': {
      // The agent runs the ApplicationStop scripts of the last revision that
      // installed successfully here; on a first deployment there is none.
      const previous = existsSync(paths.lastSuccessfulInstall) ? readFileSync(paths.lastSuccessfulInstall, 'utf8').trim() : '';
      if (!previous || !existsSync(path.join(previous, 'appspec.yml'))) {
        return { status: 'Skipped', message: 'first deployment to this instance: no previous revision' };
      }
      return runHooks(event, readAppSpec(path.join(previous, 'appspec.yml')), previous, context);
    }
    case 'DownloadBundle':
      rmSync(paths.archiveDir, { recursive: true, force: true });
      mkdirSync(paths.archiveDir, { recursive: true });
      cpSync(context.bundleDir, paths.archiveDir, { recursive: true });
      return { status: 'Succeeded' };
    case 'Install':
      install(context);
      return { status: 'Succeeded' };
    default:
      return runHooks(event, context.appspec, paths.archiveDir, context);
  }
}

/**
 * The Install event: remove what the previous deployment installed (the agent
 * keeps that list), copy `files` with `file_exists_behavior`, apply
 * `permissions`. Ownership changes need root and the user: skipped, and said,
 * otherwise.
 */
function install(context: EventContext): void {
  const { appspec, paths, instance } = context;
  if (existsSync(paths.cleanupFile)) {
    for (const file of readFileSync(paths.cleanupFile, 'utf8').split('\n').filter(Boolean).reverse()) {
      rmSync(file, { force: true, recursive: false });
    }
  }
  const installed: string[] = [];
  for (const { source, destination } of appspec.files) {
    const from = path.join(paths.archiveDir, source);
    const to = onInstance(instance, destination);
    for (const relative of listFiles(from)) {
      const target = path.join(to, relative);
      if (existsSync(target)) {
        if (appspec.fileExistsBehavior === 'DISALLOW') {
          throw new Error(`The deployment failed because a specified file already exists at this location: ${destination}/${relative} (file_exists_behavior: DISALLOW)`);
        }
        if (appspec.fileExistsBehavior === 'RETAIN') continue;
      }
      try {
        mkdirSync(path.dirname(target), { recursive: true });
        cpSync(path.join(from, relative), target, { force: true, verbatimSymlinks: true });
      } catch (error) {
        throw copyFailure(error, destination, target);
      }
      installed.push(target);
    }
  }
  writeFileSync(paths.cleanupFile, `${installed.join('\n')}\n`);
  const chownable = appspec.permissions.filter((p) => p.owner ?? p.group);
  if (chownable.length > 0) {
    appendLog(paths.scriptsLog, `Install: permissions (${chownable.map((p) => `${p.object} -> ${p.owner ?? ''}:${p.group ?? ''}`).join(', ')}) not applied locally: the rehearsal runs as your own user`);
  }
}

/**
 * A failed copy, said the way an operator acts on it: which appspec
 * destination, the errno (ENOSPC: that disk is full; EROFS: mounted
 * read-only), and the file being written, without Node's path into the
 * agent's archive.
 */
function copyFailure(error: unknown, destination: string, target: string): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  // Node's message is "<CODE>: <description>, <syscall> '<from>' -> '<to>'": keep "<CODE>: <description>".
  const reason = code && message.startsWith(`${code}: `) ? (message.split(',')[0] ?? message) : String(error);
  return new Error(`Install could not copy the revision to ${destination} (appspec files destination): ${reason}, writing ${target}`, { cause: error });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

async function runHooks(event: string, appspec: AppSpec, revisionDir: string, context: EventContext): Promise<{ status: EventResult['status']; message?: string }> {
  const scripts = appspec.hooks[event] ?? [];
  if (scripts.length === 0) return { status: 'Skipped', message: 'no scripts for this event' };
  for (const script of scripts) {
    const message = await runScript(event, script, revisionDir, context);
    if (message) return { status: 'Failed', message };
  }
  return { status: 'Succeeded' };
}

/** Runs one hook script like the agent: executable, its own environment, a hard timeout; returns an error message or undefined. */
function runScript(event: string, script: { location: string; timeoutSeconds: number; runas: string | undefined }, revisionDir: string, context: EventContext): Promise<string | undefined> {
  const file = path.join(revisionDir, script.location);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return Promise.resolve(`Script does not exist or is not executable at specified location: ${script.location}`);
  }
  const log = (line: string) => appendLog(context.scriptsLog, line);
  log(`LifecycleEvent - ${event}`);
  log(`Script - ${script.location}${script.runas ? ` (runas ${script.runas}: locally runs as your own user)` : ''}`);

  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = context.parentEnv[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, context.instance.env, {
    LIFECYCLE_EVENT: event,
    DEPLOYMENT_ID: context.deployment.id,
    APPLICATION_NAME: context.deployment.applicationName,
    DEPLOYMENT_GROUP_NAME: context.deployment.groupName,
    DEPLOYMENT_GROUP_ID: context.deployment.groupId,
  });

  return new Promise((resolve) => {
    // Own process group, so a timeout can end the script and everything it started.
    const child = spawn(file, [], { cwd: revisionDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail: string[] = [];
    const capture = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        log(`[${stream}]${line}`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    };
    child.stdout.on('data', capture('stdout'));
    child.stderr.on('data', capture('stderr'));

    const timer = setTimeout(() => {
      // Like the agent: a script (or a child holding its output open) past its timeout fails the event.
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // Already gone: only a background child still held the pipes.
      }
      child.stdout.destroy();
      child.stderr.destroy();
      finish(`Script at specified location: ${script.location} failed to complete in ${script.timeoutSeconds} seconds`);
    }, script.timeoutSeconds * 1000);

    let done = false;
    const finish = (message: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const detail = message && tail.length > 0 ? `${message}\n${tail.map((line) => `    ${line}`).join('\n')}` : message;
      resolve(detail);
    };
    child.on('error', (error) => finish(`Script at specified location: ${script.location} could not run: ${error.message}`));
    // 'close', not 'exit': the agent waits for the script's output to end, which
    // a background process that kept stdout open would block until the timeout.
    child.on('close', (code, signal) => {
      if (code === 0) finish(undefined);
      else finish(`Script at specified location: ${script.location} run as user ${script.runas ?? 'root'} failed with exit code ${code ?? signal ?? 'unknown'}`);
    });
  });
}

function appendLog(file: string, line: string): void {
  const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '');
  appendFileSync(file, `[${stamp}] ${line}\n`);
}

function formatEvent(instance: string, result: EventResult): string {
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  const head = `[deploy:${instance}] ${result.event.padEnd(16)} ${result.status} (${seconds})`;
  if (result.status === 'Skipped' && result.message) return `${head}: ${result.message}`;
  if (result.status === 'Failed' && result.message) return `${head}\n${result.message.split('\n').map((line) => `    ${line}`).join('\n')}`;
  return head;
}
