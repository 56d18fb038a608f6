import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { scopeProblems, serviceProblems } from './names';
import { trackedFiles, uncommitted } from './repo';

/** Where the service's name is defined (the one place the code spells it). */
export const CONTRACT_FILE = 'packages/config/src/contract.ts';
const SERVICE_NAME_LINE = /^export const SERVICE_NAME = '([^']+)';$/m;

/**
 * Left as they are: the docs describe the upstream example (their commands
 * and outputs show its names, and the fork guide its own instructions), and
 * committed measurements record what was measured, under the names it ran with.
 */
export function isLeftAlone(file: string): boolean {
  return file.endsWith('.md') || file === 'bench/results.json';
}

/** Why a rename was refused; the message names the rule or the state that stopped it. */
export class RenameError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'RenameError';
  }
}

export interface Names {
  /** The npm scope of every workspace, with its @. */
  readonly scope: string;
  /** SERVICE_NAME in packages/config/src/contract.ts. */
  readonly service: string;
}

export interface RenameOptions {
  /** The repository's top folder. */
  readonly root: string;
  /** What to rename to. */
  readonly to: Names;
  /**
   * Run `npm install --package-lock-only` afterwards, so the lockfile's
   * workspace entries are in npm's order (no version moves).
   * @default true
   */
  readonly refreshLockfile?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface FileChange {
  readonly file: string;
  readonly replacements: number;
}

export interface RenameReport {
  readonly from: Names;
  readonly to: Names;
  readonly changed: readonly FileChange[];
  /** Lines of renamed files that still spell the old scope word, for a reviewer to look at. */
  readonly leftovers: readonly string[];
}

/** The names the repository uses now: the workspaces' scope and the contract's SERVICE_NAME. */
export function currentNames(root: string): Names {
  const contract = readFileSync(path.join(root, CONTRACT_FILE), 'utf8');
  const service = SERVICE_NAME_LINE.exec(contract)?.[1];
  if (service === undefined) throw new RenameError([`${CONTRACT_FILE}: no line \`export const SERVICE_NAME = '<name>';\` to rename`]);
  const scopes = new Set(
    trackedFiles(root)
      .filter((file) => file.endsWith('package.json') && file !== 'package.json' && !file.includes('node_modules/'))
      .map((file) => (JSON.parse(readFileSync(path.join(root, file), 'utf8')) as { name?: string }).name ?? '')
      .filter((name) => name.startsWith('@'))
      .map((name) => name.split('/')[0] ?? ''),
  );
  if (scopes.size !== 1) throw new RenameError([`the workspaces use ${scopes.size} scopes (${[...scopes].join(', ')}); expected one`]);
  return { scope: [...scopes][0] ?? '', service };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The textual rewrites, in order: the scope (as `@scope/`), then the service name as a whole word. */
function rewriters(from: Names, to: Names): ((text: string) => [string, number])[] {
  const replaceAll = (pattern: RegExp, replacement: string) => (text: string): [string, number] => {
    let count = 0;
    const out = text.replace(pattern, () => {
      count += 1;
      return replacement;
    });
    return [out, count];
  };
  return [
    replaceAll(new RegExp(`${escapeRegExp(from.scope)}/`, 'g'), `${to.scope}/`),
    // Not inside a longer name: with the old name a-api, `a-api-staging` is renamed, `my-a-api` is not.
    replaceAll(new RegExp(`(?<![A-Za-z0-9-])${escapeRegExp(from.service)}(?![A-Za-z0-9])`, 'g'), to.service),
  ];
}

/** Renames the root package (package.json and the lockfile's two copies of its name) to the scope's word. */
function renameRootPackage(root: string, from: Names, to: Names): FileChange[] {
  const changes: FileChange[] = [];
  const oldName = from.scope.slice(1);
  const newName = to.scope.slice(1);
  const pkgPath = path.join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { name?: string };
  if (pkg.name === oldName) {
    writeFileSync(pkgPath, readFileSync(pkgPath, 'utf8').replace(`"name": ${JSON.stringify(oldName)}`, `"name": ${JSON.stringify(newName)}`));
    changes.push({ file: 'package.json', replacements: 1 });
  }
  const lockPath = path.join(root, 'package-lock.json');
  if (existsSync(lockPath)) {
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { name?: string; packages?: Record<string, { name?: string }> };
    let count = 0;
    if (lock.name === oldName) {
      lock.name = newName;
      count += 1;
    }
    const rootEntry = lock.packages?.[''];
    if (rootEntry?.name === oldName) {
      rootEntry.name = newName;
      count += 1;
    }
    if (count > 0) {
      writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
      changes.push({ file: 'package-lock.json', replacements: count });
    }
  }
  return changes;
}

/**
 * Renames the npm scope and the service name everywhere they are spelled:
 * package names and dependencies, imports, Turborepo filters and task
 * dependencies, the lockfile, SERVICE_NAME in the contract, appspec.yml's
 * install paths, tests and scripts. Markdown and committed measurements are
 * left alone (see isLeftAlone). Refuses an invalid name and a dirty tree, so
 * the rename is one reviewable diff.
 * @throws RenameError naming every rule broken, or the uncommitted paths.
 */
export function renameRepository(options: RenameOptions): RenameReport {
  const { root, to } = options;
  const log = options.log ?? (() => undefined);
  const problems = [...scopeProblems(to.scope), ...serviceProblems(to.service)];
  if (problems.length > 0) throw new RenameError(problems);
  const dirty = uncommitted(root);
  if (dirty.length > 0) {
    throw new RenameError([
      `the working tree has uncommitted changes (${dirty.length}): commit or stash them first, so the rename is one diff you can review and revert`,
      ...dirty.slice(0, 10).map((line) => `  ${line}`),
    ]);
  }

  const from = currentNames(root);
  const rewrite = rewriters(from, to);
  const changed: FileChange[] = [];
  for (const file of trackedFiles(root).filter((f) => !isLeftAlone(f))) {
    const full = path.join(root, file);
    if (!existsSync(full)) continue;
    const buffer = readFileSync(full);
    if (buffer.includes(0)) continue; // binary
    let text = buffer.toString('utf8');
    let replacements = 0;
    for (const step of rewrite) {
      const [out, count] = step(text);
      text = out;
      replacements += count;
    }
    if (replacements > 0) {
      writeFileSync(full, text);
      changed.push({ file, replacements });
    }
  }
  for (const change of renameRootPackage(root, from, to)) {
    const existing = changed.findIndex((c) => c.file === change.file);
    if (existing >= 0) changed[existing] = { file: change.file, replacements: (changed[existing]?.replacements ?? 0) + change.replacements };
    else changed.push(change);
  }

  if ((options.refreshLockfile ?? true) && existsSync(path.join(root, 'package-lock.json'))) {
    log('npm install --package-lock-only (puts the renamed workspace entries in npm\'s order)');
    const npm = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: root, encoding: 'utf8' });
    if (npm.status !== 0) throw new RenameError([`npm install --package-lock-only failed (exit ${String(npm.status)}):`, npm.stderr.trim()]);
  }

  const oldWord = from.scope.slice(1);
  const leftovers = changed.length === 0 ? [] : leftoverLines(root, oldWord);
  return { from, to, changed: changed.sort((a, b) => a.file.localeCompare(b.file)), leftovers };
}

/** Lines outside the docs and measurements that still spell `word` (any case). */
export function leftoverLines(root: string, word: string): string[] {
  const pattern = new RegExp(escapeRegExp(word), 'i');
  return trackedFiles(root)
    .filter((file) => !isLeftAlone(file) && existsSync(path.join(root, file)))
    .flatMap((file) => {
      const buffer = readFileSync(path.join(root, file));
      if (buffer.includes(0)) return [];
      return buffer
        .toString('utf8')
        .split('\n')
        .flatMap((line, index) => (pattern.test(line) ? [`${file}:${index + 1}: ${line.trim().slice(0, 160)}`] : []));
    });
}
