/**
 * Typed environment parsing: required, integer and boolean variables, each failing with the variable's name
 * and the bad value. Sources are literals, so process.env is never touched.
 */
import { boolEnv, intEnv, optionalEnv, requireEnv } from '../../../lambda/shared/env';
import { ConfigurationError } from '../../../lambda/shared/errors';

describe('requireEnv / optionalEnv', () => {
  it('returns a set value', () => {
    expect(requireEnv('DB_SECRET_ARN', { DB_SECRET_ARN: 'arn:x' })).toBe('arn:x');
    expect(optionalEnv('DB_HOST', { DB_HOST: 'writer' })).toBe('writer');
  });

  it('treats empty like unset, and says which it was', () => {
    expect(optionalEnv('DB_HOST', { DB_HOST: '  ' })).toBeUndefined();
    expect(() => requireEnv('DB_SECRET_ARN', {})).toThrow(new ConfigurationError('Environment variable DB_SECRET_ARN is required but not set'));
    expect(() => requireEnv('DB_SECRET_ARN', { DB_SECRET_ARN: '' })).toThrow(/DB_SECRET_ARN is required but empty/);
  });
});

describe('intEnv', () => {
  it('parses integers and applies the default only when unset', () => {
    expect(intEnv('MAX', 5, { source: { MAX: '42' } })).toBe(42);
    expect(intEnv('MAX', 5, { source: { MAX: '-3' } })).toBe(-3);
    expect(intEnv('MAX', 5, { source: {} })).toBe(5);
    expect(intEnv('MAX', 5, { source: { MAX: '' } })).toBe(5);
  });

  it.each(['12abc', '1.5', '1e3', 'ten', '0x10', '99999999999999999999'])('rejects %p naming the variable and value', (raw) => {
    expect(() => intEnv('POOL_MAX', 2, { source: { POOL_MAX: raw } })).toThrow(
      new ConfigurationError(`Environment variable POOL_MAX must be an integer, got ${JSON.stringify(raw)}`),
    );
  });

  it('enforces bounds, and requires the variable when there is no default', () => {
    expect(() => intEnv('DB_PORT', undefined, { min: 1, max: 65535, source: { DB_PORT: '70000' } })).toThrow(
      /DB_PORT must be between 1 and 65535, got 70000/,
    );
    expect(() => intEnv('DB_PORT', undefined, { source: {} })).toThrow(/DB_PORT is required/);
  });
});

describe('boolEnv', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['Off', false],
  ])('parses %p as %p', (raw, expected) => {
    expect(boolEnv('TRADING_ENABLED', undefined, { TRADING_ENABLED: raw })).toBe(expected);
  });

  it('uses the default when unset and rejects anything else', () => {
    expect(boolEnv('DB_SSL', true, {})).toBe(true);
    expect(() => boolEnv('DB_SSL', true, { DB_SSL: 'ture' })).toThrow(/DB_SSL must be true or false, got "ture"/);
    expect(() => boolEnv('DB_SSL', undefined, {})).toThrow(/DB_SSL is required/);
  });
});
