/**
 * The workshop is written for the upstream example: its commands and outputs
 * spell the upstream scope and service name, and its Parameter Store module
 * shows the example deploy config's values. On a fork (renamed with
 * `npm run rename`, config edited) the runner still checks it:
 * - the names: docs/workshop/README.md declares the names the modules are
 *   written with (a marker `npm run rename` leaves alone, as it leaves all
 *   Markdown), and every module is read with them replaced by the
 *   repository's own;
 * - the config: the copy's infra/config/deploy-config.ts is replaced by the
 *   frozen example the modules document (infra/test-support/example-deploy-config.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ServiceNames {
  /** The npm scope of the workspaces, with its @. */
  readonly scope: string;
  /** SERVICE_NAME in packages/config/src/contract.ts. */
  readonly service: string;
}

const NAMES_MARKER = /<!--\s*workshop-names:\s*scope=(@[^\s]+)\s+service=([^\s]+)\s*-->/;
const SERVICE_NAME_LINE = /^export const SERVICE_NAME = '([^']+)';$/m;

/** Where the frozen example deploy config lives, and what the copy's deploy-config.ts becomes. */
export const EXAMPLE_CONFIG = 'infra/test-support/example-deploy-config.ts';
const EXAMPLE_DEPLOY_CONFIG = `// Written by the workshop runner: the modules document the example config's output.
export { exampleDeployConfig as deployConfig } from '../test-support/example-deploy-config';
`;

/** The names the workshop modules are written with (docs/workshop/README.md's marker), if declared. */
export function documentedNames(sourceRoot: string): ServiceNames | undefined {
  const readme = path.join(sourceRoot, 'docs', 'workshop', 'README.md');
  if (!existsSync(readme)) return undefined;
  const match = NAMES_MARKER.exec(readFileSync(readme, 'utf8'));
  return match?.[1] && match[2] ? { scope: match[1], service: match[2] } : undefined;
}

/** The repository's own names: its workspaces' scope (from this package's name) and SERVICE_NAME. */
export function repositoryNames(sourceRoot: string): ServiceNames {
  const pkg = JSON.parse(readFileSync(path.join(sourceRoot, 'tooling', 'docs-check', 'package.json'), 'utf8')) as { name: string };
  const service = SERVICE_NAME_LINE.exec(readFileSync(path.join(sourceRoot, 'packages', 'config', 'src', 'contract.ts'), 'utf8'))?.[1];
  if (service === undefined) throw new Error('packages/config/src/contract.ts has no SERVICE_NAME line');
  return { scope: pkg.name.split('/')[0] ?? pkg.name, service };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** `text` with the scope (as `@scope/`) and the service name (as a whole word) of `from` replaced by those of `to`. */
export function mapNames(text: string, from: ServiceNames, to: ServiceNames): string {
  if (from.scope === to.scope && from.service === to.service) return text;
  return text
    .replace(new RegExp(`${escapeRegExp(from.scope)}/`, 'g'), `${to.scope}/`)
    .replace(new RegExp(`(?<![A-Za-z0-9-])${escapeRegExp(from.service)}(?![A-Za-z0-9])`, 'g'), to.service);
}

/**
 * Points the copy's deploy config at the frozen example, so module 5's
 * synthesized parameters are the documented ones on any fork.
 * @returns false when the repository has no frozen example (nothing changed).
 */
export function useExampleDeployConfig(copyDir: string): boolean {
  if (!existsSync(path.join(copyDir, EXAMPLE_CONFIG))) return false;
  writeFileSync(path.join(copyDir, 'infra', 'config', 'deploy-config.ts'), EXAMPLE_DEPLOY_CONFIG);
  return true;
}
