// The CodeBuild emulator: runs a repo's real buildspec.yml against a clean copy
// of its working tree, with CodeBuild's variables and phase transitions, and
// collects the artifact, the reports and the cache as CodeBuild would upload them.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  keyLocator,
  keyName,
  parseBuildspec,
  PHASE_NAMES,
  type Buildspec,
  type BuildspecPhase,
  type CacheSpec,
  type FileSetSpec,
  type KeyPath,
  type OnFailure,
  type PhaseName,
} from './buildspec';
import { buildEnv, codeBuildVariables, PROJECT_NAME, regionFrom } from './env';
import { BuildspecError, type BuildspecProblem } from './errors';
import { segments } from './glob';
import { BuildLog } from './log';
import { CacheKeyError, CacheStore, cacheVersion, evaluateCacheKey } from './cache';
import { collectArtifacts, collectReports } from './outputs';
import { CommandWatch, renderTimings, taskTimings } from './progress';
import { BuildShell, findExecutable } from './shell';
import { commitCopy, copyWorkingTree, readSourceVersion, sourceLabel, type SourceVersion } from './source';

export interface BuildOptions {
  /** Repo root whose working tree is copied (committed + uncommitted files, not the git-ignored ones). */
  readonly sourceRoot: string;
  /** Work dir for this build (the rehearsal uses <repo>/.rehearsal/codebuild). Wiped and recreated per build, except the cache dir. */
  readonly workDir: string;
  /** Path of the buildspec relative to sourceRoot. @default 'buildspec.yml' */
  readonly buildspecPath?: string;
  /**
   * The environment of the process starting the build; the CLI passes
   * `process.env`. Only an allow-list of it reaches the build (see
   * PARENT_ENV_ALLOW_LIST), and AWS_REGION picks the region of the fake ARN.
   */
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  /**
   * Extra variables layered over the buildspec's env.variables, like values
   * given to start-build. A name listed under env.parameter-store is
   * satisfied by an override. Names are logged, values never.
   */
  readonly envOverrides?: Readonly<Record<string, string>>;
  /** The emulated S3 cache; outlives builds. @default <workDir>/../cache */
  readonly cacheDir?: string;
  /** Where progress lines go (phase start/end with duration, commands). @default process.stderr */
  readonly progress?: (line: string) => void;
  /** Also echo every line of command output to `progress`. Output always goes to <workDir>/build.log. @default false */
  readonly verbose?: boolean;
  /** The Node.js version install.runtime-versions.nodejs is checked against. @default process.versions.node */
  readonly nodeVersion?: string;
  /**
   * A terminal on which a status line (elapsed time, Turborepo tasks, the last
   * line of output) is redrawn in place while a command runs. Without one, a
   * plain heartbeat line is written to `progress` whenever nothing was said
   * for `heartbeatMs`, so logs and the workshop checker stay plain.
   * @default process.stderr when it is a terminal, else none
   */
  readonly statusLine?: StatusLineStream;
  /** Longest silence in `progress` while a command runs, without a status line. @default 30_000 */
  readonly heartbeatMs?: number;
}

/** The part of a terminal stream the status line needs. */
export interface StatusLineStream {
  readonly columns?: number;
  write(text: string): boolean;
}

/** The buildspec phases plus UPLOAD_ARTIFACTS, which CodeBuild reports as a phase too. */
export type BuildPhaseName = PhaseName | 'upload_artifacts';
export type PhaseStatus = 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

export interface PhaseResult {
  readonly name: BuildPhaseName;
  readonly status: PhaseStatus;
  readonly durationMs: number;
  /** The first command that failed in this phase (from `commands`, else from `finally`). */
  readonly failedCommand?: string;
  readonly exitCode?: number;
}

export interface BuildResult {
  readonly succeeded: boolean;
  readonly phases: readonly PhaseResult[];
  /** Directory holding the collected primary artifact, laid out as CodeBuild would upload it. */
  readonly artifactDir: string | undefined;
  /** Report files collected per report group name (absolute paths under <workDir>/reports). */
  readonly reports: Readonly<Record<string, readonly string[]>>;
  readonly logFile: string;
  readonly resolvedSourceVersion: string;
  readonly buildId: string;
  readonly buildNumber: number;
}

/** Kept when the work dir is wiped, so CODEBUILD_BUILD_NUMBER keeps counting. */
const BUILD_NUMBER_FILE = '.build-number';
/** Output lines shown under a failed command. */
const FAILURE_TAIL_LINES = 30;
const HEARTBEAT_MS = 30_000;
/** How often the status line is redrawn. */
const STATUS_REFRESH_MS = 1_000;

/**
 * Runs the buildspec in a fresh copy of the working tree.
 *
 * A failing command does not throw: it fails its phase and the result says so.
 *
 * @throws BuildspecError when the buildspec is invalid or needs what only AWS
 *   has (Parameter Store, a cache outside the source dir).
 * @throws Error when the source cannot be read (no git, no commit yet).
 */
export async function runBuildspec(options: BuildOptions): Promise<BuildResult> {
  const sourceRoot = path.resolve(options.sourceRoot);
  const workDir = path.resolve(options.workDir);
  const cacheDir = path.resolve(options.cacheDir ?? path.join(workDir, '..', 'cache'));
  assertWorkDirIsSafe(sourceRoot, workDir);

  const source = readSourceVersion(sourceRoot);
  const buildNumber = resetWorkDir(workDir, cacheDir);
  const log = new BuildLog(path.join(workDir, 'build.log'));
  try {
    const build = new Build({ ...options, sourceRoot, workDir, cacheDir, source, buildNumber, log });
    return await build.run();
  } finally {
    log.close();
  }
}

interface BuildContext extends BuildOptions {
  readonly cacheDir: string;
  readonly source: SourceVersion;
  readonly buildNumber: number;
  readonly log: BuildLog;
}

/** One build's state, so each step reads as a short method. */
class Build {
  private readonly srcDir: string;
  private readonly buildId = `${PROJECT_NAME}:${randomUUID()}`;
  private readonly startTimeMs = Date.now();
  private readonly progress: (line: string) => void;
  private readonly statusLine: StatusLineStream | undefined;
  private verboseBuffer = '';
  /** The command running now, as the progress view sees it. */
  private watch: CommandWatch | undefined;
  private statusShown = '';
  private lastPrintedAt = Date.now();
  /** `cache.key` as evaluated before install; the save uses the same key. */
  private cacheKey: string | undefined;

  constructor(private readonly ctx: BuildContext) {
    this.srcDir = path.join(ctx.workDir, 'src');
    this.progress = ctx.progress ?? ((line) => process.stderr.write(`${line}\n`));
    this.statusLine = 'statusLine' in ctx ? ctx.statusLine : process.stderr.isTTY ? process.stderr : undefined;
  }

  async run(): Promise<BuildResult> {
    const spec = this.downloadSource();
    const shell = this.startShell(spec);
    if (spec.cache !== undefined) this.restoreCache(spec.cache, shell);

    const phases: PhaseResult[] = [];
    let succeeding = true;
    let finalizing = false;
    for (const name of PHASE_NAMES) {
      if (finalizing) {
        phases.push(this.skipped(name));
        continue;
      }
      const result = await this.runPhase(shell, name, spec.phases[name], succeeding);
      phases.push(result);
      if (result.status === 'FAILED') {
        succeeding = false;
        finalizing = stopsBuild(name, spec.phases[name]?.onFailure);
      }
    }

    let artifactDir: string | undefined;
    let reports: Record<string, string[]> = {};
    if (finalizing) {
      phases.push(this.skipped('upload_artifacts'));
    } else {
      const upload = this.uploadArtifacts(spec);
      phases.push(upload.result);
      artifactDir = upload.artifactDir;
      reports = upload.reports;
    }

    const succeeded = phases.every((p) => p.status !== 'FAILED');
    const outcome = succeeded ? 'SUCCEEDED' : 'FAILED';
    this.print(`${outcome} in ${seconds(Date.now() - this.startTimeMs)} (build #${this.ctx.buildNumber}, log: ${this.ctx.log.file})`);
    this.ctx.log.line(`Build ${outcome}`);
    return {
      succeeded,
      phases,
      artifactDir,
      reports,
      logFile: this.ctx.log.file,
      resolvedSourceVersion: sourceLabel(this.ctx.source),
      buildId: this.buildId,
      buildNumber: this.ctx.buildNumber,
    };
  }

  // --- DOWNLOAD_SOURCE ---------------------------------------------------

  private downloadSource(): Buildspec {
    const { source, sourceRoot } = this.ctx;
    const buildspecPath = this.ctx.buildspecPath ?? 'buildspec.yml';
    this.print(`build #${this.ctx.buildNumber} (${this.buildId}) of ${buildspecPath}`);
    const copy = copyWorkingTree(sourceRoot, this.srcDir, { exclude: [this.ctx.workDir, this.ctx.cacheDir] });
    commitCopy(this.srcDir, source);
    this.print(
      `source: ${source.commit}${source.dirty ? ', dirty: true (uncommitted changes are built too)' : ''}; ` +
        `${plural(copy.files.length, 'file')} copied to ${this.srcDir}`,
    );
    for (const skipped of copy.skipped) this.print(`note: ${skipped} is not a file (a git submodule?) and was not copied`);
    this.ctx.log.line(`Source: ${sourceRoot} at ${source.commit}${source.dirty ? ' (dirty)' : ''}, ${plural(copy.files.length, 'file')}`);

    const file = path.join(this.srcDir, buildspecPath);
    if (!existsSync(file)) {
      throw new BuildspecError(buildspecPath, [
        { key: '(file)', problem: `not found in the copied working tree; is it committed, or at least not git-ignored?` },
      ]);
    }
    const text = readFileSync(file, 'utf8');
    const spec = parseBuildspec(text, { fileName: buildspecPath });
    const problems = localLimitations(spec, text, this.ctx.envOverrides ?? {}, this.srcDir);
    if (problems.length > 0) throw new BuildspecError(buildspecPath, problems);

    for (const { key, reason } of spec.notEmulated) this.print(`note: ${key} is not emulated locally: ${reason}`);
    if (spec.env.shell === '/bin/sh') this.print('note: env.shell /bin/sh: the rehearsal runs every command in bash');
    return spec;
  }

  private startShell(spec: Buildspec): BuildShell {
    const overrides = this.ctx.envOverrides ?? {};
    const names = Object.keys(overrides);
    if (names.length > 0) this.print(`local overrides: ${names.sort().join(', ')} (values not shown)`);

    const { env, reservedIgnored } = buildEnv({
      parentEnv: this.ctx.parentEnv,
      sourceRoot: this.ctx.sourceRoot,
      codeBuild: codeBuildVariables({
        srcDir: this.srcDir,
        buildId: this.buildId,
        buildNumber: this.ctx.buildNumber,
        region: regionFrom(this.ctx.parentEnv),
        commit: sourceLabel(this.ctx.source),
        startTimeMs: this.startTimeMs,
      }),
      // Parameter Store names only get here through an
      // override (localLimitations rejected the rest), which the next layer sets.
      buildspecVariables: spec.env.variables,
      overrides,
    });
    for (const name of reservedIgnored) {
      this.print(`warning: ${name} is not set: the CODEBUILD_ prefix is reserved for CodeBuild's own variables`);
    }
    const bash = findExecutable('bash', this.ctx.parentEnv['PATH']) ?? '/bin/bash';
    return new BuildShell({
      bash,
      env,
      cwd: this.srcDir,
      stateDir: this.ctx.workDir,
      tailLines: FAILURE_TAIL_LINES,
      onOutput: (text) => this.commandOutput(text),
    });
  }

  /** Evaluates the cache key, and restores the entry it (or a fallback key) finds, unless `action: save`. */
  private restoreCache(cache: CacheSpec, shell: BuildShell): void {
    const evaluate = (expression: string, key: KeyPath) => {
      try {
        return evaluateCacheKey(expression, this.srcDir, shell.currentEnv);
      } catch (error) {
        if (!(error instanceof CacheKeyError)) throw error;
        throw new BuildspecError(this.ctx.buildspecPath ?? 'buildspec.yml', [{ key: keyName(key), problem: error.message }]);
      }
    };
    this.cacheKey = cache.key === undefined ? undefined : evaluate(cache.key, ['cache', 'key']);
    if (!cache.restore) return;
    const fallbackKeys = cache.fallbackKeys.map((k, i) => evaluate(k, ['cache', 'fallback-keys', i]));
    const { entry, match } = new CacheStore(this.ctx.cacheDir).find(cacheVersion(cache), this.cacheKey, fallbackKeys);
    if (this.cacheKey !== undefined) {
      const how =
        match.kind === 'exact'
          ? 'found'
          : match.kind === 'fallback'
            ? `not found; fallback key ${match.fallbackKey} matched ${match.key}`
            : `not found${fallbackKeys.length > 0 ? ', nor any fallback key' : ''}`;
      this.print(`cache: key ${this.cacheKey} ${how}`);
    }
    // An entry found through a fallback key is superseded by the entry this
    // build saves under its own key: moving it in, not copying, saves the
    // copy of node_modules (see src/codebuild/README.md).
    const move = match.kind === 'fallback' && cache.save;
    const restored = entry === undefined ? 0 : new CacheStore(this.ctx.cacheDir).restore(entry, this.srcDir, { move });
    this.print(restored === 0 ? `cache: nothing to restore from ${this.ctx.cacheDir}` : `cache: restored ${plural(restored, 'file')}`);
    this.ctx.log.line(`Restored ${restored} cached files from ${this.ctx.cacheDir}${entry === undefined ? '' : ` (key ${JSON.stringify(entry.key)})`}`);
  }

  // --- INSTALL … POST_BUILD ----------------------------------------------

  private async runPhase(
    shell: BuildShell,
    name: PhaseName,
    phase: BuildspecPhase | undefined,
    succeedingAtStart: boolean,
  ): Promise<PhaseResult> {
    const start = Date.now();
    this.print(`${name} started`);
    this.ctx.log.line(`Entering phase ${name.toUpperCase()}`);
    if (phase !== undefined && name === 'install') this.checkRuntimeVersions(phase, shell);

    let succeeding = succeedingAtStart;
    let failure: { command: string; exitCode: number } | undefined;
    for (const command of phase?.commands ?? []) {
      const exitCode = await this.runCommand(shell, command, succeeding);
      if (exitCode !== 0) {
        // The reference: the remaining commands are skipped, `finally` still runs.
        // The build is failing from here on, so `finally` sees CODEBUILD_BUILD_SUCCEEDING=0.
        failure = { command, exitCode };
        succeeding = false;
        break;
      }
    }
    for (const command of phase?.finally ?? []) {
      const exitCode = await this.runCommand(shell, command, succeeding);
      if (exitCode !== 0) {
        failure ??= { command, exitCode };
        break;
      }
    }

    const status: PhaseStatus = failure === undefined ? 'SUCCEEDED' : 'FAILED';
    const durationMs = Date.now() - start;
    this.print(`${name} ... ${status} (${seconds(durationMs)})`);
    this.ctx.log.line(`Phase complete: ${name.toUpperCase()} State: ${status}`);
    return failure === undefined
      ? { name, status, durationMs }
      : { name, status, durationMs, failedCommand: failure.command, exitCode: failure.exitCode };
  }

  private async runCommand(shell: BuildShell, command: string, succeeding: boolean): Promise<number> {
    this.print(`  $ ${firstLine(command)}`);
    this.ctx.log.line(`Running command ${command}`);
    const outcome = await this.watched(() => shell.run(command, { CODEBUILD_BUILD_SUCCEEDING: succeeding ? '1' : '0' }));
    this.flushVerbose();
    if (outcome.exitCode !== 0) {
      this.ctx.log.line(`Command did not exit successfully ${command} exit status ${outcome.exitCode}`);
      this.print(`  command failed with exit code ${outcome.exitCode}: ${firstLine(command)}`);
      // With --verbose the output has just scrolled by; otherwise show its end here.
      if (this.ctx.verbose !== true) {
        for (const line of outcome.tail) this.print(`  | ${line}`);
      }
    }
    return outcome.exitCode;
  }

  /**
   * CodeBuild installs the requested runtime; the rehearsal uses whatever Node.js
   * runs it, so it only warns when the major version differs.
   */
  private checkRuntimeVersions(phase: BuildspecPhase, shell: BuildShell): void {
    const local = this.ctx.nodeVersion ?? process.versions.node;
    for (const [runtime, requested] of Object.entries(phase.runtimeVersions)) {
      if (runtime !== 'nodejs') {
        this.print(`note: runtime-versions ${runtime}: ${requested} is not checked locally`);
        continue;
      }
      // A runtime version may name a variable ("$NODE_MAJOR").
      const value = requested.replace(/^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/, (_m, name: string) => shell.currentEnv[name] ?? '');
      const wanted = /^(\d+)/.exec(value)?.[1];
      const have = /^v?(\d+)/.exec(local)?.[1];
      if (wanted === undefined) {
        this.print(`note: runtime-versions nodejs: ${requested} cannot be compared with the local Node.js ${local}`);
      } else if (wanted !== have) {
        this.print(
          `warning: runtime-versions nodejs: ${requested} asks for Node.js ${wanted}, this machine runs ${local}; ` +
            'the build continues with the local one',
        );
      }
    }
  }

  // --- UPLOAD_ARTIFACTS ----------------------------------------------------

  /**
   * "The UPLOAD_ARTIFACTS phase is always attempted, even if the BUILD phase fails."
   * https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html
   *
   * Reports and the cache are collected here too. The reference does not say
   * whether CodeBuild saves the S3 cache of a failed build; the rehearsal saves
   * it whenever this phase runs, i.e. unless install or pre_build stopped the
   * build, so a failing test run still warms the next one.
   */
  private uploadArtifacts(spec: Buildspec): { result: PhaseResult; artifactDir: string | undefined; reports: Record<string, string[]> } {
    const start = Date.now();
    this.print('upload_artifacts started');
    this.ctx.log.line('Entering phase UPLOAD_ARTIFACTS');
    let failure: string | undefined;
    let artifactDir: string | undefined;

    if (spec.artifacts !== undefined) {
      const out = path.join(this.ctx.workDir, 'artifact');
      const collected = collectArtifacts(this.srcDir, spec.artifacts, out);
      for (const warning of collected.warnings) this.print(`  warning: ${warning}`);
      if (collected.files.length === 0) {
        // CodeBuild fails the phase, and so the build, with this message.
        failure = 'no matching artifact paths found';
        this.print(`  artifact: ${failure}`);
      } else {
        artifactDir = out;
        this.print(`  artifact: ${plural(collected.files.length, 'file')} in ${out}`);
      }
    }

    const reports: Record<string, string[]> = {};
    for (const [group, groupSpec] of Object.entries(spec.reports)) {
      const out = path.join(this.ctx.workDir, 'reports', safeDirName(group));
      const collected = collectReports(this.srcDir, groupSpec, out);
      if (collected.files.length === 0) {
        this.print(`  warning: report group ${group}: no report files matched`);
        continue;
      }
      reports[group] = collected.files.map((f) => path.join(out, f));
      this.print(`  report ${group} (${groupSpec.fileFormat}): ${plural(collected.files.length, 'file')}`);
    }

    if (spec.cache?.save === true) {
      const saved = new CacheStore(this.ctx.cacheDir).save(this.srcDir, spec.cache, this.cacheKey);
      if (saved === undefined) this.print(`  cache: key ${this.cacheKey ?? ''} has an entry already, and a keyed entry is never updated: nothing saved`);
      else this.print(`  cache: saved ${plural(saved, 'file')} to ${this.ctx.cacheDir}`);
    }

    const status: PhaseStatus = failure === undefined ? 'SUCCEEDED' : 'FAILED';
    const durationMs = Date.now() - start;
    this.print(`upload_artifacts ... ${status} (${seconds(durationMs)})`);
    this.ctx.log.line(`Phase complete: UPLOAD_ARTIFACTS State: ${status}${failure === undefined ? '' : ` Message: ${failure}`}`);
    return { result: { name: 'upload_artifacts', status, durationMs }, artifactDir, reports };
  }

  // --- progress while a command runs -----------------------------------------

  /**
   * Runs a command under the progress view: Turborepo tasks as they start or
   * fail, a status line or heartbeat while it runs, each task's time after.
   */
  private async watched<T>(run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const watch = new CommandWatch((event) => {
      if (event.kind === 'started') this.print(`  ▸ ${event.task}`);
      else if (event.kind === 'failed') this.print(`  ✗ ${event.task} failed`);
    });
    this.watch = watch;
    const heartbeatMs = this.ctx.heartbeatMs ?? HEARTBEAT_MS;
    const timer = setInterval(
      () => {
        if (this.statusLine !== undefined) this.drawStatus(`  … ${watch.describe(Date.now() - started)} · ${watch.lastLine}`);
        else if (Date.now() - this.lastPrintedAt >= heartbeatMs) this.print(`  … ${watch.describe(Date.now() - started)}`);
      },
      this.statusLine === undefined ? Math.max(10, Math.min(heartbeatMs, 5_000)) : STATUS_REFRESH_MS,
    );
    try {
      return await run();
    } finally {
      clearInterval(timer);
      watch.end();
      this.watch = undefined;
      this.drawStatus('');
      if (watch.summaryFile !== undefined) this.printTimings(watch.summaryFile);
    }
  }

  /** Each task's time from Turborepo's run summary, once the run is over. */
  private printTimings(file: string): void {
    const abs = path.resolve(this.srcDir, file);
    let summary: unknown;
    try {
      summary = JSON.parse(readFileSync(abs, 'utf8'));
    } catch {
      this.print(`  note: the Turborepo run summary ${file} could not be read; task times are in the build log`);
      return;
    }
    for (const line of renderTimings(taskTimings(summary))) this.print(`  ${line}`);
  }

  /** Redraws the status line in place; '' removes it. */
  private drawStatus(text: string): void {
    if (this.statusLine === undefined || (text === '' && this.statusShown === '')) return;
    const width = Math.max(20, (this.statusLine.columns ?? 80) - 1);
    const shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.statusLine.write(`\r\u001b[K${shown}`);
    this.statusShown = shown;
  }

  // --- output --------------------------------------------------------------

  private skipped(name: BuildPhaseName): PhaseResult {
    this.print(`${name} ... SKIPPED`);
    return { name, status: 'SKIPPED', durationMs: 0 };
  }

  private print(line: string): void {
    const status = this.statusShown;
    this.drawStatus('');
    this.progress(`[build] ${line}`);
    this.lastPrintedAt = Date.now();
    if (status !== '') this.drawStatus(status);
  }

  private commandOutput(text: string): void {
    this.ctx.log.output(text);
    this.watch?.push(text);
    if (this.ctx.verbose !== true) return;
    const lines = (this.verboseBuffer + text).split('\n');
    this.verboseBuffer = lines.pop() ?? '';
    for (const line of lines) this.print(`  | ${line}`);
  }

  private flushVerbose(): void {
    if (this.verboseBuffer !== '') this.print(`  | ${this.verboseBuffer}`);
    this.verboseBuffer = '';
  }
}

/**
 * Whether a failed phase ends the build, skipping the later phases and
 * UPLOAD_ARTIFACTS. `on-failure: ABORT` aborts and `CONTINUE` goes on to the
 * next phase. Without it the build phase transitions apply: a failure in
 * INSTALL or PRE_BUILD goes straight to FINALIZING ("if a command fails during
 * the install phase, none of the commands in the pre_build, build, and
 * post_build phases are run"), while a failed BUILD still runs POST_BUILD and
 * a failed POST_BUILD still runs UPLOAD_ARTIFACTS.
 * https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.phases.on-failure
 * https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html
 */
export function stopsBuild(phase: PhaseName, onFailure: OnFailure | undefined): boolean {
  if (onFailure === 'CONTINUE') return false;
  if (onFailure === 'ABORT') return true;
  return phase === 'install' || phase === 'pre_build';
}

/**
 * What the buildspec asks for that only AWS (or a shared build host) can give.
 * Checked before any command runs, so a rehearsal fails in seconds, not after `npm ci`.
 */
function localLimitations(
  spec: Buildspec,
  text: string,
  overrides: Readonly<Record<string, string>>,
  srcDir: string,
): BuildspecProblem[] {
  const locate = keyLocator(text);
  const problems: BuildspecProblem[] = [];
  const add = (path: KeyPath, problem: string) => problems.push({ key: keyName(path), line: locate(path), problem });

  const needsAws = (section: string, service: string, names: readonly string[]) => {
    for (const name of names) {
      if (name in overrides) continue;
      add(
        ['env', section, name],
        `is read from ${service}, which needs an AWS account; the local rehearsal does not support it. ` +
          `Pass a local value for ${name} as an override instead.`,
      );
    }
  };
  needsAws('parameter-store', 'AWS Systems Manager Parameter Store', Object.keys(spec.env.parameterStore));

  spec.cache?.paths.forEach((p, i) => {
    if (staysInside(srcDir, p)) return;
    add(
      ['cache', 'paths', i],
      `${p} is outside the source directory. Locally the cache only covers paths inside the build's copy of the source, ` +
        'so a rehearsal never reads or overwrites files elsewhere on your machine. Point the tool at a directory in the source ' +
        '(e.g. npm_config_cache=$CODEBUILD_SRC_DIR/.npm-cache) and cache that (.npm-cache/**/*).',
    );
  });

  const fileSets: [KeyPath, FileSetSpec][] = [
    ...(spec.artifacts === undefined ? [] : [[['artifacts'], spec.artifacts] as [KeyPath, FileSetSpec]]),
    ...Object.entries(spec.reports).map(([group, g]) => [['reports', group], g] as [KeyPath, FileSetSpec]),
  ];
  for (const [key, set] of fileSets) {
    if (set.baseDirectory !== undefined && !staysInside(srcDir, set.baseDirectory)) {
      add([...key, 'base-directory'], `${set.baseDirectory} is outside the source directory`);
    }
    set.files.forEach((f, i) => {
      if (!staysInside(srcDir, f)) add([...key, 'files', i], `${f} is outside the base directory`);
    });
  }
  return problems;
}

/** A relative pattern that never climbs out with `..` (and is not absolute or under ~). */
function staysInside(root: string, pattern: string): boolean {
  if (path.isAbsolute(pattern) || pattern.startsWith('~')) return pattern === root || pattern.startsWith(`${root}/`);
  let depth = 0;
  for (const seg of segments(pattern)) {
    depth += seg === '..' ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}

/** Refuses work dirs whose wiping would delete the source (a mistyped option must not cost a checkout). */
function assertWorkDirIsSafe(sourceRoot: string, workDir: string): void {
  if (sourceRoot === workDir || sourceRoot.startsWith(`${workDir}${path.sep}`) || workDir === path.parse(workDir).root) {
    throw new Error(`workDir ${workDir} contains the source ${sourceRoot}; it is wiped before each build, so pick a directory of its own`);
  }
}

/** Empties the work dir except the build counter and the cache, and returns this build's number. */
function resetWorkDir(workDir: string, cacheDir: string): number {
  mkdirSync(workDir, { recursive: true });
  const counter = path.join(workDir, BUILD_NUMBER_FILE);
  const previous = existsSync(counter) ? Number.parseInt(readFileSync(counter, 'utf8'), 10) : 0;
  for (const entry of readdirSync(workDir)) {
    const abs = path.join(workDir, entry);
    if (entry === BUILD_NUMBER_FILE || cacheDir === abs || cacheDir.startsWith(`${abs}${path.sep}`)) continue;
    rmSync(abs, { recursive: true, force: true });
  }
  const buildNumber = (Number.isFinite(previous) ? previous : 0) + 1;
  writeFileSync(counter, `${buildNumber}\n`);
  return buildNumber;
}

/** Report group names may be ARNs; keep them readable but safe as one directory name. */
function safeDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function firstLine(command: string): string {
  const lines = command.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} …` : (lines[0] ?? '');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
