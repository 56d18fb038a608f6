const { createJestConfig } = require('@conveyor/jest-config');

// Reliability drills (`npm run drills`): real pm2 clusters, real deployments,
// real mounts; minutes, not seconds, so `npm test` (jest.config.js, *.test.ts)
// never picks them up. One at a time: each one loads the machine on purpose.
const base = createJestConfig({ name: 'drills', testTimeout: 240_000 });

module.exports = {
  ...base,
  testMatch: ['**/__tests__/**/*.drill.ts'],
  maxWorkers: 1,
  // Which drill runs, and how long each took (drill-progress-reporter.js).
  reporters: [...base.reporters, '<rootDir>/drill-progress-reporter.js'],
};
