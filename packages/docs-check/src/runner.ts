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

import { makeCopy } from './copy';
import { matchOutput } from './match';
import { documentedNames, EXAMPLE_CONFIG, mapNames, repositoryNames, useExampleDeployConfig } from './names';
import { parseSteps, type BackgroundStep, type ExpectedOutput, type Step } from './markers';
import { endProcesses, processesInside, signalGroup, sleep, startShell, stopGroup, tailOf, type ShellProcess } from './processes';

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
// Not TURBO_CACHE_DIR itself, although CI sets it: module 1 documents what a
// newcomer's fresh clone prints on the first `npm start` (`cache miss,
// executing`). The caller's cache reaches the rehearsal's builds only, as
// REHEARSAL_TURBO_CACHE_DIR (see blockEnv): they replay what CI has just run
// on the same files, and CI's cold build is the fork check's (a renamed fork
// misses every entry).
/**
 * npm settings passed through: where the registry is and how to reach it. Not
 * the ones `npm run` sets for its own script (npm_config_local_prefix would
 * point npm in the copy at the checkout).
 */
const NPM_PASSED_THROUGH = /^npm_config_(registry|@[^:]+:registry|cache|userconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|offline|prefer_online|fetch_.*)$/i;

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
  const callersTurboCache = parentEnv['TURBO_CACHE_DIR'];
  if (callersTurboCache !== undefined && callersTurboCache !== '') env['REHEARSAL_TURBO_CACHE_DIR'] = callersTurboCache;
  // The checkout's node_modules/.bin (npm run puts it first) must not shadow the copy's.
  const inCheckout = (dir: string) => dir === sourceRoot || dir.startsWith(`${sourceRoot}/`);
  env['PATH'] = (parentEnv['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((dir) => dir !== '' && !inCheckout(dir)).join(':');
  return {
    ...env,
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

  if (options.existingCopy) {
    const copy = path.resolve(options.existingCopy);
    const source = path.resolve(options.sourceRoot);
    if (copy === source || copy.startsWith(`${source}/`) || source.startsWith(`${copy}/`)) {
      throw new WorkshopError(`${copy} is the checkout (or holds it): the workshop edits code, so it only runs in a copy (one kept with --keep)`);
    }
  }
  const tempDir = options.existingCopy ? undefined : mkdtempSync(path.join(os.tmpdir(), 'workshop-'));
  const copyDir = options.existingCopy ? path.resolve(options.existingCopy) : path.join(tempDir ?? '', 'repo');
  const logDir = tempDir ? path.join(tempDir, 'logs') : mkdtempSync(path.join(os.tmpdir(), 'workshop-logs-'));
  mkdirSync(logDir, { recursive: true });
  const env = blockEnv(options.parentEnv, options.sourceRoot);
  const say = (line: string) => options.progress(`[workshop] ${line}`);
  const running = new Map<string, RunningBackground>();
  const report: { file: string; blocks: number; seconds: number }[] = [];
  let current: ShellProcess | undefined;

  const aborted = () => {
    if (options.signal?.aborted) throw new WorkshopError('interrupted: stopping what the workshop started');
  };
  const onAbort = () => {
    if (current) signalGroup(current.pid, 'SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort);

  const fail = (ctx: BlockContext, problem: string, logFile: string | undefined, extra: readonly string[] = []): never => {
    const command = ctx.step.kind === 'stop' ? `(stop ${ctx.step.names.join(' ') || 'every background block'}: Ctrl-C)` : ctx.step.command.trim();
    const tail = logFile ? tailOf(logFile, 25) : [];
    throw new WorkshopError(
      [
        `${ctx.module.file}, block ${ctx.number} of ${ctx.module.steps.length} (line ${ctx.step.line}): ${problem}`,
        'command:',
        ...command.split('\n').map((line) => `  $ ${line}`),
        ...extra,
        ...(tail.length > 0 ? [`last ${tail.length} lines of its output${options.keep ? ` (${logFile})` : ''}:`, ...tail.map((line) => `  | ${line}`)] : []),
      ].join('\n'),
    );
  };

  const checkOutput = (ctx: BlockContext, output: ExpectedOutput | undefined, logFile: string) => {
    if (!output) return;
    const result = matchOutput(output.lines, readFileSync(logFile, 'utf8'));
    if (!result.ok) {
      fail(ctx, `its output does not match the "what you should see" block at line ${output.line}`, logFile, [
        `documented line ${result.index + 1} not found (in order, after the lines matched before it):`,
        `  ${result.missing}`,
      ]);
    }
  };

  const printCapture = (ctx: BlockContext, logFile: string, status: string) => {
    if (!options.capture || ctx.step.kind === 'stop') return;
    options.capture(`\n──── ${ctx.module.file}, block ${ctx.number}, line ${ctx.step.line} (${status})\n`);
    options.capture(ctx.step.command.split('\n').filter(Boolean).map((line) => `$ ${line}`).join('\n') + '\n');
    const text = readFileSync(logFile, 'utf8');
    options.capture(text === '' || text.endsWith('\n') ? text : `${text}\n`);
  };

  const stopBackground = async (module: WorkshopModule, bg: RunningBackground) => {
    running.delete(bg.step.name);
    await stopGroup(bg.shell.pid, { graceMs: options.stopGraceMs ?? 15_000 });
    const ctx = { module, number: bg.number, step: bg.step };
    printCapture(ctx, bg.shell.logFile, `background "${bg.step.name}", stopped`);
    checkOutput(ctx, bg.step.output, bg.shell.logFile);
  };

  const runBlock = async (ctx: BlockContext, index: number) => {
    const { step, module } = ctx;
    const logFile = path.join(logDir, `${path.basename(module.file, '.md')}-${String(index + 1).padStart(2, '0')}.log`);
    const blockStarted = Date.now();
    const label = `block ${ctx.number}/${module.steps.length} (line ${step.line})`;

    if (step.kind === 'stop') {
      const names = step.names.length > 0 ? step.names : [...running.keys()];
      say(`  ${label}: stop ${names.join(', ') || '(nothing running)'}`);
      for (const name of names) {
        const bg = running.get(name);
        if (!bg) fail(ctx, `no background block named "${name}" is running`, undefined);
        else {
          await stopBackground(module, bg);
          checkOutput(ctx, step.output, bg.shell.logFile);
        }
      }
      return;
    }

    say(`  ${label}: ${firstLine(step.command)}${step.kind === 'background' ? `  (background "${step.name}")` : ''}`);
    if (step.kind === 'background' && running.has(step.name)) fail(ctx, `a background block named "${step.name}" is already running`, undefined);
    const shell = startShell({ command: step.command, cwd: copyDir, env, logFile });
    if (shell.pid <= 0) fail(ctx, 'bash could not be started', logFile);
    const deadline = blockStarted + step.timeoutSeconds * 1000;
    let heartbeat = blockStarted;
    const beat = () => {
      if (Date.now() - heartbeat >= 60_000) {
        heartbeat = Date.now();
        say(`    … still running (${duration(Date.now() - blockStarted)})`);
      }
    };

    if (step.kind === 'background') {
      const bg = { step, number: ctx.number, shell };
      running.set(step.name, bg);
      if (!step.ready) {
        say(`    started (pid ${shell.pid})`);
        return;
      }
      for (;;) {
        aborted();
        if (shell.exitCode !== undefined) {
          running.delete(step.name);
          fail(ctx, `it exited with code ${shell.exitCode} before ${step.ready} answered 200`, logFile);
        }
        if (Date.now() >= deadline) {
          await stopBackground(module, bg).catch(() => undefined);
          fail(ctx, `${step.ready} did not answer 200 within ${step.timeoutSeconds} s (raise it with timeout=)`, logFile);
        }
        if (await answers200(step.ready)) break;
        beat();
        await sleep(250);
      }
      say(`    ready in ${duration(Date.now() - blockStarted)}: ${step.ready} answers 200 (pid ${shell.pid})`);
      return;
    }

    current = shell;
    let timedOut = false;
    while (shell.exitCode === undefined) {
      if (options.signal?.aborted) break;
      if (Date.now() >= deadline) {
        timedOut = true;
        break;
      }
      beat();
      await Promise.race([shell.exited, sleep(250)]);
    }
    if (shell.exitCode === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
    const code = await shell.exited;
    current = undefined;
    // Anything the block left in its group (it was not asked to run in the background) is ended.
    signalGroup(shell.pid, 'SIGTERM');
    aborted();
    printCapture(ctx, logFile, timedOut ? 'timed out' : `exit ${code}`);
    if (timedOut) fail(ctx, `it did not finish within ${step.timeoutSeconds} s (raise it with timeout=)`, logFile);
    if (code !== step.expectExit) fail(ctx, `it exited with code ${code}, expected ${step.expectExit}`, logFile);
    checkOutput(ctx, step.output, logFile);
    say(`    ok in ${duration(Date.now() - blockStarted)}`);
  };

  try {
    if (!options.existingCopy) {
      const copy = makeCopy(options.sourceRoot, copyDir, { overlay: !options.committedOnly });
      say(`copy: ${copyDir} (clone at ${copy.commit.slice(0, 12)}, ${copy.overlaid} uncommitted file(s) overlaid, ${copy.deleted} deleted)`);
      if (useExampleDeployConfig(copyDir)) say(`copy: infra/config/deploy-config.ts is the frozen example (${EXAMPLE_CONFIG}): the modules document its output`);
    } else {
      say(`copy: ${copyDir} (existing, kept as it is)`);
    }
    for (const module of modules) {
      const moduleStarted = Date.now();
      say(`${module.file}: ${module.steps.length} runnable block(s)`);
      for (const [index, step] of module.steps.entries()) {
        aborted();
        await runBlock({ module, number: index + 1, step }, index);
      }
      // A module ends with nothing of its own left running.
      for (const bg of [...running.values()]) {
        say(`  end of module: stopping background "${bg.step.name}"`);
        await stopBackground(module, bg);
      }
      const seconds = (Date.now() - moduleStarted) / 1000;
      report.push({ file: module.file, blocks: module.steps.length, seconds });
      say(`${module.file}: passed in ${duration(seconds * 1000)} (total ${duration(Date.now() - started)})`);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await cleanUp();
  }
  return { modules: report, seconds: (Date.now() - started) / 1000, ...(options.keep && tempDir ? { keptDir: tempDir } : {}) };

  /** Never throws: a failing cleanup step is reported and the next one still runs. */
  async function cleanUp(): Promise<void> {
    const attempt = async (what: string, action: () => Promise<void> | void) => {
      try {
        await action();
      } catch (error) {
        say(`cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    for (const bg of [...running.values()]) {
      running.delete(bg.step.name);
      await attempt(`stopping "${bg.step.name}"`, () => stopGroup(bg.shell.pid, { graceMs: options.stopGraceMs ?? 15_000 }));
    }
    for (const teardown of options.teardown ?? []) {
      if (!existsSync(path.join(copyDir, teardown.ifExists))) continue;
      say(`cleanup: ${teardown.command}`);
      await attempt(teardown.command, async () => {
        const logFile = path.join(logDir, 'teardown.log');
        const shell = startShell({ command: teardown.command, cwd: copyDir, env, logFile });
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([shell.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), teardown.timeoutSeconds * 1000)))]);
        clearTimeout(timer);
        if (code === undefined) await stopGroup(shell.pid, { first: 'SIGTERM', graceMs: 5_000 });
        if (code !== 0) say(`cleanup: "${teardown.command}" ${code === undefined ? 'timed out' : `exited with code ${code}`}: see ${logFile}`);
      });
    }
    // Whatever still runs inside the copy was started by this run (or by a test of the copy's own build).
    const ownDir = tempDir ?? copyDir;
    await attempt('ending leftover processes', async () => {
      const left = processesInside(ownDir);
      if (left.length === 0) return;
      say(`cleanup: ending ${left.length} process(es) still running in ${ownDir}: ${left.map((p) => `${p.pid} (${p.command.slice(0, 80)})`).join('; ')}`);
      await endProcesses(left.map((p) => p.pid));
    });
    const removable = tempDir ?? logDir;
    if (options.keep) say(`kept: ${removable}${tempDir ? ' (the copy in repo/, each block\'s output in logs/)' : ' (each block\'s output)'}`);
    else await attempt(`removing ${removable}`, () => rmSync(removable, { recursive: true, force: true, maxRetries: 3 }));
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
