import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (infra/test-support/ is two levels below it). */
export const REPOSITORY_ROOT = join(__dirname, '..', '..');

/** The commands the root README's "Commands" table names for each check, by what the row says it does. */
export interface ReadmeCommands {
  /** The install step (`npm ci`). */
  readonly install: string;
  /** Every workspace's jest suite (`npm test`). */
  readonly test: string;
  readonly lint: string;
  readonly typecheck: string;
  /** The offline CDK synth, cdk-nag included. */
  readonly synth: string;
}

/** How each command's row is told apart: by its description, so the commands themselves are read, never assumed. */
const ROWS: Readonly<Record<keyof ReadmeCommands, RegExp>> = {
  install: /^the install step\b/,
  test: /\bjest suite\b/,
  lint: /^ESLint\b/,
  typecheck: /\btsc --noEmit\b/,
  synth: /\bsynthesizes the CDK app offline\b/,
};

/**
 * Reads the check commands from README.md's "Commands" table, the one list
 * the CI script, the pull-request workflow and the CodeCommit check follow.
 * @throws naming the row it cannot find, so a reworded README fails loudly.
 */
export function readmeCommands(readme: string = readFileSync(join(REPOSITORY_ROOT, 'README.md'), 'utf8')): ReadmeCommands {
  const section = /^## Commands\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "## Commands" section');
  const rows = [...section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)].map(([, command = '', description = '']) => ({ command, description }));
  const find = (role: keyof ReadmeCommands): string => {
    const matching = rows.filter((row) => ROWS[role].test(row.description));
    if (matching.length !== 1) throw new Error(`README.md's Commands table has ${matching.length} rows for the ${role} command (want 1, matching ${String(ROWS[role])})`);
    return matching[0]!.command;
  };
  return { install: find('install'), test: find('test'), lint: find('lint'), typecheck: find('typecheck'), synth: find('synth') };
}
