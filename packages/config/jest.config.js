const { createJestConfig } = require('@conveyor/jest-config');

module.exports = createJestConfig({ name: 'config' });
