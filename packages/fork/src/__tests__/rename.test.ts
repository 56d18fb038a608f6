import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { git as gitIn } from '@conveyor/tooling-support';
import fc from 'fast-check';

import { currentNames, RenameError, renameRepository, type RenameReport } from '../rename';

let root: string;

/** git in the test's repository, committing as `test`. */
const git = (...args: string[]): string => gitIn(root, args, { author: 'test' });

function write(file: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), content);
}

function read(file: string): string {
  return readFileSync(path.join(root, file), 'utf8');
}

const lockfile = {
  name: 'upstream',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'upstream', workspaces: ['packages/*'] },
    'node_modules/@upstream/config': { resolved: 'packages/config', link: true },
    'packages/config': { name: '@upstream/config', version: '0.1.0' },
    'packages/api': { name: '@upstream/api', version: '0.1.0', dependencies: { '@upstream/config': '^0.1.0' } },
  },
};

/** A miniature of the monorepo: every kind of place the names are spelled, committed. */
function createUpstream(): void {
  root = mkdtempSync(path.join(os.tmpdir(), 'fork-rename-'));
  git('init', '-q');
  write('package.json', `${JSON.stringify({ name: 'upstream', private: true, workspaces: ['packages/*'], scripts: { start: 'turbo run start --filter=@upstream/api' } }, null, 2)}\n`);
  write('package-lock.json', `${JSON.stringify(lockfile, null, 2)}\n`);
  write('packages/config/package.json', `${JSON.stringify({ name: '@upstream/config', version: '0.1.0' }, null, 2)}\n`);
  write('packages/config/src/contract.ts', "/** The service's name. */\nexport const SERVICE_NAME = 'upstream-api';\nexport const INSTALL_ROOT = `/opt/${SERVICE_NAME}`;\n");
  write('packages/api/package.json', `${JSON.stringify({ name: '@upstream/api', version: '0.1.0', dependencies: { '@upstream/config': '^0.1.0' } }, null, 2)}\n`);
  write('packages/api/src/main.ts', "import { SERVICE_NAME } from '@upstream/config';\n\nexport const stack = 'upstream-api-staging';\nexport const other = 'my-upstream-api';\n");
  write('packages/api/turbo.json', '{ "tasks": { "test": { "dependsOn": ["@upstream/config#build"] } } }\n');
  write('appspec.yml', 'version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /opt/upstream-api\npermissions:\n  - object: /opt/upstream-api\n');
  write('README.md', '# Upstream\n\nRun `npm run rename -- --scope @acme --service orders-api`; `@upstream/api` is the example.\n');
  write('bench/results.json', '{ "command": "turbo run build --filter=@upstream/api", "stack": "upstream-api-prod" }\n');
  write('bench/report.md', 'Measured with @upstream/api.\n');
  write('assets/logo.bin', Buffer.from([0, 1, 2, ...Buffer.from('@upstream/api')]));
  git('add', '-A');
  git('commit', '-q', '-m', 'upstream');
}

function rename(scope = '@acme', service = 'orders-api'): RenameReport {
  return renameRepository({ root, to: { scope, service }, refreshLockfile: false });
}

beforeEach(createUpstream);
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('renameRepository', () => {
  it('when the tree is clean, then the scope and the service are renamed in code, config, lockfile and appspec', () => {
    // Act
    const report = rename();

    // Assert
    expect(report.from).toEqual({ scope: '@upstream', service: 'upstream-api' });
    expect(read('packages/config/src/contract.ts')).toContain("export const SERVICE_NAME = 'orders-api';");
    expect(read('packages/api/src/main.ts')).toBe("import { SERVICE_NAME } from '@acme/config';\n\nexport const stack = 'orders-api-staging';\nexport const other = 'my-upstream-api';\n");
    expect(JSON.parse(read('packages/api/package.json'))).toEqual({ name: '@acme/api', version: '0.1.0', dependencies: { '@acme/config': '^0.1.0' } });
    expect(read('packages/api/turbo.json')).toContain('"@acme/config#build"');
    expect(read('appspec.yml')).toBe('version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /opt/orders-api\npermissions:\n  - object: /opt/orders-api\n');
    expect(JSON.parse(read('package.json'))).toMatchObject({ name: 'acme', scripts: { start: 'turbo run start --filter=@acme/api' } });
    const lock = JSON.parse(read('package-lock.json')) as typeof lockfile;
    expect(lock.name).toBe('acme');
    expect(lock.packages['']?.name).toBe('acme');
    expect(Object.keys(lock.packages)).toContain('node_modules/@acme/config');
    expect(JSON.stringify(lock)).not.toContain('upstream');
  });

  it('when the rename runs, then it reports each file it changed with its count, and only those', () => {
    // Act
    const report = rename();

    // Assert
    const changed = git('status', '--porcelain').split('\n').filter(Boolean).map((line) => line.slice(3)).sort();
    expect(report.changed.map((change) => change.file).sort()).toEqual(changed);
    expect(report.changed.find((change) => change.file === 'appspec.yml')?.replacements).toBe(2);
    expect(report.changed.find((change) => change.file === 'packages/api/src/main.ts')?.replacements).toBe(2);
  });

  it('when the rename runs, then the docs, the committed measurements and binary files are left alone', () => {
    // Act
    rename();

    // Assert
    expect(git('status', '--porcelain')).not.toMatch(/README\.md|bench\/|assets\//);
  });

  it('when a line still spells the old scope word outside the docs, then the report lists it for review', () => {
    // Act
    const report = rename();

    // Assert
    expect(report.leftovers).toEqual(["packages/api/src/main.ts:4: export const other = 'my-upstream-api';"]);
  });

  it('when the tree has uncommitted changes, then nothing is renamed and the refusal says why', () => {
    // Arrange
    write('packages/api/src/new.ts', 'export {};\n');

    // Act
    const act = (): unknown => rename();

    // Assert
    expect(act).toThrow(RenameError);
    expect(act).toThrow(/uncommitted changes[\s\S]*packages\/api\/src\/new\.ts/);
    expect(read('packages/config/src/contract.ts')).toContain("'upstream-api'");
  });

  it('when the names are invalid, then nothing is renamed and every broken rule is named', () => {
    // Act
    const act = (): unknown => rename('acme', 'Orders_API');

    // Assert
    expect(act).toThrow(/--scope "acme": an npm scope starts with @[\s\S]*--service "Orders_API": lowercase letters/);
    expect(git('status', '--porcelain')).toBe('');
  });

  it('when any valid pair of names is applied and then reverted, then the repository is back byte for byte', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^@[a-z][a-z0-9-]{0,12}$/).filter((scope) => scope !== '@upstream'),
        fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8}){1,2}$/).filter((service) => service !== 'upstream-api'),
        (scope, service) => {
          // Arrange
          const before = git('rev-parse', 'HEAD:');

          // Act
          rename(scope, service);
          expect(currentNames(root)).toEqual({ scope, service });
          git('commit', '-q', '-am', 'renamed');
          rename('@upstream', 'upstream-api');
          git('commit', '-q', '-am', 'back');

          // Assert
          expect(git('rev-parse', 'HEAD:')).toBe(before);
        },
      ),
      { numRuns: 15 },
    );
  });
});
