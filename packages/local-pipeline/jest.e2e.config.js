const { createJestConfig } = require('@conveyor/jest-config');

// End-to-end suites: each builds a real bundle and deploys it with the real
// hook scripts, pm2 and (for the CLI) the load balancer: minutes, not
// seconds. `npm test` (jest.config.js) leaves them out; they run as the
// `test:e2e` task, which CI runs (.ci/run) and the buildspec does not, so the
// rehearsal's own build does not rehearse itself.
const E2E_SUITES = [
  'src/codedeploy/__tests__/rehearsal.test.ts',
  'src/codedeploy/__tests__/hooks.test.ts',
  'src/codedeploy/__tests__/hardening.test.ts',
];

module.exports = {
  ...createJestConfig({ name: 'local-pipeline-e2e', testTimeout: 180_000 }),
  testMatch: E2E_SUITES.map((suite) => `<rootDir>/${suite}`),
};
