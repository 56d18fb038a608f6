/**
 * Runs the workshop's runnable blocks, so the modules cannot drift from the code.
 *
 * - Where: a throwaway copy (`git clone` of the checkout plus its uncommitted
 *   files, see copy.ts) in a temporary directory; never the checkout itself,
 *   because modules edit code. Modules run in order in the same copy, as a
 *   participant follows them in one clone.
 * - How: each marked block (see markers.ts) in its own `bash -euo pipefail`,
 *   working directory the copy's root, in its own process group; a clean
 *   environment (PATH without the checkout's node_modules/.bin, HOME, locale,
 *   registry settings) plus CI-friendly npm settings.
 * - Checks: the exit code (0, or the marker's expect-exit) within the block's
 *   timeout; a background block's ready URL answering 200 within its timeout;
 *   each `<!-- output -->` block against the real output: for a run block when
 *   it ends, for a background block when it is stopped. The output rule (match.ts):
 *   every non-blank documented line matches one whole real line, in order;
 *   real lines may be skipped in between; `…` matches any text within a line.
 *   A stop marker is a Ctrl-C in the module: SIGINT to the block's group.
 * - Always cleans up, pass or fail: background groups (SIGINT, as Ctrl-C, then
 *   SIGTERM, SIGKILL), the teardown commands (e.g. stopping the rehearsal),
 *   any process still running inside the temporary directory, and the
 *   directory itself unless `keep`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { makeCopy } from './copy';
import { matchOutput } from './match';
import { documentedNames, EXAMPLE_CONFIG, mapNames, repositoryNames, useExampleDeployConfig } from './names';
import { parseSteps, type BackgroundStep, type ExpectedOutput, type RunStep, type Step } from './markers';
import { endProcesses, processesInside, signalGroup, startShell, stopGroup, tailOf, type ShellProcess } from './processes';

export interface WorkshopModule {
  /** Path relative to the repo root, e.g. docs/workshop/01-tour.md. */
  readonly file: string;
  readonly steps: readonly Step[];
}

/** A command run after the last module (pass or fail) when `ifExists` exists in the copy. */
export interface Teardown {
  readonly ifExists: string;
  readonly command: string;
  readonly timeoutSeconds: number;
}

export interface RunWorkshopOptions {
  /** The checkout to copy (its root). */
  readonly sourceRoot: string;
  /** Module files relative to sourceRoot, run in this order. */
  readonly files: readonly string[];
  /** The environment the run was started with; only an allow-listed part reaches the blocks. */
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  /** Ports that must be free before anything starts (ready URLs' ports are added). */
  readonly ports?: readonly number[];
  readonly teardown?: readonly Teardown[];
  /** Keep the temporary directory (the copy and every block's log) for debugging. */
  readonly keep?: boolean;
  /** Copy only what is committed (HEAD), not the checkout's uncommitted and untracked files. @default false */
  readonly committedOnly?: boolean;
  /** Run in this existing copy (e.g. one kept earlier) instead of a fresh clone; it is never deleted. */
  readonly existingCopy?: string;
  /** Progress lines: module and block headers, elapsed times (stderr in the CLI). */
  readonly progress: (line: string) => void;
  /** When set, receives each block's full output (the CLI's --capture). */
  readonly capture?: (text: string) => void;
  /** Aborts the run (the CLI's Ctrl-C): the current block is stopped and everything cleaned up. */
  readonly signal?: AbortSignal;
  /** How long a stopped background group gets per signal. @default 15000 */
  readonly stopGraceMs?: number;
}

export interface WorkshopReport {
  readonly modules: readonly { readonly file: string; readonly blocks: number; readonly seconds: number }[];
  readonly seconds: number;
  /** The temporary directory, when kept. */
  readonly keptDir?: string;
}

/** A block failed; the message names the module, the block, the command and the end of its output. */
export class WorkshopError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkshopError';
  }
}

/** Variables passed through from the parent environment, as a newcomer's shell would have them. */
const PASSED_THROUGH = ['HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'TERM',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
/**
 * npm settings passed through: where the registry is and how to reach it. Not
 * the ones `npm run` sets for its own script (npm_config_local_prefix would
 * point npm in the copy at the checkout).
 */
const NPM_PASSED_THROUGH = /^npm_config_(registry|@[^:]+:registry|cache|userconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|offline|prefer_online|fetch_.*)$/i;

/**
 * The copy's Turborepo cache. Not the caller's TURBO_CACHE_DIR (CI sets it):
 * module 1 documents what a newcomer's fresh clone prints on the first
 * `npm start` (`cache miss, executing`). The caller's cache reaches the
 * rehearsal's builds only, as REHEARSAL_TURBO_CACHE_DIR: they replay what CI
 * has just run on the same files, and CI's cold build is the fork check's (a
 * renamed fork misses every entry). This is the one place that decides it.
 */
function copyTurboCache(parentEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const callersCache = parentEnv['TURBO_CACHE_DIR'];
  return callersCache === undefined || callersCache === '' ? {} : { REHEARSAL_TURBO_CACHE_DIR: callersCache };
}

/** The environment every block runs with. */
export function blockEnv(parentEnv: Readonly<Record<string, string | undefined>>, sourceRoot: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASSED_THROUGH) {
    const value = parentEnv[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value !== undefined && NPM_PASSED_THROUGH.test(key)) env[key] = value;
  }
  // The checkout's node_modules/.bin (npm run puts it first) must not shadow the copy's.
  const inCheckout = (dir: string) => dir === sourceRoot || dir.startsWith(`${sourceRoot}/`);
  env['PATH'] = (parentEnv['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((dir) => dir !== '' && !inCheckout(dir)).join(':');
  return {
    ...env,
    ...copyTurboCache(parentEnv),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_progress: 'false',
    ...(env['npm_config_prefer_online'] === undefined && env['npm_config_offline'] === undefined ? { npm_config_prefer_offline: 'true' } : {}),
    NO_COLOR: '1',
    TURBO_TELEMETRY_DISABLED: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
  };
}

/** Reads and parses every module before anything runs, so a marker typo fails in a second, not after minutes. */
export function loadModules(sourceRoot: string, files: readonly string[]): WorkshopModule[] {
  // Written for the upstream names; read with this repository's (a fork's, after `npm run rename`).
  const documented = documentedNames(sourceRoot);
  const own = documented ? repositoryNames(sourceRoot) : undefined;
  const read = (file: string) => readFileSync(path.join(sourceRoot, file), 'utf8');
  return files.map((file) => ({ file, steps: parseSteps(documented && own ? mapNames(read(file), documented, own) : read(file), file) }));
}

function portOf(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
}

// Node has no "is this port free" call: binding it and closing at once is the way to ask.
function portFree(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    // No host: the unspecified address, which collides with any listener on the port.
    server.listen(port, () => server.close(() => resolve(undefined)));
  });
}

/** Fails naming the port when something already listens on one the workshop needs. */
export async function assertPortsFree(ports: Iterable<number>): Promise<void> {
  const busy: string[] = [];
  for (const port of [...new Set(ports)].sort((a, b) => a - b)) {
    const error = await portFree(port);
    if (error) busy.push(`port ${port} (${error.code ?? error.message})`);
  }
  if (busy.length > 0) {
    throw new WorkshopError(
      `the workshop needs ${busy.join(', ')}, but something is already listening there. ` +
        'Stop it first (a service from `npm start`, or a rehearsal: `npm run rehearse -- --stop` in that checkout), then run again.',
    );
  }
}

export const duration = (ms: number): string => {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
};

const firstLine = (command: string) => {
  const lines = command.trim().split('\n');
  return lines.length > 1 ? `${lines[0] ?? ''} …` : (lines[0] ?? '');
};

interface RunningBackground {
  readonly step: BackgroundStep;
  readonly number: number;
  readonly shell: ShellProcess;
}

interface BlockContext {
  readonly module: WorkshopModule;
  readonly number: number;
  readonly step: Step;
}

/** Runs the modules' runnable blocks in a throwaway copy; throws WorkshopError on the first failure. */
export async function runWorkshop(options: RunWorkshopOptions): Promise<WorkshopReport> {
  const started = Date.now();
  const modules = loadModules(options.sourceRoot, options.files);
  const readyPorts = modules.flatMap((m) => m.steps.flatMap((s) => (s.kind === 'background' && s.ready ? [portOf(s.ready)] : [])));
  await assertPortsFree([...(options.ports ?? []), ...readyPorts]);
  if (options.existingCopy) assertNotTheCheckout(options.existingCopy, options.sourceRoot);
  return new WorkshopRun(options, modules, started).run();
}

function assertNotTheCheckout(existingCopy: string, sourceRoot: string): void {
  const copy = path.resolve(existingCopy);
  const source = path.resolve(sourceRoot);
  if (copy === source || copy.startsWith(`${source}/`) || source.startsWith(`${copy}/`)) {
    throw new WorkshopError(`${copy} is the checkout (or holds it): the workshop edits code, so it only runs in a copy (one kept with --keep)`);
  }
}

/** How often a block that runs long says it still runs. */
const HEARTBEAT_MS = 60_000;
/** How often a running block and a ready URL are polled. */
const POLL_MS = 250;
/** Output lines shown under a failed block. */
const FAILURE_TAIL_LINES = 25;

/** One workshop run's state (the copy, the blocks running in the background), so each step reads as a short method. */
class WorkshopRun {
  /** The temporary directory holding the copy and the logs; undefined when running in an existing copy. */
  private readonly tempDir: string | undefined;
  private readonly copyDir: string;
  private readonly logDir: string;
  private readonly env: Record<string, string>;
  private readonly running = new Map<string, RunningBackground>();
  private readonly report: { file: string; blocks: number; seconds: number }[] = [];
  /** The foreground block running now, which an abort stops. */
  private current: ShellProcess | undefined;
  private lastHeartbeat = 0;

  constructor(
    private readonly options: RunWorkshopOptions,
    private readonly modules: readonly WorkshopModule[],
    private readonly started: number,
  ) {
    this.tempDir = options.existingCopy ? undefined : mkdtempSync(path.join(os.tmpdir(), 'workshop-'));
    this.copyDir = options.existingCopy ? path.resolve(options.existingCopy) : path.join(this.tempDir ?? '', 'repo');
    this.logDir = this.tempDir ? path.join(this.tempDir, 'logs') : mkdtempSync(path.join(os.tmpdir(), 'workshop-logs-'));
    mkdirSync(this.logDir, { recursive: true });
    this.env = blockEnv(options.parentEnv, options.sourceRoot);
  }

  async run(): Promise<WorkshopReport> {
    const onAbort = () => {
      if (this.current) signalGroup(this.current.pid, 'SIGTERM');
    };
    this.options.signal?.addEventListener('abort', onAbort);
    try {
      this.prepareCopy();
      for (const module of this.modules) await this.runModule(module);
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      await this.cleanUp();
    }
    const kept = this.options.keep && this.tempDir ? { keptDir: this.tempDir } : {};
    return { modules: this.report, seconds: (Date.now() - this.started) / 1000, ...kept };
  }

  // --- the copy and the modules ----------------------------------------

  private prepareCopy(): void {
    if (this.options.existingCopy) {
      this.say(`copy: ${this.copyDir} (existing, kept as it is)`);
      return;
    }
    const copy = makeCopy(this.options.sourceRoot, this.copyDir, { overlay: !this.options.committedOnly });
    this.say(`copy: ${this.copyDir} (clone at ${copy.commit.slice(0, 12)}, ${copy.overlaid} uncommitted file(s) overlaid, ${copy.deleted} deleted)`);
    const config = useExampleDeployConfig(this.copyDir);
    if (config === 'replaced') {
      this.say(`copy: infra/config/deploy-config.ts is the frozen example (${EXAMPLE_CONFIG}): the modules document its output`);
    } else if (config === 'same-values') {
      this.say(`copy: infra/config/deploy-config.ts holds the frozen example's values (${EXAMPLE_CONFIG}), kept as it is`);
    }
  }

  private async runModule(module: WorkshopModule): Promise<void> {
    const moduleStarted = Date.now();
    this.say(`${module.file}: ${module.steps.length} runnable block(s)`);
    for (const [index, step] of module.steps.entries()) {
      this.throwIfAborted();
      await this.runBlock({ module, number: index + 1, step });
    }
    // A module ends with nothing of its own left running.
    for (const bg of [...this.running.values()]) {
      this.say(`  end of module: stopping background "${bg.step.name}"`);
      await this.stopBackground(module, bg);
    }
    const seconds = (Date.now() - moduleStarted) / 1000;
    this.report.push({ file: module.file, blocks: module.steps.length, seconds });
    this.say(`${module.file}: passed in ${duration(seconds * 1000)} (total ${duration(Date.now() - this.started)})`);
  }

  // --- one block -------------------------------------------------------

  private async runBlock(ctx: BlockContext): Promise<void> {
    const { step } = ctx;
    const label = `block ${ctx.number}/${ctx.module.steps.length} (line ${step.line})`;
    if (step.kind === 'stop') {
      const names = step.names.length > 0 ? step.names : [...this.running.keys()];
      this.say(`  ${label}: stop ${names.join(', ') || '(nothing running)'}`);
      await this.stopBlock(ctx, step.output, names);
      return;
    }
    this.say(`  ${label}: ${firstLine(step.command)}${step.kind === 'background' ? `  (background "${step.name}")` : ''}`);
    if (step.kind === 'background' && this.running.has(step.name)) {
      this.fail(ctx, `a background block named "${step.name}" is already running`, undefined);
    }
    const logFile = path.join(this.logDir, `${path.basename(ctx.module.file, '.md')}-${String(ctx.number).padStart(2, '0')}.log`);
    const blockStarted = Date.now();
    const shell = startShell({ command: step.command, cwd: this.copyDir, env: this.env, logFile });
    if (shell.pid <= 0) this.fail(ctx, 'bash could not be started', logFile);
    if (step.kind === 'background') await this.startBackground(ctx, step, shell, blockStarted);
    else await this.runForeground(ctx, step, shell, blockStarted);
  }

  /** A stop marker: Ctrl-C to each named background block, then its output checked. */
  private async stopBlock(ctx: BlockContext, output: ExpectedOutput | undefined, names: readonly string[]): Promise<void> {
    for (const name of names) {
      const bg = this.running.get(name);
      if (!bg) this.fail(ctx, `no background block named "${name}" is running`, undefined);
      await this.stopBackground(ctx.module, bg);
      this.checkOutput(ctx, output, bg.shell.logFile);
    }
  }

  /** Starts a background block and, when it has a ready URL, waits until the URL answers 200. */
  private async startBackground(ctx: BlockContext, step: BackgroundStep, shell: ShellProcess, blockStarted: number): Promise<void> {
    const bg = { step, number: ctx.number, shell };
    this.running.set(step.name, bg);
    if (!step.ready) {
      this.say(`    started (pid ${shell.pid})`);
      return;
    }
    const deadline = blockStarted + step.timeoutSeconds * 1000;
    this.lastHeartbeat = blockStarted;
    for (;;) {
      this.throwIfAborted();
      if (shell.exitCode !== undefined) {
        this.running.delete(step.name);
        this.fail(ctx, `it exited with code ${shell.exitCode} before ${step.ready} answered 200`, shell.logFile);
      }
      if (Date.now() >= deadline) {
        await this.stopBackground(ctx.module, bg).catch(() => undefined);
        this.fail(ctx, `${step.ready} did not answer 200 within ${step.timeoutSeconds} s (raise it with timeout=)`, shell.logFile);
      }
      if (await answers200(step.ready)) break;
      this.heartbeat(blockStarted);
      await sleep(POLL_MS);
    }
    this.say(`    ready in ${duration(Date.now() - blockStarted)}: ${step.ready} answers 200 (pid ${shell.pid})`);
  }

  /** Waits for a run block to exit (or its timeout), then checks its exit code and output. */
  private async runForeground(ctx: BlockContext, step: RunStep, shell: ShellProcess, blockStarted: number): Promise<void> {
    const deadline = blockStarted + step.timeoutSeconds * 1000;
    this.lastHeartbeat = blockStarted;
    this.current = shell;
    let timedOut = false;
    while (shell.exitCode === undefined) {
      if (this.options.signal?.aborted) break;
      if (Date.now() >= deadline) {
        timedOut = true;
        break;
      }
      this.heartbeat(blockStarted);
      await Promise.race([shell.exited, sleep(POLL_MS)]);
    }
    if (shell.exitCode === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
    const code = await shell.exited;
    this.current = undefined;
    // Anything the block left in its group (it was not asked to run in the background) is ended.
    signalGroup(shell.pid, 'SIGTERM');
    this.throwIfAborted();
    this.printCapture(ctx, shell.logFile, timedOut ? 'timed out' : `exit ${code}`);
    if (timedOut) this.fail(ctx, `it did not finish within ${step.timeoutSeconds} s (raise it with timeout=)`, shell.logFile);
    if (code !== step.expectExit) this.fail(ctx, `it exited with code ${code}, expected ${step.expectExit}`, shell.logFile);
    this.checkOutput(ctx, step.output, shell.logFile);
    this.say(`    ok in ${duration(Date.now() - blockStarted)}`);
  }

  private async stopBackground(module: WorkshopModule, bg: RunningBackground): Promise<void> {
    this.running.delete(bg.step.name);
    await stopGroup(bg.shell.pid, { graceMs: this.stopGraceMs });
    const ctx = { module, number: bg.number, step: bg.step };
    this.printCapture(ctx, bg.shell.logFile, `background "${bg.step.name}", stopped`);
    this.checkOutput(ctx, bg.step.output, bg.shell.logFile);
  }

  // --- checks and reports ----------------------------------------------

  private checkOutput(ctx: BlockContext, output: ExpectedOutput | undefined, logFile: string): void {
    if (!output) return;
    const result = matchOutput(output.lines, readFileSync(logFile, 'utf8'));
    if (!result.ok) {
      this.fail(ctx, `its output does not match the "what you should see" block at line ${output.line}`, logFile, [
        `documented line ${result.index + 1} not found (in order, after the lines matched before it):`,
        `  ${result.missing}`,
      ]);
    }
  }

  private fail(ctx: BlockContext, problem: string, logFile: string | undefined, extra: readonly string[] = []): never {
    const command = ctx.step.kind === 'stop' ? `(stop ${ctx.step.names.join(' ') || 'every background block'}: Ctrl-C)` : ctx.step.command.trim();
    const tail = logFile ? tailOf(logFile, FAILURE_TAIL_LINES) : [];
    const where = this.options.keep ? ` (${logFile})` : '';
    throw new WorkshopError(
      [
        `${ctx.module.file}, block ${ctx.number} of ${ctx.module.steps.length} (line ${ctx.step.line}): ${problem}`,
        'command:',
        ...command.split('\n').map((line) => `  $ ${line}`),
        ...extra,
        ...(tail.length > 0 ? [`last ${tail.length} lines of its output${where}:`, ...tail.map((line) => `  | ${line}`)] : []),
      ].join('\n'),
    );
  }

  private printCapture(ctx: BlockContext, logFile: string, status: string): void {
    if (!this.options.capture || ctx.step.kind === 'stop') return;
    this.options.capture(`\n──── ${ctx.module.file}, block ${ctx.number}, line ${ctx.step.line} (${status})\n`);
    this.options.capture(ctx.step.command.split('\n').filter(Boolean).map((line) => `$ ${line}`).join('\n') + '\n');
    const text = readFileSync(logFile, 'utf8');
    this.options.capture(text === '' || text.endsWith('\n') ? text : `${text}\n`);
  }

  private heartbeat(blockStarted: number): void {
    if (Date.now() - this.lastHeartbeat < HEARTBEAT_MS) return;
    this.lastHeartbeat = Date.now();
    this.say(`    … still running (${duration(Date.now() - blockStarted)})`);
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new WorkshopError('interrupted: stopping what the workshop started');
  }

  private say(line: string): void {
    this.options.progress(`[workshop] ${line}`);
  }

  private get stopGraceMs(): number {
    return this.options.stopGraceMs ?? 15_000;
  }

  // --- cleanup ---------------------------------------------------------

  /** Never throws: a failing cleanup step is reported and the next one still runs. */
  private async cleanUp(): Promise<void> {
    for (const bg of [...this.running.values()]) {
      this.running.delete(bg.step.name);
      await this.attempt(`stopping "${bg.step.name}"`, () => stopGroup(bg.shell.pid, { graceMs: this.stopGraceMs }));
    }
    for (const teardown of this.options.teardown ?? []) {
      if (!existsSync(path.join(this.copyDir, teardown.ifExists))) continue;
      this.say(`cleanup: ${teardown.command}`);
      await this.attempt(teardown.command, () => this.runTeardown(teardown));
    }
    // Whatever still runs inside the copy was started by this run (or by a test of the copy's own build).
    const ownDir = this.tempDir ?? this.copyDir;
    await this.attempt('ending leftover processes', () => this.endLeftovers(ownDir));
    const removable = this.tempDir ?? this.logDir;
    if (this.options.keep) this.say(`kept: ${removable}${this.tempDir ? ' (the copy in repo/, each block\'s output in logs/)' : ' (each block\'s output)'}`);
    else await this.attempt(`removing ${removable}`, () => rmSync(removable, { recursive: true, force: true, maxRetries: 3 }));
  }

  private async runTeardown(teardown: Teardown): Promise<void> {
    const logFile = path.join(this.logDir, 'teardown.log');
    const shell = startShell({ command: teardown.command, cwd: this.copyDir, env: this.env, logFile });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), teardown.timeoutSeconds * 1000)));
    const code = await Promise.race([shell.exited, timeout]);
    clearTimeout(timer);
    if (code === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
    if (code !== 0) this.say(`cleanup: "${teardown.command}" ${code === undefined ? 'timed out' : `exited with code ${code}`}: see ${logFile}`);
  }

  private async endLeftovers(ownDir: string): Promise<void> {
    const left = processesInside(ownDir);
    if (left.length === 0) return;
    this.say(`cleanup: ending ${left.length} process(es) still running in ${ownDir}: ${left.map((p) => `${p.pid} (${p.command.slice(0, 80)})`).join('; ')}`);
    await endProcesses(left.map((p) => p.pid));
  }

  private async attempt(what: string, action: () => Promise<void> | void): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.say(`cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
