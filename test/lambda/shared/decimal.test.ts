/**
 * The exact decimal helpers of the risk check and the configured limits: products and comparisons on decimal strings
 * with every digit kept, and a clear refusal of anything that is not a plain decimal string.
 */
import { ValidationError } from '../../../lambda/shared/errors';
import { compareDecimals, isDecimalString, multiplyDecimals, notional } from '../../../lambda/shared/decimal';

describe('decimal helpers', () => {
  it.each([
    ['0.1', '3', '0.3'],
    ['0.1', '0.2', '0.02'],
    ['2.50', '2', '5'],
    ['100', '187.25', '18725'],
    ['0.00000001', '0.00000001', '0.0000000000000001'],
    ['1.5', '0', '0'],
    ['-2', '0.5', '-1'],
    ['-0.5', '0', '0'],
    ['007', '1.10', '7.7'],
    ['-0.05', '1', '-0.05'],
    ['-0.001', '-0.5', '0.0005'],
  ])('%s x %s = %s exactly', (left, right, product) => {
    expect(multiplyDecimals(left, right)).toBe(product);
    expect(notional(left, right)).toBe(product);
  });

  it('computes the largest possible notional exactly, beyond what a float can hold', () => {
    // (10^12 - 10^-8)^2 = 10^24 - 2 * 10^4 + 10^-16
    expect(notional('999999999999.99999999', '999999999999.99999999')).toBe('999999999999999999980000.0000000000000001');
  });

  it.each([
    ['1', '2', -1],
    ['2', '1', 1],
    ['1.50', '1.5', 0],
    ['0.3', '0.30000000000000004', -1],
    ['1000000', '999999.99999999', 1],
    ['-1', '0', -1],
    ['-0', '0', 0],
    ['123456789012345678901234567890', '123456789012345678901234567891', -1],
  ] as const)('compareDecimals(%s, %s) = %d', (left, right, expected) => {
    expect(compareDecimals(left, right)).toBe(expected);
  });

  it('compares a notional against a limit exactly at the boundary', () => {
    expect(compareDecimals(notional('3', '0.1'), '0.3')).toBe(0);
    expect(compareDecimals(notional('1000', '1000.00000001'), '1000000')).toBe(1);
  });

  it.each(['1e3', '.5', '5.', '+5', ' 5', '0x10', '', 'NaN', '１', '1'.repeat(101)])('refuses %p', (text) => {
    expect(isDecimalString(text)).toBe(false);
    expect(() => multiplyDecimals(text, '1')).toThrow(ValidationError);
    expect(() => compareDecimals('1', text)).toThrow(ValidationError);
  });

  it.each([
    ['0', '0'],
    ['-12.50', '-12.5'],
    ['007', '7'],
    ['187.25', '187.25'],
    ['1'.repeat(100), '1'.repeat(100)],
    [`0.${'9'.repeat(98)}`, `0.${'9'.repeat(98)}`],
  ])('accepts %p, up to 100 characters (times 1: %p)', (text, canonical) => {
    expect(isDecimalString(text)).toBe(true);
    expect(compareDecimals(text, text)).toBe(0);
    expect(multiplyDecimals(text, '1')).toBe(canonical);
  });

  it('names the operand it refuses, with its value', () => {
    const refusal = (action: () => unknown): Pick<ValidationError, 'field' | 'value'> => {
      try {
        action();
      } catch (err) {
        if (err instanceof ValidationError) return { field: err.field, value: err.value };
        throw err;
      }
      throw new Error('nothing was refused');
    };
    expect(refusal(() => multiplyDecimals('1e3', '1'))).toEqual({ field: 'left operand', value: '1e3' });
    expect(refusal(() => multiplyDecimals('1', '.5'))).toEqual({ field: 'right operand', value: '.5' });
    expect(refusal(() => compareDecimals('+5', '1'))).toEqual({ field: 'left operand', value: '+5' });
    expect(refusal(() => compareDecimals('1', '5.'))).toEqual({ field: 'right operand', value: '5.' });
  });
});
