/**
 * Runs the workshop's marked blocks (markers.ts) in a throwaway copy of the
 * repository (copy.ts), checks their exit codes and documented outputs
 * (match.ts), and always cleans up. README.md states the rules.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { endLeftovers } from '@conveyor/tooling-support';

import { makeCopy } from './copy';
import { matchOutput } from './match';
import { documentedNames, EXAMPLE_CONFIG, mapNames, repositoryNames, useExampleDeployConfig } from './names';
import { parseSteps, type BackgroundStep, type ExpectedOutput, type RunStep, type Step, type StopStep } from './markers';
import { signalGroup, startShell, stopGroup, type ShellProcess } from './processes';

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
  override readonly name = 'WorkshopError';
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
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value !== undefined && (PASSED_THROUGH.includes(key) || NPM_PASSED_THROUGH.test(key))) env[key] = value;
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
  const own = documented && repositoryNames(sourceRoot);
  const read = (file: string) => readFileSync(path.join(sourceRoot, file), 'utf8');
  return files.map((file) => ({ file, steps: parseSteps(documented && own ? mapNames(read(file), documented, own) : read(file), file) }));
}

// Node has no "is this port free" call: binding it (on every address, so any
// listener collides) and closing at once is the way to ask.
function portInUse(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, () => server.close(() => resolve(undefined)));
  });
}

/** Fails naming the port when something already listens on one the workshop needs. */
async function assertPortsFree(ports: Iterable<number>): Promise<void> {
  const busy: string[] = [];
  for (const port of [...new Set(ports)].sort((a, b) => a - b)) {
    const error = await portInUse(port);
    if (error) busy.push(`port ${port} (${error})`);
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

/** One line for a step, in progress lines and `--list`: the command's first line, its background name and ready URL. */
export function describeStep(step: Step): string {
  if (step.kind === 'stop') return `stop ${step.names.join(', ') || '(every background block)'}`;
  const lines = step.command.trim().split('\n');
  const command = `${lines[0] ?? ''}${lines.length > 1 ? ' …' : ''}`;
  return step.kind === 'background' ? `${command}  (background "${step.name}"${step.ready ? `, ready ${step.ready}` : ''})` : command;
}

/** Runs the modules' runnable blocks in a throwaway copy; throws WorkshopError on the first failure. */
export async function runWorkshop(options: RunWorkshopOptions): Promise<WorkshopReport> {
  const started = Date.now();
  const modules = loadModules(options.sourceRoot, options.files);
  const readyPorts = modules.flatMap((m) => m.steps.flatMap((s) => (s.kind === 'background' && s.ready ? [portOf(s.ready)] : [])));
  await assertPortsFree([...(options.ports ?? []), ...readyPorts]);
  if (options.existingCopy) {
    const copy = path.resolve(options.existingCopy);
    const source = path.resolve(options.sourceRoot);
    if (copy === source || copy.startsWith(`${source}/`) || source.startsWith(`${copy}/`)) {
      throw new WorkshopError(`${copy} is the checkout (or holds it): the workshop edits code, so it only runs in a copy (one kept with --keep)`);
    }
  }
  return new WorkshopRun(options, modules, started).run();
}

function portOf(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
}

/** How often a block that runs long says it still runs. */
const HEARTBEAT_MS = 60_000;
/** How often a running block and a ready URL are polled. */
const POLL_MS = 250;
/** Output lines shown under a failed block. */
const FAILURE_TAIL_LINES = 25;

interface Block {
  readonly module: WorkshopModule;
  readonly number: number;
  readonly step: Step;
}

interface RunningBackground extends Block {
  readonly step: BackgroundStep;
  readonly shell: ShellProcess;
}

/** One workshop run's state (the copy, the blocks running in the background), so each step reads as a short method. */
class WorkshopRun {
  /** The temporary directory holding the copy and the logs; undefined when running in an existing copy. */
  private readonly tempDir: string | undefined;
  private readonly copyDir: string;
  private readonly logDir: string;
  private readonly env: Record<string, string>;
  private readonly running = new Map<string, RunningBackground>();
  private readonly report: { file: string; blocks: number; seconds: number }[] = [];

  constructor(
    private readonly options: RunWorkshopOptions,
    private readonly modules: readonly WorkshopModule[],
    private readonly started: number,
  ) {
    this.tempDir = options.existingCopy ? undefined : mkdtempSync(path.join(os.tmpdir(), 'workshop-'));
    this.copyDir = this.tempDir ? path.join(this.tempDir, 'repo') : path.resolve(options.existingCopy ?? '');
    this.logDir = this.tempDir ? path.join(this.tempDir, 'logs') : mkdtempSync(path.join(os.tmpdir(), 'workshop-logs-'));
    mkdirSync(this.logDir, { recursive: true });
    this.env = blockEnv(options.parentEnv, options.sourceRoot);
  }

  async run(): Promise<WorkshopReport> {
    try {
      this.prepareCopy();
      for (const module of this.modules) await this.runModule(module);
    } finally {
      await this.cleanUp();
    }
    const kept = this.options.keep && this.tempDir ? { keptDir: this.tempDir } : {};
    return { modules: this.report, seconds: (Date.now() - this.started) / 1000, ...kept };
  }

  private prepareCopy(): void {
    if (this.options.existingCopy) return this.say(`copy: ${this.copyDir} (existing, kept as it is)`);
    const copy = makeCopy(this.options.sourceRoot, this.copyDir, { overlay: !this.options.committedOnly });
    this.say(`copy: ${this.copyDir} (clone at ${copy.commit.slice(0, 12)}, ${copy.overlaid} uncommitted file(s) overlaid, ${copy.deleted} deleted)`);
    const config = useExampleDeployConfig(this.copyDir);
    if (config !== 'no-example') {
      const what = config === 'replaced' ? 'is the frozen example' : "holds the frozen example's values, kept as it is";
      this.say(`copy: infra/config/deploy-config.ts ${what} (${EXAMPLE_CONFIG}): the modules document its output`);
    }
  }

  private async runModule(module: WorkshopModule): Promise<void> {
    const moduleStarted = Date.now();
    this.say(`${module.file}: ${module.steps.length} runnable block(s)`);
    for (const [index, step] of module.steps.entries()) {
      this.throwIfAborted();
      const block = { module, number: index + 1, step };
      this.say(`  block ${block.number}/${module.steps.length} (line ${step.line}): ${describeStep(step)}`);
      if (step.kind === 'stop') await this.stopBlock(block, step);
      else if (step.kind === 'background') await this.startBackground(block, step);
      else await this.runForeground(block, step);
    }
    // A module ends with nothing of its own left running.
    for (const bg of this.running.values()) {
      this.say(`  end of module: stopping background "${bg.step.name}"`);
      await this.stopBackground(bg);
    }
    const seconds = (Date.now() - moduleStarted) / 1000;
    this.report.push({ file: module.file, blocks: module.steps.length, seconds });
    this.say(`${module.file}: passed in ${duration(seconds * 1000)} (total ${duration(Date.now() - this.started)})`);
  }

  private startShell(block: Block, command: string): ShellProcess {
    const log = path.join(this.logDir, `${path.basename(block.module.file, '.md')}-${String(block.number).padStart(2, '0')}.log`);
    return startShell(command, this.copyDir, this.env, log);
  }

  /** Polls until `done` (true) or the timeout (false); throws when aborted; says every minute that it still waits. */
  private async waitFor(shell: ShellProcess, timeoutSeconds: number, done: () => boolean | Promise<boolean>): Promise<boolean> {
    const started = Date.now();
    let heartbeat = started;
    while (!(await done())) {
      this.throwIfAborted();
      if (Date.now() >= started + timeoutSeconds * 1000) return false;
      if (Date.now() - heartbeat >= HEARTBEAT_MS) {
        heartbeat = Date.now();
        this.say(`    … still running (${duration(heartbeat - started)})`);
      }
      await Promise.race([shell.exited, sleep(POLL_MS)]);
    }
    return true;
  }

  /** A run block: it must exit with its expected code within its timeout; then its output is checked. */
  private async runForeground(block: Block, step: RunStep): Promise<void> {
    const started = Date.now();
    const shell = this.startShell(block, step.command);
    let finished: boolean;
    try {
      finished = await this.waitFor(shell, step.timeoutSeconds, () => shell.exitCode !== undefined);
    } finally {
      // Stopped on a timeout or Ctrl-C; what it left in its group (it was not asked to run in the background) is ended.
      if (shell.exitCode === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
      signalGroup(shell.pid, 'SIGTERM');
    }
    const code = await shell.exited;
    this.printCapture(block, step.command, shell.logFile, finished ? `exit ${code}` : 'timed out');
    if (!finished) this.fail(block, `it did not finish within ${step.timeoutSeconds} s (raise it with timeout=)`, shell.logFile);
    if (code !== step.expectExit) this.fail(block, `it exited with code ${code}, expected ${step.expectExit}`, shell.logFile);
    this.checkOutput(block, step.output, shell.logFile);
    this.say(`    ok in ${duration(Date.now() - started)}`);
  }

  /** A background block: started and, with a ready URL, waited for until the URL answers 200. It runs until a stop or cleanUp. */
  private async startBackground(block: Block, step: BackgroundStep): Promise<void> {
    if (this.running.has(step.name)) this.fail(block, `a background block named "${step.name}" is already running`);
    const started = Date.now();
    const shell = this.startShell(block, step.command);
    this.running.set(step.name, { ...block, step, shell });
    const url = step.ready;
    if (!url) return this.say(`    started (pid ${shell.pid})`);
    const ready = await this.waitFor(shell, step.timeoutSeconds, () => {
      if (shell.exitCode !== undefined) this.fail(block, `it exited with code ${shell.exitCode} before ${url} answered 200`, shell.logFile);
      return answers200(url);
    });
    if (!ready) this.fail(block, `${url} did not answer 200 within ${step.timeoutSeconds} s (raise it with timeout=)`, shell.logFile);
    this.say(`    ready in ${duration(Date.now() - started)}: ${url} answers 200 (pid ${shell.pid})`);
  }

  /** A stop marker: Ctrl-C to each named background block (none named: every one), then the stop's output checked. */
  private async stopBlock(block: Block, step: StopStep): Promise<void> {
    for (const name of step.names.length > 0 ? step.names : [...this.running.keys()]) {
      const bg = this.running.get(name);
      if (!bg) this.fail(block, `no background block named "${name}" is running`);
      await this.stopBackground(bg);
      this.checkOutput(block, step.output, bg.shell.logFile);
    }
  }

  private async stopBackground(bg: RunningBackground): Promise<void> {
    this.running.delete(bg.step.name);
    await stopGroup(bg.shell.pid, { graceMs: this.options.stopGraceMs });
    this.printCapture(bg, bg.step.command, bg.shell.logFile, `background "${bg.step.name}", stopped`);
    this.checkOutput(bg, bg.step.output, bg.shell.logFile);
  }

  private checkOutput(block: Block, output: ExpectedOutput | undefined, logFile: string): void {
    const result = output && matchOutput(output.lines, readFileSync(logFile, 'utf8'));
    if (result?.ok === false) {
      this.fail(block, `its output does not match the "what you should see" block at line ${output?.line}`, logFile, [
        `documented line ${result.index + 1} not found (in order, after the lines matched before it):`,
        `  ${result.missing}`,
      ]);
    }
  }

  private fail(block: Block, problem: string, logFile?: string, extra: readonly string[] = []): never {
    const { module, number, step } = block;
    const command = step.kind === 'stop' ? `(stop ${step.names.join(' ') || 'every background block'}: Ctrl-C)` : step.command.trim();
    const tail = logFile ? readFileSync(logFile, 'utf8').replace(/\n$/, '').split('\n').slice(-FAILURE_TAIL_LINES) : [];
    const where = this.options.keep ? ` (${logFile})` : '';
    throw new WorkshopError(
      [
        `${module.file}, block ${number} of ${module.steps.length} (line ${step.line}): ${problem}`,
        'command:',
        ...command.split('\n').map((line) => `  $ ${line}`),
        ...extra,
        ...(tail.length > 0 ? [`last ${tail.length} lines of its output${where}:`, ...tail.map((line) => `  | ${line}`)] : []),
      ].join('\n'),
    );
  }

  private printCapture(block: Block, command: string, logFile: string, status: string): void {
    if (!this.options.capture) return;
    const text = readFileSync(logFile, 'utf8');
    this.options.capture(
      `\n──── ${block.module.file}, block ${block.number}, line ${block.step.line} (${status})\n` +
        command.split('\n').filter(Boolean).map((line) => `$ ${line}\n`).join('') +
        (text === '' || text.endsWith('\n') ? text : `${text}\n`),
    );
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new WorkshopError('interrupted: stopping what the workshop started');
  }

  private say(line: string): void {
    this.options.progress(`[workshop] ${line}`);
  }

  /** Never throws: a failing cleanup step is reported and the next one still runs. */
  private async cleanUp(): Promise<void> {
    for (const bg of this.running.values()) {
      await this.attempt(`stopping "${bg.step.name}"`, () => stopGroup(bg.shell.pid, { graceMs: this.options.stopGraceMs }));
    }
    this.running.clear();
    for (const teardown of this.options.teardown ?? []) {
      if (!existsSync(path.join(this.copyDir, teardown.ifExists))) continue;
      this.say(`cleanup: ${teardown.command}`);
      await this.attempt(teardown.command, () => this.runTeardown(teardown));
    }
    // Whatever still runs inside the copy was started by this run (or by a test of the copy's own build).
    const ownDir = this.tempDir ?? this.copyDir;
    await this.attempt('ending leftover processes', () => {
      const ended = endLeftovers([ownDir]);
      if (ended.length > 0) this.say(`cleanup: ended ${ended.length} process(es) still running in ${ownDir}: pid ${ended.join(', ')}`);
    });
    const removable = this.tempDir ?? this.logDir;
    if (this.options.keep) this.say(`kept: ${removable}${this.tempDir ? " (the copy in repo/, each block's output in logs/)" : " (each block's output)"}`);
    else await this.attempt(`removing ${removable}`, () => rmSync(removable, { recursive: true, force: true, maxRetries: 3 }));
  }

  private async runTeardown(teardown: Teardown): Promise<void> {
    const shell = startShell(teardown.command, this.copyDir, this.env, path.join(this.logDir, 'teardown.log'));
    const code = await Promise.race([shell.exited, sleep(teardown.timeoutSeconds * 1000, undefined, { ref: false })]);
    if (code === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
    if (code !== 0) this.say(`cleanup: "${teardown.command}" ${code === undefined ? 'timed out' : `exited with code ${code}`}: see ${shell.logFile}`);
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
