const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'fork', testTimeout: 60_000 });
