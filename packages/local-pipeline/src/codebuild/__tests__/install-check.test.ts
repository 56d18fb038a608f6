// The install phase of the repo's own buildspec.yml: node_modules restored
// from the cache is kept only when it was installed from this very lockfile
// and `npm ls` is satisfied; anything else runs `npm ci`. npm is a stub here
// (`npm ls` passes or fails on demand, `npm ci` only says it ran), so each
// case runs in milliseconds and needs no registry.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseBuildspec } from '../index';
import { tempDirOf } from './helpers';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
const install = parseBuildspec(readFileSync(path.join(REPO_ROOT, 'buildspec.yml'), 'utf8')).phases.install?.commands ?? [];
const check = install.find((c) => c.includes('npm ci'));

type Packages = Record<string, Record<string, unknown>>;

const LOCKED: Packages = {
  '': { name: 'repo', workspaces: ['apps/*'] },
  'node_modules/left-pad': { version: '1.3.0', resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz', integrity: 'sha512-a' },
  'node_modules/@swc/core-darwin-arm64': { version: '1.16.18', optional: true, integrity: 'sha512-b' },
  'node_modules/@scope/api': { resolved: 'apps/api', link: true },
  'apps/api': { name: '@scope/api', version: '0.1.0' },
};
const INSTALLED: Packages = Object.fromEntries(Object.entries(LOCKED).filter(([p, e]) => p !== '' && e['optional'] !== true));

function runInstall(options: { installed?: Packages; npmLs?: 'ok' | 'fails' }): string {
  const dir = tempDirOf('install-check');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'npm'),
    `#!/usr/bin/env bash\nif [[ "$1" == ls ]]; then exit ${options.npmLs === 'fails' ? 1 : 0}; fi\necho "npm $*"\n`,
  );
  chmodSync(path.join(bin, 'npm'), 0o755);
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: LOCKED }));
  if (options.installed !== undefined) {
    mkdirSync(path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'node_modules', '.package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: options.installed }));
  }
  const result = spawnSync('bash', ['-c', check ?? 'exit 99'], {
    cwd: dir,
    env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  return result.stdout;
}

const withEntry = (p: string, patch: Record<string, unknown> | undefined): Packages => {
  const copy: Packages = { ...INSTALLED };
  if (patch === undefined) delete copy[p];
  else copy[p] = { ...(copy[p] ?? {}), ...patch };
  return copy;
};

describe('the install phase of buildspec.yml', () => {
  it('when the buildspec has the check, then it runs npm ci with the npm cache as its fallback', () => {
    expect(check).toMatch(/npm ci --cache \.npm-cache/);
  });

  it('when node_modules was installed from this lockfile (optional packages of other platforms absent) and npm ls passes, then npm ci is skipped', () => {
    const out = runInstall({ installed: INSTALLED });

    expect(out).toContain('npm ci skipped');
    expect(out).not.toContain('npm ci --cache');
  });

  it.each([
    ['there is no node_modules', undefined],
    ['a package has another version', withEntry('node_modules/left-pad', { version: '1.2.0' })],
    ['a package has another integrity', withEntry('node_modules/left-pad', { integrity: 'sha512-other' })],
    ['a package the lockfile does not list is installed', withEntry('node_modules/extra', { version: '1.0.0' })],
    ['a package the lockfile requires is missing', withEntry('node_modules/left-pad', undefined)],
    ['a workspace link became a copy', withEntry('node_modules/@scope/api', { link: undefined, version: '0.1.0' })],
  ])('when %s, then npm ci runs', (_case, installed) => {
    const out = runInstall({ installed });

    expect(out).toContain('npm ci --cache .npm-cache --prefer-offline --no-audit --no-fund');
    expect(out).not.toContain('npm ci skipped');
  });

  it('when node_modules matches the lockfile but npm ls finds a package.json unsatisfied, then npm ci runs', () => {
    const out = runInstall({ installed: INSTALLED, npmLs: 'fails' });

    expect(out).toContain('npm ci --cache .npm-cache');
  });
});
