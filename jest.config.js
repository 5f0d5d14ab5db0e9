/**
 * Jest configuration: TypeScript through ts-jest (type-checking is done once by `tsc --noEmit` in `npm test`,
 * so ts-jest only transpiles), in two projects:
 * - `infrastructure` (test/lib, test/scripts, test/bench): synthesized templates, scripts and docs; needs no service.
 * - `handlers` (test/lambda, test/support): the Lambda code against one real PostgreSQL and one moto_server, which
 *   this project's globalSetup starts. Jest runs a project's globalSetup only when a test of that project is
 *   selected, so `npx jest test/lib` starts nothing.
 * Every file passes with any worker count: no test stops a server another file uses (outage tests start their own).
 */
const transform = { '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }] };
const shared = { testEnvironment: 'node', transform, testMatch: ['**/*.test.ts'] };

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  projects: [
    {
      ...shared,
      displayName: 'infrastructure',
      roots: ['<rootDir>/test/lib', '<rootDir>/test/scripts', '<rootDir>/test/bench'],
    },
    {
      ...shared,
      displayName: 'handlers',
      roots: ['<rootDir>/test/lambda', '<rootDir>/test/support'],
      globalSetup: '<rootDir>/test/support/services/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/services/global-teardown.ts',
    },
  ],
  reporters: [
    'default',
    '<rootDir>/test/support/summary-reporter.js',
    // JUnit XML for the pull-request check's CodeBuild report group (and any CI that reads it).
    ['jest-junit', { outputDirectory: process.env.JEST_JUNIT_OUTPUT_DIR ?? 'reports/junit', outputName: 'jest.xml' }],
  ],
};
