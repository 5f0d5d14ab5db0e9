/**
 * Jest configuration: TypeScript through ts-jest (type-checking is done once by `tsc --noEmit` in `npm test`,
 * so ts-jest only transpiles), in two projects:
 * - `infrastructure` (test/lib, test/scripts, test/bench): synthesized templates, scripts and docs; needs no service.
 * - `handlers` (test/lambda, test/support): the Lambda code against one real PostgreSQL and one moto_server, which
 *   this project's globalSetup starts. Jest runs a project's globalSetup only when a test of that project is
 *   selected, so `npx jest test/lib` starts nothing.
 * Every file passes with any worker count: no test stops a server another file uses (outage tests start their own).
 */
// The functions run on Node.js 24 in Lambda; the tests may run on Node 20 (README, prerequisites), on which the AWS
// SDK warns that its releases from 2027 need Node 22: 8 lines once per test file, since each file loads the SDK
// afresh, 22 times in the handler tests alone. Set here, it is off for every run that loads this config (npm test,
// npx jest <path>), workers included; the README states the fact once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
