/**
 * Jest configuration for mutation testing (`npm run test:mutation`, StrykerJS): the focused tests of the mutated
 * modules, as one project WITHOUT globalSetup. Stryker reruns the tests covering a mutant for every mutant, so the
 * slow fault files (outages, deadlines: seconds each) stay out: they test other modules' handling of faults, and with
 * them one module took 40 s per mutant. scripts/mutation.ts starts PostgreSQL and moto once for the
 * whole Stryker run (the endpoints reach every Stryker worker through the inherited environment), so each of the
 * hundreds of mutant runs does not start servers of its own.
 */
const base = require('./jest.config.js');
const handlers = base.projects.find((project) => project.displayName === 'handlers');

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: base.testTimeout,
  testEnvironment: handlers.testEnvironment,
  transform: handlers.transform,
  rootDir: __dirname,
  roots: ['<rootDir>/test/lambda', '<rootDir>/test/scripts'],
  testMatch: [
    '<rootDir>/test/lambda/order-processor/decide.test.ts',
    '<rootDir>/test/lambda/order-processor/decide-boundaries.test.ts',
    '<rootDir>/test/lambda/order-processor/process-batch.test.ts',
    // The order schema module: the schema, the validation around the generated validator, its messages, decimals.
    '<rootDir>/test/lambda/shared/order-schema.test.ts',
    '<rootDir>/test/lambda/shared/schema-errors.test.ts',
    '<rootDir>/test/lambda/shared/decimal.test.ts',
    // The committed validator is what the schema generates: the one test that sees a change to the schema's text.
    '<rootDir>/test/scripts/generate-validators.test.ts',
    '<rootDir>/test/lambda/shared/retry.test.ts',
  ],
};
