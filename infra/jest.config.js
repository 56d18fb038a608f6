const { createJestConfig } = require('@conveyor/jest-config');

// The shared preset looks for tests under src/; a CDK app keeps its code in
// bin/, lib/ and config/ (the layout `cdk init` and the CDK docs use).
module.exports = {
  ...createJestConfig({ name: 'infra', testTimeout: 120_000 }),
  roots: ['<rootDir>/bin', '<rootDir>/lib', '<rootDir>/config'],
};
