// Fixture repositories for the build emulator's tests: real git, real bash, no mocks.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { git } from '@conveyor/tooling-support';

import { runBuildspec, type BuildOptions, type BuildResult } from '../index';

/** Every fixture test finishes in well under a second; this only bounds a hang. */
export const TEST_TIMEOUT_MS = 20_000;

export interface FixtureRepo {
  /** The git checkout (sourceRoot). */
  readonly root: string;
  /** The build's work dir, outside the checkout. */
  readonly workDir: string;
  /** The copied source of the last build. */
  readonly srcDir: string;
}

const tempDirs: string[] = [];

afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An empty temporary directory, removed after the test file. */
export function tempDirOf(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rehearsal-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** A file's content, or content plus mode for executables. */
export type FixtureFile = string | { readonly content: string; readonly mode: number };

/** Creates a git repository with `files` committed. */
export function createRepo(files: Readonly<Record<string, FixtureFile>>): FixtureRepo {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-build-'));
  tempDirs.push(tmp);
  const root = path.join(tmp, 'repo');
  mkdirSync(root);
  writeFiles(root, files);
  git(root, ['init', '--quiet', '--initial-branch=main']);
  git(root, ['add', '--all']);
  commit(root, 'fixture');
  const workDir = path.join(tmp, 'rehearsal', 'codebuild');
  return { root, workDir, srcDir: path.join(workDir, 'src') };
}

export function writeFiles(root: string, files: Readonly<Record<string, FixtureFile>>): void {
  for (const [name, file] of Object.entries(files)) {
    const target = path.join(root, name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, typeof file === 'string' ? file : file.content);
    if (typeof file !== 'string') chmodSync(target, file.mode);
  }
}

export function commit(root: string, message: string): void {
  git(root, ['commit', '--quiet', '--allow-empty', '-m', message], { author: 'Fixture' });
}

export { git };

/** The minimal parent environment: enough to find bash and git. */
export function parentEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string | undefined> {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], ...extra };
}

export interface BuildRun {
  readonly result: BuildResult;
  /** Every progress line. */
  readonly lines: readonly string[];
  readonly progress: string;
}

/** Runs a build of `repo` and keeps its progress lines. */
export async function build(repo: FixtureRepo, options: Partial<BuildOptions> = {}): Promise<BuildRun> {
  const lines: string[] = [];
  const result = await runBuildspec({
    sourceRoot: repo.root,
    workDir: repo.workDir,
    parentEnv: parentEnv(),
    progress: (line) => lines.push(line),
    // Plain progress even when jest runs on a terminal.
    statusLine: undefined,
    ...options,
  });
  return { result, lines, progress: lines.join('\n') };
}

/** Reads a file the build wrote into its source copy. */
export function readBuilt(repo: FixtureRepo, file: string): string {
  return readFileSync(path.join(repo.srcDir, file), 'utf8');
}

/** Parses the output of `env` (one NAME=value per line) that a build command wrote. */
export function readEnvDump(repo: FixtureRepo, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readBuilt(repo, file).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** The status of each phase, by name. */
export function statuses(result: BuildResult): Record<string, string> {
  return Object.fromEntries(result.phases.map((p) => [p.name, p.status]));
}
