import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { PHASE_NAMES, parseBuildspec, type Buildspec } from '@conveyor/local-pipeline';
import { endLeftovers } from '@conveyor/tooling-support';

import type { BenchContext } from '../report';
import { childEnv } from './child-env';
import { readNpmPhases, type NpmPhases } from './npm-timing';
import { runStep, type StepRun } from './run-step';
import { copySource } from './tree';

/** A full install on a slow network plus a slow disk stays well under this. */
const NPM_CI_TIMEOUT_MS = 15 * 60_000;

/**
 * A throwaway copy of the repo where the bench may install, build and test
 * without touching the user's checkout: its own node_modules, its own
 * Turborepo cache directories, its own temp dirs.
 */
export interface RepoCopy {
  /** The copy's root. */
  readonly root: string;
  /** Files copied from the working tree. */
  readonly files: number;
  /** The root and every workspace: each directory of the copy holding a package.json. */
  readonly packageDirs: readonly string[];
  /** The environment of a step in the copy: the parent's allow-listed variables, CodeBuild's, then `extra`. */
  readonly env: (extra?: Readonly<Record<string, string>>) => Record<string, string>;
  /**
   * Removes every node_modules, then runs buildspec.yml's `npm ci` with its
   * `--cache` pointed at `cacheDir` and npm's own timers on; returns the timed
   * run and where npm says the time went.
   */
  readonly npmCi: (step: string, cacheDir: string) => Promise<StepRun & { readonly phases: NpmPhases }>;
  /** Runs one `npm ci` unless one already completed in this copy (the cache section's installs count). */
  readonly ensureInstalled: () => Promise<void>;
  /**
   * Ends every process still running from the copy or from `paths` (a step's
   * temp dir), or with one of `args` as a whole argument (a port), after
   * `step`, and says so.
   */
  readonly endLeftovers: (step: string, paths?: readonly string[], args?: readonly string[]) => void;
}

/**
 * The arguments of buildspec.yml's `npm ci` command (a line of its own, also
 * inside a block) with its npm cache moved
 * to `cacheDir`, so the bench installs exactly as CodeBuild does and follows
 * the buildspec when its flags change. `--no-audit --no-fund` are added if the
 * buildspec lacks them (the audit is a step of its own).
 */
export function npmCiArgs(buildspec: Buildspec, cacheDir: string): string[] {
  // A command may be a block (`if node_modules is ready; then ...; else npm ci ...; fi`): its own line counts.
  const lines = PHASE_NAMES.flatMap((phase) => buildspec.phases[phase]?.commands ?? []).flatMap((command) => command.split('\n'));
  const line = lines.find((command) => /^\s*npm\s+ci(\s|$)/.test(command));
  if (line === undefined) throw new Error('buildspec.yml runs no `npm ci` command: the bench installs the way the build does and cannot guess how');
  if (/["'`$;&|<>\\]/.test(line)) throw new Error(`buildspec.yml's install command "${line.trim()}" uses shell syntax; the bench only reads a plain \`npm ci <flags>\``);
  const words = line.trim().split(/\s+/).slice(2);
  const args = ['ci'];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    if (word === '--cache') i += 1;
    else if (!word.startsWith('--cache=')) args.push(word);
  }
  args.push('--cache', cacheDir);
  for (const flag of ['--no-audit', '--no-fund']) if (!args.includes(flag)) args.push(flag);
  return args;
}

/** The variables buildspec.yml's `env.variables` sets, plus CI=true as CodeBuild does. */
function buildspecVariables(buildspec: Buildspec): Record<string, string> {
  return { CI: 'true', ...buildspec.env.variables };
}

const copies = new WeakMap<BenchContext, RepoCopy>();

/**
 * The run's one throwaway copy of the repo, made on first use: the cache and
 * suite sections share it, and its node_modules, so the run installs as few
 * times as its measurements need. A copy that failed is not kept: the next
 * section tries again and reports its own error.
 */
export function repoCopy(ctx: BenchContext): RepoCopy {
  let copy = copies.get(ctx);
  if (copy === undefined) {
    copy = makeCopy(ctx);
    copies.set(ctx, copy);
  }
  return copy;
}

function makeCopy(ctx: BenchContext): RepoCopy {
  const root = path.join(ctx.tempDir('repo'), 'repo');
  const copied = copySource(ctx.repoRoot, root);
  const files = copied.length;
  const packageDirs = copied
    .filter((file) => path.basename(file) === 'package.json')
    .map((file) => path.join(root, path.dirname(file)));
  const buildspec = parseBuildspec(readFileSync(path.join(root, 'buildspec.yml'), 'utf8'));
  const env = (extra: Readonly<Record<string, string>> = {}) => childEnv(ctx.env, { ...buildspecVariables(buildspec), ...extra });

  // A commit, as a clone has: turbo hashes inputs through git (and so honours
  // .gitignore), and the packaging step reads HEAD.
  const git = (args: readonly string[]) => execFileSync('git', args, { cwd: root, env: env(), stdio: 'ignore', timeout: 60_000 });
  git(['init', '--quiet']);
  git(['add', '--all']);
  git(['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', 'bench: copy of the working tree']);
  ctx.log(`copied the working tree (${files} files, committed once) to ${root}`);

  let installed = false;
  const npmCi = async (step: string, cacheDir: string): Promise<StepRun & { readonly phases: NpmPhases }> => {
    installed = false;
    for (const dir of packageDirs) rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
    const logsDir = ctx.tempDir('npm-logs');
    const args = [...npmCiArgs(buildspec, cacheDir), '--timing', '--logs-dir', logsDir];
    const run = await runStep(step, 'npm', args, { cwd: root, env: env(), timeoutMs: NPM_CI_TIMEOUT_MS, log: ctx.log });
    installed = true;
    const phases = readNpmPhases(logsDir);
    rmSync(logsDir, { recursive: true, force: true });
    return { ...run, phases };
  };
  const ensureInstalled = async () => {
    if (installed) return;
    ctx.log('npm ci in the copy (once, shared by the sections that build and test)…');
    const run = await npmCi('npm ci (the copy)', path.join(ctx.tempDir('npm-cache'), 'cache'));
    ctx.log(`npm ci in the copy … ${(run.ms / 1000).toFixed(1)} s`);
  };
  const endStepLeftovers = (step: string, paths: readonly string[] = [], args: readonly string[] = []) => {
    const pids = endLeftovers([root, ...paths], args);
    if (pids.length > 0) ctx.log(`${step}: ended ${pids.length} processes it left running (pids ${pids.join(', ')})`);
  };
  return { root, files, packageDirs, env, npmCi, ensureInstalled, endLeftovers: endStepLeftovers };
}
