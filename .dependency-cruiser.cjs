// The import graph's rules, checked by `npm run lint` (dependency-cruiser).
// Tests are left out: a test imports its subject and infra/test-support,
// which imports the stacks, and that direction is the point of a test.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module reaches itself through its imports: move what both sides need into a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      comment:
        'Two folders import each other, through any of their modules: reading one means reading the other. ' +
        'Give what they share a folder of its own (as infra/lib/deployment-style does for the deployment styles).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '(^|/)cdk\\.out/', '(^|/)__tests__/', '(^|/)coverage/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
