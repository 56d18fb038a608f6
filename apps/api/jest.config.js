const { createJestConfig } = require('@conveyor/jest-config');

// Shutdown tests start real processes, so allow them more than the default.
module.exports = createJestConfig({ name: 'api', testTimeout: 30_000 });
