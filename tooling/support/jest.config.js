const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'tooling-support', testTimeout: 30_000 });
