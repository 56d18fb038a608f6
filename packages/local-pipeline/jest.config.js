const { createJestConfig } = require('@conveyor/jest-config');

// The rehearsal tests run real builds, real hooks and real pm2 processes.
module.exports = createJestConfig({ name: 'local-pipeline', testTimeout: 180_000 });
