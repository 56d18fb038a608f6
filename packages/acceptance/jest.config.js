const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'acceptance', testTimeout: 30_000 });
