const { createJestConfig } = require('@conveyor/jest-config');

// A CDK app keeps its code in bin/, lib/ and config/ (the layout `cdk init` and the CDK docs use).
// Every core: the infra suite is the longest task of `turbo run test`, still running after the others end.
module.exports = createJestConfig({ name: 'infra', testTimeout: 120_000, roots: ['bin', 'lib', 'config'], maxWorkers: '100%' });
