import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { npmPhases, readNpmPhases } from '../support/npm-timing';
import { tempDirPerTest } from './helpers';

const work = tempDirPerTest('npm-timing');

const npm = (args: readonly string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--offline', '--cache', path.join(work(), 'cache')], { cwd, stdio: 'pipe', timeout: 60_000 });

describe('readNpmPhases', () => {
  it("when the installed npm runs `npm ci --timing`, then its timing file holds every timer the report reads, and the phases add up to npm's total", () => {
    // A project with one dependency from a local tarball: a real install, offline.
    const dep = path.join(work(), 'dep');
    mkdirSync(dep);
    writeFileSync(path.join(dep, 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
    writeFileSync(path.join(dep, 'index.js'), 'module.exports = 1;\n');
    npm(['pack', '--pack-destination', work()], dep);
    const app = path.join(work(), 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { dep: 'file:../dep-1.0.0.tgz' } }));
    npm(['install'], app);
    const logs = path.join(work(), 'logs');

    npm(['ci', '--timing', '--logs-dir', logs], app);
    const phases = readNpmPhases(logs);

    for (const value of Object.values(phases)) expect(value).toBeGreaterThanOrEqual(0);
    expect(phases.total).toBeGreaterThan(0);
    expect(phases.resolve + phases.unpack + phases.build + phases.other).toBe(phases.total);
  });

  it('when the logs dir holds no timing file, then the error names the dir and the count', () => {
    expect(() => readNpmPhases(work())).toThrow(`expected one *-timing.json in ${work()}, found 0`);
  });
});

describe('npmPhases', () => {
  const timers = { idealTree: 100, 'reify:unpack': 5_000, 'reify:build': 400, npm: 6_000 };

  it('when npm timed its phases, then the rest of its total is "other"', () => {
    expect(npmPhases({ timers })).toEqual({ resolve: 100, unpack: 5_000, build: 400, other: 500, total: 6_000 });
  });

  it('when a timer is missing, then the error names it', () => {
    const { 'reify:unpack': _unpack, ...rest } = timers;

    expect(() => npmPhases({ timers: rest })).toThrow('no timer "reify:unpack"');
  });

  it('when the file has no timers, then the error says so', () => {
    expect(() => npmPhases({ metadata: {} })).toThrow('no "timers" object');
  });
});
