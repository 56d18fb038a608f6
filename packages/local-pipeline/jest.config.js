const { createJestConfig } = require('@conveyor/jest-config');

const e2e = require('./jest.e2e.config.js');

// The build emulator, the appspec reader and the revision contract: real git,
// bash and small fixture repos, seconds each. The end-to-end deployment suites
// are jest.e2e.config.js's (`npm run test:e2e`).
module.exports = {
  ...createJestConfig({ name: 'local-pipeline', testTimeout: 180_000 }),
  testPathIgnorePatterns: ['/node_modules/', ...e2e.testMatch.map((glob) => glob.replace('<rootDir>/', '/').replace(/[.]/g, '\\.'))],
};
