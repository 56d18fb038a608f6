import { dependencyClosure, type Lockfile } from '../lockfile';

const lock: Lockfile = {
  packages: {
    '': {},
    'node_modules/pm2': { version: '7.0.4', dependencies: { debug: '^4', chalk: '^3' }, optionalDependencies: { fsevents: '*' } },
    'node_modules/pm2/node_modules/debug': { version: '3.2.7', dependencies: { ms: '^2' } },
    'node_modules/debug': { version: '4.4.0', dependencies: { ms: '^2' } },
    'node_modules/ms': { version: '2.1.3' },
    'node_modules/chalk': { version: '3.0.0' },
    'node_modules/fsevents': { version: '2.3.3', optional: true },
    'node_modules/jest': { version: '30.0.0', dev: true },
  },
};

describe('dependencyClosure', () => {
  it('when a dependency is nested under the package, then the nested copy wins, as in Node resolution', () => {
    const closure = dependencyClosure(lock, 'node_modules/pm2');

    expect(closure).toContain('node_modules/pm2/node_modules/debug');
    expect(closure).not.toContain('node_modules/debug');
  });

  it('when walking transitively, then hoisted dependencies of nested packages are found by walking up', () => {
    expect(dependencyClosure(lock, 'node_modules/pm2')).toEqual([
      'node_modules/chalk',
      'node_modules/fsevents',
      'node_modules/ms',
      'node_modules/pm2',
      'node_modules/pm2/node_modules/debug',
    ]);
  });

  it('when an optional dependency is absent from the lockfile, then it is skipped', () => {
    const withoutFsevents: Lockfile = { packages: { ...lock.packages, 'node_modules/fsevents': undefined as never } };
    delete (withoutFsevents.packages as Record<string, unknown>)['node_modules/fsevents'];

    expect(dependencyClosure(withoutFsevents, 'node_modules/pm2')).not.toContain('node_modules/fsevents');
  });

  it('when a required dependency is missing, then it names both packages', () => {
    const broken: Lockfile = { packages: { 'node_modules/a': { dependencies: { b: '1' } } } };

    expect(() => dependencyClosure(broken, 'node_modules/a')).toThrow('node_modules/a depends on b, which package-lock.json does not resolve');
  });
});
