// Shared jest settings for every workspace that has tests.
//
// - TypeScript is transformed by SWC (@swc/jest): it strips types without
//   checking them (why, and how much faster than ts-jest: the root README,
//   "Choices worth knowing"). Type errors are the `typecheck` task's job.
// - Each workspace writes one JUnit XML file into <repo>/reports/junit, the
//   folder CodeBuild publishes as a test report (see buildspec.yml `reports:`).
const path = require('node:path');

/** The folder every workspace writes its JUnit file into. */
const JUNIT_DIR = path.resolve(__dirname, '..', '..', 'reports', 'junit');

/**
 * @param {{ name: string, testTimeout?: number, roots?: string[], maxWorkers?: number | string }} options
 *   name: file name of this workspace's JUnit report (without .xml).
 *   roots: folders holding code and tests, relative to the workspace (default: src).
 *   maxWorkers: test files run at once (default: jest's, one less than the cores,
 *   so one on a 2-core machine). A workspace whose suite outlasts the others in
 *   `turbo run test` sets '100%': once the shorter tasks are done, it has every core.
 * @returns {import('jest').Config}
 */
function createJestConfig({ name, testTimeout = 10_000, roots = ['src'], maxWorkers }) {
  return {
    testEnvironment: 'node',
    ...(maxWorkers === undefined ? {} : { maxWorkers }),
    roots: roots.map((root) => `<rootDir>/${root}`),
    testMatch: ['**/__tests__/**/*.test.ts'],
    transform: {
      '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
    },
    testTimeout,
    reporters: [
      'default',
      [
        'jest-junit',
        {
          outputDirectory: JUNIT_DIR,
          outputName: `${name}.xml`,
          suiteName: name,
          classNameTemplate: '{classname}',
          titleTemplate: '{title}',
          ancestorSeparator: ' › ',
          addFileAttribute: 'true',
        },
      ],
    ],
  };
}

module.exports = { createJestConfig, JUNIT_DIR };
