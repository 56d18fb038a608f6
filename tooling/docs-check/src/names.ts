/**
 * What lets the upstream-worded workshop run on a fork (README.md, "On a
 * fork"): the names the modules are written with, mapped to the repository's
 * own, and the copy's deploy config made the frozen example it documents.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

import { escapeRegExp } from './match';

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

/** `text` with the scope (as `@scope/`) and the service name (as a whole word) of `from` replaced by those of `to`. */
export function mapNames(text: string, from: ServiceNames, to: ServiceNames): string {
  if (from.scope === to.scope && from.service === to.service) return text;
  return text
    .replaceAll(`${from.scope}/`, `${to.scope}/`)
    .replace(new RegExp(`(?<![A-Za-z0-9-])${escapeRegExp(from.service)}(?![A-Za-z0-9])`, 'g'), to.service);
}

/** The printed value's tokens, one space apart, without trailing commas: layout never counts, a string's spaces always do. */
function tokens(printed: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, printed);
  const texts: string[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    const text = scanner.getTokenText();
    if ((text === '}' || text === ']') && texts.at(-1) === ',') texts.pop();
    texts.push(text);
  }
  return texts.join(' ');
}

/**
 * A deploy config file's value as text without comments or layout: the
 * first object literal a `const` of the file is initialized with, its
 * `satisfies` and `as const` taken off. Read with the TypeScript compiler's
 * own parser, so a comment or a string that looks like one cannot fool it.
 */
export function configValueText(source: string): string | undefined {
  const file = ts.createSourceFile('deploy-config.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      let value = declaration.initializer;
      while (value && (ts.isSatisfiesExpression(value) || ts.isAsExpression(value) || ts.isParenthesizedExpression(value))) {
        value = value.expression;
      }
      if (value && ts.isObjectLiteralExpression(value)) return tokens(printer.printNode(ts.EmitHint.Expression, value, file));
    }
  }
  return undefined;
}

/**
 * Makes the copy's deploy config the frozen example, so module 5's
 * synthesized parameters are the documented ones on any fork. A config with
 * the example's values (upstream's own) is left as it is.
 */
export function useExampleDeployConfig(copyDir: string): 'no-example' | 'same-values' | 'replaced' {
  const example = path.join(copyDir, EXAMPLE_CONFIG);
  if (!existsSync(example)) return 'no-example';
  const config = path.join(copyDir, 'infra', 'config', 'deploy-config.ts');
  const exampleValue = configValueText(readFileSync(example, 'utf8'));
  if (exampleValue !== undefined && existsSync(config) && configValueText(readFileSync(config, 'utf8')) === exampleValue) {
    return 'same-values';
  }
  writeFileSync(config, EXAMPLE_DEPLOY_CONFIG);
  return 'replaced';
}
