const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'docs-check', testTimeout: 60_000 });
