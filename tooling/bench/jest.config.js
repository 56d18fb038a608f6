const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'bench', testTimeout: 60_000 });
