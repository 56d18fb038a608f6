// The repo's real appspec.yml and buildspec.yml against what the packaging
// step produces and what the service's contract says: a fork that renames a
// script, moves the bundle or the reports gets a failing test naming the line.
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { BUNDLE_DIR } from '@conveyor/bundle';
import { INSTALL_ROOT } from '@conveyor/config';
import { JUNIT_DIR } from '@conveyor/jest-config';

import { parseBuildspec } from '../codebuild';
import { MAX_EVENT_TIMEOUT_SECONDS, readAppSpec } from '../codedeploy/appspec';
import { REPO_ROOT, makeBundle, tempDir } from '../codedeploy/__tests__/fixtures';

const appspec = readAppSpec(path.join(REPO_ROOT, 'appspec.yml'));
const buildspec = parseBuildspec(readFileSync(path.join(REPO_ROOT, 'buildspec.yml'), 'utf8'));
const scripts = Object.values(appspec.hooks).flat();

describe('appspec.yml', () => {
  it('when read, then it names at least the five lifecycle events the service needs', () => {
    expect(Object.keys(appspec.hooks)).toEqual(expect.arrayContaining(['ApplicationStop', 'BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService']));
  });

  it.each(scripts.map((s) => [s.location]))('when it names %s, then the script exists in the repo and is executable', (location) => {
    expect(() => accessSync(path.join(REPO_ROOT, location), constants.X_OK)).not.toThrow();
  });

  it('when packaged, then every script it names is in the bundle, executable', async () => {
    const work = tempDir('contract');
    try {
      const bundle = await makeBundle(work, 'contract');
      for (const { location } of scripts) expect(() => accessSync(path.join(bundle, location), constants.X_OK)).not.toThrow();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('when installing, then the destination is the contract\'s INSTALL_ROOT and existing files are overwritten explicitly', () => {
    expect(appspec.files).toEqual([{ source: '/', destination: INSTALL_ROOT }]);
    expect(readFileSync(path.join(REPO_ROOT, 'appspec.yml'), 'utf8')).toMatch(/^file_exists_behavior: OVERWRITE$/m);
  });

  it('when hooks need no root, then they run as the app user', () => {
    for (const event of ['ApplicationStop', 'ApplicationStart', 'ValidateService']) {
      expect(appspec.hooks[event]?.every((script) => script.runas === 'app')).toBe(true);
    }
  });

  it('when timeouts are added up per event, then each stays within CodeDeploy\'s limit', () => {
    for (const hookScripts of Object.values(appspec.hooks)) {
      expect(hookScripts.reduce((sum, s) => sum + s.timeoutSeconds, 0)).toBeLessThanOrEqual(MAX_EVENT_TIMEOUT_SECONDS);
    }
  });
});

describe('buildspec.yml', () => {
  it('when CodeBuild collects the artifact, then it is the directory npm run package writes, whole', () => {
    expect(buildspec.artifacts).toMatchObject({ baseDirectory: BUNDLE_DIR, files: ['**/*'] });
  });

  it('when CodeBuild publishes test reports, then they come from the folder jest-junit writes, as JUnit XML', () => {
    const groups = Object.values(buildspec.reports ?? {});

    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ baseDirectory: path.relative(REPO_ROOT, JUNIT_DIR), fileFormat: 'JUNITXML' });
  });

  it('when caching, then it keeps the npm and Turborepo caches and node_modules, keyed on the lockfile with a fallback to any lockfile', () => {
    const cache = buildspec.cache;

    expect(cache?.paths).toEqual(expect.arrayContaining(['.npm-cache/**/*', '.turbo/cache/**/*', 'node_modules/**/*']));
    // npm ci's outcome depends on the lockfile and on the install settings (allowScripts, overrides, .npmrc).
    expect(cache?.key).toMatch(/\$\(codebuild-hash-files package-lock\.json package\.json \.npmrc\)/);
    expect(cache?.fallbackKeys[0]).toMatch(/\$\(codebuild-hash-files package-lock\.json package\.json \.npmrc\)/);
    expect(cache?.fallbackKeys.length).toBeGreaterThanOrEqual(2);
  });

  it('when install finds node_modules from the cache, then it skips npm ci only after checking it against the lockfile and with npm ls', () => {
    const install = (buildspec.phases.install?.commands ?? []).join('\n');

    expect(install).toMatch(/node_modules\/\.package-lock\.json/);
    expect(install).toMatch(/npm ls --all/);
    expect(install).toMatch(/npm ci --cache \.npm-cache/);
  });

  it('when the build runs, then install is npm ci, pre_build audits and post_build packages', () => {
    const commands = (phase: 'install' | 'pre_build' | 'build' | 'post_build') => (buildspec.phases[phase]?.commands ?? []).join('\n');

    expect(commands('install')).toMatch(/npm ci\b/);
    expect(readFileSync(path.join(REPO_ROOT, commands('pre_build').replace(/^bash /, '')), 'utf8')).toMatch(/npm audit "\$\{RETRY\[@\]\}" --audit-level=high[\s\S]*npm audit signatures/);
    expect(commands('build')).toMatch(/turbo run lint typecheck test build/);
    expect(commands('post_build')).toContain('npm run package');
    expect(existsSync(path.join(REPO_ROOT, 'scripts', 'codebuild', 'audit.sh'))).toBe(true);
  });
});
