import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePorts, git } from '@conveyor/tooling-support';

import { currentNames, type Names } from './rename';

/** The fork the check makes: other names, other source kind, environments and region than the example. */
export const FORK_NAMES: Names = { scope: '@acme', service: 'orders-api' };

/** The deploy config the fork check writes: CodeCommit created by the stack, staging, qa and prod, eu-west-1. */
export const FORK_DEPLOY_CONFIG = `import type { DeployConfigInput } from './schema';

/** The fork check's deploy config: a CodeCommit source, three environments, another region. */
export const deployConfig = {
  region: 'eu-west-1',
  source: { kind: 'codecommit', repositoryName: '${FORK_NAMES.service}', create: true, branch: 'main' },
  environments: [
    {
      name: 'staging',
      instanceType: 't3.micro',
      capacity: { min: 1, desired: 1, max: 2 },
      deploymentStyle: 'in-place',
      greeting: 'Hello from staging',
      logLevel: 'debug',
    },
    {
      name: 'qa',
      instanceType: 't4g.small',
      capacity: { min: 1, desired: 1, max: 2 },
      deploymentStyle: 'blue-green',
      blueGreen: { terminationWaitMinutes: 5 },
      greeting: 'Hello from qa',
    },
    {
      name: 'prod',
      instanceType: 't3.small',
      capacity: { min: 2, desired: 2, max: 4 },
      deploymentStyle: 'blue-green',
      greeting: 'Hello',
      alarms: { p99LatencySeconds: 1 },
    },
  ],
  notificationEmails: ['ops@example.com'],
  removalPolicy: 'destroy',
} satisfies DeployConfigInput;
`;

/** Where the old name must not be left: what is deployed or synthesized, and what the build prints. */
const SCANNED = ['infra/cdk.out', '.rehearsal/codebuild/artifact'];
/** Folders of build output inside each workspace. */
const BUILD_OUTPUT = 'dist';
const WORKSPACE_PARENTS = ['apps', 'packages', 'tooling'];

export interface ForkCheckOptions {
  /** The upstream checkout to fork (its committed HEAD is cloned). */
  readonly root: string;
  /** Keep the throwaway clone (its path is printed). @default false */
  readonly keep?: boolean;
  readonly log: (line: string) => void;
}

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
}

export interface ForkCheckResult {
  readonly passed: boolean;
  readonly timings: readonly StepTiming[];
  /** `file: line` of every leftover of the old names. */
  readonly leftovers: readonly string[];
  readonly failure?: string;
}

class StepFailed extends Error {}

/** Runs a command in `cwd`, streaming its output to the log file and the console, and fails the step on a non-zero exit. */
function run(cwd: string, logFile: string, command: string, args: readonly string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    out.write(`\n$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer) => {
      out.write(chunk);
      process.stderr.write(chunk);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', (error) => {
      out.end();
      reject(new StepFailed(`${command} could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      out.end(() => {
        if (code === 0) resolve();
        else {
          log(`[fork-check] ${command} ${args.join(' ')} exited ${code ?? signal ?? '?'}`);
          reject(new StepFailed(`${command} ${args.join(' ')} exited ${code ?? signal ?? '?'} (log: ${logFile})`));
        }
      });
    });
  });
}

/** Every `file:line` in `target` (a file, or a folder walked whole) whose text or name contains one of `words` (any case). */
export function findLeftovers(target: string, words: readonly string[], base = target): string[] {
  if (!existsSync(target)) return [];
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
  const found: string[] = [];
  const visit = (full: string): void => {
    const relative = path.relative(base, full) || path.basename(full);
    if (pattern.test(path.basename(full))) found.push(`${relative}: (its name)`);
    const stat = statSync(full);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(full)) visit(path.join(full, entry));
      return;
    }
    if (!stat.isFile() || stat.size > 64 * 1024 * 1024) return;
    const buffer = readFileSync(full);
    if (buffer.includes(0)) return;
    buffer
      .toString('utf8')
      .split('\n')
      .forEach((line, index) => {
        if (pattern.test(line)) found.push(`${relative}:${index + 1}: ${line.trim().slice(0, 160)}`);
      });
  };
  visit(target);
  return found;
}

/**
 * Makes a throwaway fork of `root` the way the fork guide says: clone, `npm run
 * rename` to other names, a deploy config with another source kind,
 * environment list and region; then runs install, synth and a rehearsal there
 * (whose build, the fork's buildspec.yml, lints, type-checks and tests it), and fails on any leftover of the old names in the
 * templates, the bundle, the build output and the logs of those steps.
 */
export async function forkCheck(options: ForkCheckOptions): Promise<ForkCheckResult> {
  const { root, log } = options;
  const upstream = currentNames(root);
  const oldWords = [upstream.scope.slice(1), upstream.service];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fork-check-'));
  const fork = path.join(tmp, 'fork');
  const logDir = path.join(tmp, 'logs');
  mkdirSync(logDir);
  let logFile = path.join(logDir, '00-setup.log');
  // The fork's rehearsal serves on ports of its own (its state dir is the
  // fork's), so it runs beside any other rehearsal on this machine, such as
  // CI's workshop, without waiting for port 8080.
  const [proxyPort, bluePort, greenPort] = await freePorts(3);
  const timings: StepTiming[] = [];
  let rehearsalStarted = false;

  const step = async (name: string, body: () => Promise<void> | void): Promise<void> => {
    log(`[fork-check] --- ${name}`);
    logFile = path.join(logDir, `${String(timings.length + 1).padStart(2, '0')}-${name.split(' ').slice(0, 3).join('-').replace(/[^A-Za-z0-9-]/g, '')}.log`);
    const started = Date.now();
    await body();
    timings.push({ step: name, seconds: Math.round((Date.now() - started) / 100) / 10 });
  };
  const sh = (command: string, ...args: string[]) => run(fork, logFile, command, args, log);
  const commit = (message: string) => git(fork, ['commit', '-q', '-am', message], { author: 'fork-check' });

  try {
    await step(`clone ${root} (HEAD) to ${fork}`, () => {
      git(tmp, ['clone', '--quiet', '--no-hardlinks', root, fork]);
    });
    await step(`npm run rename -- --scope ${FORK_NAMES.scope} --service ${FORK_NAMES.service}`, async () => {
      // The upstream's built tool, so the fork needs no install before it is renamed (as a fork's first step).
      await sh('node', path.join(root, 'packages', 'fork', 'dist', 'rename-cli.js'), '--scope', FORK_NAMES.scope, '--service', FORK_NAMES.service);
      commit(`rename to ${FORK_NAMES.scope} and ${FORK_NAMES.service}`);
    });
    await step('edit infra/config/deploy-config.ts (CodeCommit, staging/qa/prod, eu-west-1)', () => {
      writeFileSync(path.join(fork, 'infra', 'config', 'deploy-config.ts'), FORK_DEPLOY_CONFIG);
      commit('deploy config of the fork');
    });
    await step('npm ci', () => sh('npm', 'ci', '--no-audit', '--no-fund'));
    await step('npm run synth', () => sh('npm', 'run', 'synth'));
    // Lint, typecheck and test run inside the rehearsal: its build is the fork's
    // own buildspec.yml (`turbo run lint typecheck test build`), so running them
    // here as well would only run every check twice.
    await step(`npm run rehearse (lint, typecheck, test, build, package, deploy) on port ${proxyPort}, /health, --stop`, async () => {
      rehearsalStarted = true;
      await sh(
        'bash',
        '-c',
        'set -euo pipefail; trap "npm run rehearse -- --stop >/dev/null 2>&1 || true" EXIT; ' +
          `npm run rehearse -- --port ${proxyPort} --slot-ports ${bluePort},${greenPort}; ` +
          `curl --fail --silent --show-error http://127.0.0.1:${proxyPort}/health; echo; npm run rehearse -- --stop`,
      );
      rehearsalStarted = false;
    });

    const leftovers: string[] = [];
    await step(`look for ${oldWords.join(' or ')} in templates, bundle, build output and logs`, () => {
      const dirs = [
        ...SCANNED.map((dir) => path.join(fork, dir)),
        path.join(fork, 'infra', BUILD_OUTPUT),
        ...WORKSPACE_PARENTS.flatMap((parent) =>
          existsSync(path.join(fork, parent)) ? readdirSync(path.join(fork, parent)).map((ws) => path.join(fork, parent, ws, BUILD_OUTPUT)) : [],
        ),
      ];
      for (const dir of dirs) leftovers.push(...findLeftovers(dir, oldWords, fork));
      // What the fork's own steps printed (the clone and rename steps print the old names on purpose).
      // The `$ command` lines are the check's own.
      for (const file of readdirSync(logDir).filter((f) => !/^0[0-3]-/.test(f))) {
        leftovers.push(...findLeftovers(path.join(logDir, file), oldWords, logDir).filter((line) => !/^[^:]+:\d+: \$ /.test(line)));
      }
    });
    if (leftovers.length > 0) {
      return { passed: false, timings, leftovers, failure: `${leftovers.length} leftover(s) of ${oldWords.join(' or ')}` };
    }
    return { passed: true, timings, leftovers };
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    return { passed: false, timings, leftovers: [], failure: error.message };
  } finally {
    if (rehearsalStarted) await run(fork, logFile, 'npm', ['run', 'rehearse', '--', '--stop'], log).catch(() => undefined);
    if (options.keep) log(`[fork-check] kept: ${tmp} (the fork in fork/, each step's output in logs/)`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}
