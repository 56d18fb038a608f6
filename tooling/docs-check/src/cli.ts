// `npm run workshop`: arguments, Ctrl-C and exit codes around runWorkshop (runner.ts).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { git } from '@conveyor/tooling-support';

import { MarkerError } from './markers';
import { WorkshopError, describeStep, duration, loadModules, runWorkshop } from './runner';

const USAGE = `usage: docs-check workshop [module...] [options]
  module               a module's number (01) or its path from the repo root; default: every docs/workshop/NN-*.md
  --capture            print each block's real output on stdout
  --keep               keep the temporary copy and every block's log
  --copy <dir>         run in this existing copy instead of a fresh clone (never deleted)
  --head               copy only what is committed: leave out the checkout's uncommitted and untracked files
  --list               list the runnable blocks and exit`;

const WORKSHOP_DIR = 'docs/workshop';
/** The service (npm start), the rehearsal's load balancer and its two slots. */
const WORKSHOP_PORTS = [3000, 8080, 8081, 8082];

class UsageError extends Error {}

function repoRoot(): string {
  try {
    return git(process.cwd(), ['rev-parse', '--show-toplevel']).trim();
  } catch {
    throw new UsageError('run inside the repository (git rev-parse found no work tree)');
  }
}

/** Module files, relative to the root: the ones named (a number or a path), or every NN-*.md in docs/workshop. */
function moduleFiles(root: string, names: readonly string[]): string[] {
  if (!existsSync(path.join(root, WORKSHOP_DIR))) throw new UsageError(`${root} has no ${WORKSHOP_DIR} folder`);
  const all = readdirSync(path.join(root, WORKSHOP_DIR)).filter((name) => /^\d\d-.*\.md$/.test(name)).sort();
  if (names.length === 0) return all.map((name) => `${WORKSHOP_DIR}/${name}`);
  return names.map((name) => {
    const file = /^\d\d$/.test(name) ? all.find((module) => module.startsWith(`${name}-`)) : undefined;
    const relative = file ? `${WORKSHOP_DIR}/${file}` : path.relative(root, path.resolve(root, name));
    if (!existsSync(path.join(root, relative))) throw new UsageError(/^\d\d$/.test(name) ? `no module ${name} in ${WORKSHOP_DIR}` : `${name}: no such file (paths are relative to the repo root)`);
    return relative;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'workshop') throw new UsageError(command === undefined ? 'name a command' : `unknown command "${command}"`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      capture: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      copy: { type: 'string' },
      head: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const root = repoRoot();
  const files = moduleFiles(root, positionals);

  if (values.list) {
    for (const module of loadModules(root, files)) {
      console.log(`${module.file}: ${module.steps.length} runnable block(s)`);
      for (const [index, step] of module.steps.entries()) {
        console.log(`  ${index + 1}. line ${step.line}: ${describeStep(step)}${step.output ? ' [output checked]' : ''}`);
      }
    }
    return 0;
  }

  const controller = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => {
    console.error(`[workshop] ${signal}: stopping what the workshop started, then exiting`);
    controller.abort();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const report = await runWorkshop({
    sourceRoot: root,
    files,
    // This CLI starts the blocks' shells: it hands them a filtered copy of its environment (see blockEnv).
    // eslint-disable-next-line no-restricted-properties -- a process launcher, not service config; lint allows no other way to read PATH and HOME
    parentEnv: process.env,
    ports: WORKSHOP_PORTS,
    teardown: [{ ifExists: '.rehearsal/state.json', command: 'npm run rehearse -- --stop', timeoutSeconds: 180 }],
    keep: values.keep,
    committedOnly: values.head,
    ...(values.copy ? { existingCopy: values.copy } : {}),
    progress: (line) => console.error(line),
    ...(values.capture ? { capture: (text: string) => process.stdout.write(text) } : {}),
    signal: controller.signal,
  });
  const blocks = report.modules.reduce((sum, m) => sum + m.blocks, 0);
  console.error(`[workshop] passed: ${report.modules.length} module(s), ${blocks} block(s) in ${duration(report.seconds * 1000)}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`docs-check: ${error.message}\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof WorkshopError || error instanceof MarkerError) {
      console.error(`[workshop] FAILED: ${error.message}`);
      process.exit(1);
    }
    console.error(`docs-check: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
