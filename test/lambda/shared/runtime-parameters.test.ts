/**
 * The one set of rules for the runtime parameters: the kill switch is "true" or "false" exactly, the max notional a
 * USD amount, and every error names the parameter and shows the value. The SSM construct's allowedPattern is the same
 * text (test/lib/stages/data-stack.test.ts), so a value SSM stores is one the functions accept.
 */
import { ConfigurationError } from '../../../lambda/shared/errors';
import { parseRiskLimits, parseTradingEnabled, parseUsdAmount, TRADING_ENABLED_PATTERN, USD_AMOUNT_PATTERN } from '../../../lambda/shared/runtime-parameters';

const NAMES = { tradingEnabled: '/trading/t/orders/trading-enabled', maxOrderNotional: '/trading/t/orders/max-order-notional' };

describe('parseRiskLimits', () => {
  it('parses both parameters', () => {
    expect(parseRiskLimits(NAMES, { tradingEnabled: 'false', maxOrderNotional: '250000.50' })).toEqual({ tradingEnabled: false, maxOrderNotional: '250000.50' });
    expect(parseRiskLimits(NAMES, { tradingEnabled: 'true', maxOrderNotional: '0' })).toEqual({ tradingEnabled: true, maxOrderNotional: '0' });
  });

  it('names a parameter that has no value', () => {
    expect(() => parseRiskLimits(NAMES, { tradingEnabled: undefined, maxOrderNotional: '1' })).toThrow(
      new ConfigurationError('SSM parameter /trading/t/orders/trading-enabled has no value'),
    );
    expect(() => parseRiskLimits(NAMES, { tradingEnabled: 'true', maxOrderNotional: undefined })).toThrow(
      new ConfigurationError('SSM parameter /trading/t/orders/max-order-notional has no value'),
    );
  });
});

describe('parseTradingEnabled', () => {
  it.each(['yes', 'TRUE', 'True', ' true', 'false\n', '1', ''])('refuses %j, naming the parameter and showing the value', (value) => {
    expect(() => parseTradingEnabled(NAMES.tradingEnabled, value)).toThrow(
      new ConfigurationError(`SSM parameter ${NAMES.tradingEnabled} must be "true" or "false", got ${JSON.stringify(value)}`),
    );
  });
});

describe('parseUsdAmount', () => {
  it.each(['0', '0.5', '1', '250000.00', '9999999999999999.99'])('accepts %j', (value) => {
    expect(parseUsdAmount('SSM parameter max', value)).toBe(value);
  });

  it.each(['-5', '1e6', 'unlimited', '01', '1.', '.5', '1.234', '10000000000000000', ' 1', '1,000', ''])('refuses %j', (value) => {
    expect(() => parseUsdAmount('SSM parameter max', value)).toThrow(
      new ConfigurationError(`SSM parameter max must be a non-negative decimal string with at most 2 decimals, such as "250000.00", got ${JSON.stringify(value)}`),
    );
  });
});

it('publishes the patterns as SSM allowedPattern text (the same expressions the parsers run)', () => {
  expect(TRADING_ENABLED_PATTERN).toBe('^(true|false)$');
  expect(USD_AMOUNT_PATTERN).toBe('^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$');
});
