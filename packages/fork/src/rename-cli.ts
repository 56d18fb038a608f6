/**
 * `npm run rename -- --scope @acme --service orders-api`: renames the npm
 * scope and the service name everywhere they are spelled, then prints what it
 * changed. Run it on a clean working tree, review `git diff`, commit.
 */
import { parseArgs } from 'node:util';

import { RenameError, renameRepository } from './rename';
import { repoRoot } from './repo';

const USAGE = `usage: npm run rename -- --scope <@scope> --service <service-name> [--no-lockfile-refresh]
  --scope     the npm scope of every workspace, e.g. @acme
  --service   the service's name (SERVICE_NAME): stacks, pipeline, parameters, paths, e.g. orders-api`;

function main(argv: readonly string[]): number {
  let values: { scope?: string; service?: string; 'no-lockfile-refresh'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        scope: { type: 'string' },
        service: { type: 'string' },
        'no-lockfile-refresh': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`rename: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.scope === undefined || values.service === undefined) {
    console.error(`rename: both --scope and --service are required\n${USAGE}`);
    return 2;
  }

  const root = repoRoot(process.cwd());
  try {
    const report = renameRepository({
      root,
      to: { scope: values.scope, service: values.service },
      refreshLockfile: !values['no-lockfile-refresh'],
      log: (line) => console.error(`[rename] ${line}`),
    });
    const total = report.changed.reduce((sum, change) => sum + change.replacements, 0);
    console.log(`Renamed scope ${report.from.scope} -> ${report.to.scope} and service ${report.from.service} -> ${report.to.service}:`);
    for (const change of report.changed) console.log(`  ${change.file}: ${change.replacements}`);
    console.log(`${total} replacement(s) in ${report.changed.length} file(s). Markdown and bench/results.json were left alone (they describe the upstream example).`);
    if (report.leftovers.length > 0) {
      console.log(`Still spelling "${report.from.scope.slice(1)}" outside the docs (${report.leftovers.length} line(s)); review them:`);
      for (const line of report.leftovers) console.log(`  ${line}`);
    }
    console.log('Next: npm ci (node_modules still links the old scope), then review `git diff` and commit.');
    return 0;
  } catch (error) {
    if (error instanceof RenameError) {
      console.error(`rename: refused:\n${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
