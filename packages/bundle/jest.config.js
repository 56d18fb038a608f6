const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'bundle', testTimeout: 120_000 });
