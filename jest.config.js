/**
 * Jest configuration: TypeScript through ts-jest (type-checking is done once by `tsc --noEmit` in `npm test`,
 * so ts-jest only transpiles), and one PostgreSQL + one moto_server started for the whole run.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  globalSetup: '<rootDir>/test/support/services/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/services/global-teardown.ts',
  testTimeout: 120000,
  reporters: [
    'default',
    '<rootDir>/test/support/summary-reporter.js',
    // JUnit XML for the pull-request check's CodeBuild report group (and any CI that reads it).
    ['jest-junit', { outputDirectory: process.env.JEST_JUNIT_OUTPUT_DIR ?? 'reports/junit', outputName: 'jest.xml' }],
  ],
};
