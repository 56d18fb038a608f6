import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { runLifecycle } from '../agent';
import { tempDir } from './fixtures';

let work: string;

beforeEach(() => {
  work = tempDir('lifecycle');
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A revision with no hooks: appspec.yml copying everything to /opt/svc, and one file. */
function revision(): string {
  const bundle = path.join(work, 'bundle');
  mkdirSync(path.join(bundle, 'app'), { recursive: true });
  writeFileSync(path.join(bundle, 'appspec.yml'), 'version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /opt/svc\nfile_exists_behavior: OVERWRITE\n');
  writeFileSync(path.join(bundle, 'app', 'main.js'), 'console.log("v1");\n');
  return bundle;
}

describe('runLifecycle Install', () => {
  it('when a file cannot be written at the destination, then Install fails naming the appspec destination, the errno and the file, not the archive path', async () => {
    const root = path.join(work, 'instance');
    // /opt/svc is a file on this instance: nothing can be created below it.
    mkdirSync(path.join(root, 'opt'), { recursive: true });
    writeFileSync(path.join(root, 'opt', 'svc'), 'not a directory');

    const result = await runLifecycle({
      instance: { name: 'test', root, env: {} },
      bundleDir: revision(),
      deployment: { id: 'd-TEST00001', applicationName: 'svc', groupName: 'svc-test', groupId: 'group-1' },
      parentEnv: {},
      progress: () => undefined,
      events: ['DownloadBundle', 'Install'],
    });

    expect(result.succeeded).toBe(false);
    expect(result.failure?.event).toBe('Install');
    expect(result.failure?.message).toMatch(/^Install could not copy the revision to \/opt\/svc \(appspec files destination\): E[A-Z]+: [^,]+, writing /);
    expect(result.failure?.message).toContain(`writing ${path.join(root, 'opt', 'svc')}/`);
    expect(result.failure?.message).not.toContain('deployment-archive');
  });
});
