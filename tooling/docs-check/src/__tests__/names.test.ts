import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { configValueText, documentedNames, mapNames, repositoryNames, useExampleDeployConfig } from '../names';
import { loadModules } from '../runner';

const upstream = { scope: '@upstream', service: 'upstream-api' };
const fork = { scope: '@acme', service: 'orders-api' };
let root: string;

function write(file: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), content);
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'docs-check-names-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('workshop names on a fork', () => {
  it('when a module spells the upstream scope and service, then it reads with the fork\'s, longer names included and lookalikes not', () => {
    // Arrange
    const module = [
      'npm test -w @upstream/config',
      "require(`./infra/cdk.out/upstream-api-${env}.template.json`)",
      '/upstream-api/staging/greeting = Hello from staging',
      '@upstream/api:start: {"service":"upstream-api"}',
      'my-upstream-api stays',
    ].join('\n');

    // Act
    const mapped = mapNames(module, upstream, fork);

    // Assert
    expect(mapped).toBe(
      [
        'npm test -w @acme/config',
        "require(`./infra/cdk.out/orders-api-${env}.template.json`)",
        '/orders-api/staging/greeting = Hello from staging',
        '@acme/api:start: {"service":"orders-api"}',
        'my-upstream-api stays',
      ].join('\n'),
    );
  });

  it('when the README declares the names and the repository has its own, then both are read', () => {
    // Arrange
    write('docs/workshop/README.md', '# Workshop\n\n<!-- workshop-names: scope=@upstream service=upstream-api -->\n');
    write('tooling/docs-check/package.json', '{ "name": "@acme/docs-check" }\n');
    write('packages/config/src/contract.ts', "export const SERVICE_NAME = 'orders-api';\n");

    // Act / Assert
    expect(documentedNames(root)).toEqual(upstream);
    expect(repositoryNames(root)).toEqual(fork);
  });

  it('when the README declares no names, then none are mapped', () => {
    // Arrange
    write('docs/workshop/README.md', '# Workshop\n');

    // Assert
    expect(documentedNames(root)).toBeUndefined();
  });

  it("when the copy has the frozen example, then its deploy config becomes that example; without it nothing changes", () => {
    // Arrange
    write('infra/config/deploy-config.ts', 'export const deployConfig = { region: "eu-west-1" };\n');

    // Act / Assert
    expect(useExampleDeployConfig(root)).toBe('no-example');
    expect(readFileSync(path.join(root, 'infra/config/deploy-config.ts'), 'utf8')).toContain('eu-west-1');
    write('infra/test-support/example-deploy-config.ts', 'export const exampleDeployConfig = {};\n');
    expect(useExampleDeployConfig(root)).toBe('replaced');
    expect(readFileSync(path.join(root, 'infra/config/deploy-config.ts'), 'utf8')).toContain(
      "export { exampleDeployConfig as deployConfig } from '../test-support/example-deploy-config';",
    );
  });

  it('when the copy\'s config holds the example\'s values under other comments and layout, then it is kept byte for byte', () => {
    // Arrange
    const config = [
      "import { PLACEHOLDER, type Input } from './schema';",
      '/** The file to edit. */',
      'export const deployConfig = {',
      "  region: 'eu-west-1', // where it runs",
      '  environments: [',
      "    { name: 'staging', capacity: { min: 1, max: 2 } },",
      '  ],',
      '  arn: PLACEHOLDER,',
      '} satisfies Input;',
      '',
    ].join('\n');
    write('infra/config/deploy-config.ts', config);
    write(
      'infra/test-support/example-deploy-config.ts',
      "import { PLACEHOLDER } from '../config/schema';\n// frozen\nexport const exampleDeployConfig = {\n  region: \"eu-west-1\",\n  environments: [{ name: 'staging',\n    capacity: { min: 1, max: 2 } }],\n  arn: PLACEHOLDER } as const satisfies Input;\n",
    );

    // Act
    const use = useExampleDeployConfig(root);

    // Assert
    expect(use).toBe('same-values');
    expect(readFileSync(path.join(root, 'infra/config/deploy-config.ts'), 'utf8')).toBe(config);
  });

  it('when one value differs, even where a comment spells the example\'s, then the copy\'s config is replaced', () => {
    // Arrange
    write('infra/config/deploy-config.ts', "export const deployConfig = {\n  region: 'eu-west-1', // region: 'us-east-1'\n  max: 3,\n};\n");
    write('infra/test-support/example-deploy-config.ts', "export const exampleDeployConfig = { region: 'us-east-1', max: 3 } as const;\n");

    // Act / Assert
    expect(useExampleDeployConfig(root)).toBe('replaced');
    expect(configValueText("export const c = { a: 1, /* b: 2 */ };")).toBe(configValueText('export const c = {\n  a: 1\n}'));
    expect(configValueText("export const c = { a: 1 };")).not.toBe(configValueText("export const c = { a: 2 };"));
    expect(configValueText("export const c = { a: 'x  y' };")).not.toBe(configValueText("export const c = { a: 'x y' };"));
  });

  it('when the modules are loaded in a renamed fork, then their commands and documented output carry the fork\'s names', () => {
    // Arrange
    write('docs/workshop/README.md', '<!-- workshop-names: scope=@upstream service=upstream-api -->\n');
    write('tooling/docs-check/package.json', '{ "name": "@acme/docs-check" }\n');
    write('packages/config/src/contract.ts', "export const SERVICE_NAME = 'orders-api';\n");
    write(
      'docs/workshop/01-x.md',
      '<!-- run -->\n```sh\nnpm test -w @upstream/config\n```\n\n<!-- output -->\n```text\n@upstream/config:test: upstream-api\n```\n',
    );

    // Act
    const [module] = loadModules(root, ['docs/workshop/01-x.md']);

    // Assert
    expect(JSON.stringify(module?.steps)).toContain('npm test -w @acme/config');
    expect(JSON.stringify(module?.steps)).toContain('@acme/config:test: orders-api');
    expect(JSON.stringify(module?.steps)).not.toContain('upstream');
  });
});
