import { ownerOf, summarizeProfile, type CpuProfile } from '../support/cpu-profile';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('ownerOf', () => {
  it('when code sits in node_modules, then its package (scoped or not) owns it', () => {
    expect(ownerOf('file:///r/node_modules/express/lib/router/index.js', 'handle')).toBe('express');
    expect(ownerOf('file:///r/node_modules/a/node_modules/@scope/pkg/x.js', 'f')).toBe('@scope/pkg');
  });

  it('when code is Node, V8, the GC or the application, then each is named as such', () => {
    expect(ownerOf('node:internal/http', 'write')).toBe('Node.js internals');
    expect(ownerOf('', 'JSONStringify')).toBe('V8 (native, builtins)');
    expect(ownerOf('', '(garbage collector)')).toBe('garbage collector');
    expect(ownerOf('file:///r/apps/api/dist/app.js', 'frontDoor')).toBe('application code');
  });
});

describe('summarizeProfile', () => {
  it('when samples are taken, then each sample\'s time counts as self time of its function and owner, idle left out', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('handle', 'file:///r/node_modules/express/lib/router.js') },
        { id: 4, callFrame: frame('frontDoor', 'file:///r/apps/api/dist/app.js') },
      ],
      startTime: 0,
      endTime: 19_000,
      samples: [2, 3, 3, 4, 3, 2],
      timeDeltas: [5000, 1000, 1000, 2000, 1000, 9000],
    };

    const summary = summarizeProfile(profile);

    expect(summary.busyMs).toBe(5);
    expect(summary.owners).toEqual([
      { name: 'express', ms: 3, share: 0.6 },
      { name: 'application code', ms: 2, share: 0.4 },
    ]);
    expect(summary.functions[0]).toEqual({ name: 'handle (express, router.js)', ms: 3, share: 0.6 });
  });
});

describe('summarizeProfile with lastMs', () => {
  it('when only the last milliseconds are asked for, then earlier samples (the process starting) are left out', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('compile', 'node:internal/modules/cjs/loader') },
        { id: 2, callFrame: frame('handle', 'file:///r/node_modules/express/lib/router.js') },
      ],
      startTime: 1_000_000,
      endTime: 1_010_000,
      samples: [1, 1, 2, 2],
      timeDeltas: [3000, 3000, 2000, 2000],
    };

    const summary = summarizeProfile(profile, { lastMs: 3 });

    expect(summary.owners).toEqual([{ name: 'express', ms: 4, share: 1 }]);
  });
});
