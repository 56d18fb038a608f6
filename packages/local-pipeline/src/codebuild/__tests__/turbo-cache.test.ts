// The rehearsal's build with the real Turborepo: a change to the source must
// reach the build, even though the build's copy sits inside the checkout
// (.rehearsal/codebuild/src), which ignores it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { build, createRepo, parentEnv, readBuilt, writeFiles } from './helpers';

// Two builds with a real turbo and npm: seconds each.
jest.setTimeout(120_000);

const TURBO = require.resolve('turbo/bin/turbo');

/** A one-package npm workspace whose build copies src/message.txt to dist/, cached by turbo between builds like buildspec.yml's. */
function turboRepo(turboArgs = '--cache-dir=.turbo/cache') {
  const repo = createRepo({
    '.gitignore': '.rehearsal/\nnode_modules/\n.turbo/\ndist/\n',
    'package.json': JSON.stringify({ name: 'fixture', private: true, packageManager: 'npm@11.0.0', workspaces: ['pkg'] }),
    'turbo.json': JSON.stringify({ tasks: { build: { outputs: ['dist/**'] } } }),
    'pkg/package.json': JSON.stringify({ name: 'pkg', version: '1.0.0', scripts: { build: 'mkdir -p dist && cp src/message.txt dist/message.txt' } }),
    'pkg/src/message.txt': 'one\n',
    'buildspec.yml': `version: 0.2
env:
  variables:
    TURBO_TELEMETRY_DISABLED: "1"
phases:
  build:
    commands:
      - node ${TURBO} run build ${turboArgs} > turbo.log 2>&1 || { cat turbo.log; exit 1; }
cache:
  paths:
    - ".turbo/cache/**/*"
`,
  });
  const workDir = path.join(repo.root, '.rehearsal', 'codebuild');
  return { ...repo, workDir, srcDir: path.join(workDir, 'src') };
}

describe('turbo in the rehearsal build', () => {
  it('when a source file changes between two builds sharing the turbo cache, then turbo builds it again instead of replaying the first build', async () => {
    const repo = turboRepo();

    const first = await build(repo);
    expect(first.result.succeeded).toBe(true);
    expect(readBuilt(repo, 'pkg/dist/message.txt')).toBe('one\n');

    writeFiles(repo.root, { 'pkg/src/message.txt': 'two\n' });
    const second = await build(repo);

    expect(second.result.succeeded).toBe(true);
    expect(second.progress).toContain('cache: restored');
    expect(readBuilt(repo, 'turbo.log')).toContain('cache miss');
    expect(readBuilt(repo, 'pkg/dist/message.txt')).toBe('two\n');
  });

  it('when nothing changed between two builds, then turbo replays the build from the cache', async () => {
    const repo = turboRepo();

    await build(repo);
    const second = await build(repo);

    expect(second.result.succeeded).toBe(true);
    expect(readBuilt(repo, 'turbo.log')).toContain('FULL TURBO');
    expect(readBuilt(repo, 'pkg/dist/message.txt')).toBe('one\n');
  });

  it('when the caller sets TURBO_CACHE_DIR, then a build in a fresh work dir replays what an earlier build stored there', async () => {
    // CI points TURBO_CACHE_DIR at its own run's cache: its rehearsals replay
    // the tasks it has just run instead of running them again.
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'turbo-cache-dir-'));
    const env = parentEnv({ TURBO_CACHE_DIR: cacheDir });
    const first = turboRepo('');
    const second = turboRepo('');

    await build(first, { parentEnv: env });
    const replay = await build(second, { parentEnv: env }).finally(() => rmSync(cacheDir, { recursive: true, force: true }));

    expect(replay.result.succeeded).toBe(true);
    expect(replay.progress).toContain('cache: nothing to restore');
    expect(readBuilt(second, 'turbo.log')).toContain('FULL TURBO');
    expect(readBuilt(second, 'pkg/dist/message.txt')).toBe('one\n');
  });
});
