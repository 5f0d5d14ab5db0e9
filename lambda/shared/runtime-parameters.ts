/**
 * The one set of rules for the runtime parameters (the trading kill switch and the max order notional in SSM): the
 * CDK construct sets them as each parameter's allowedPattern, and every function that reads the values (the order
 * processor, the health check) parses them here, so what SSM stores and what the functions accept cannot drift apart.
 */
import { ConfigurationError, describeValue } from './errors';

/** The runtime risk settings, parsed. */
export interface RiskLimits {
  /** The kill switch: false rejects every order. */
  readonly tradingEnabled: boolean;
  /** Largest allowed quantity x limitPrice, decimal string (USD). */
  readonly maxOrderNotional: string;
}

/** The kill switch's values: exactly "true" or "false". */
export const TRADING_ENABLED_PATTERN = '^(true|false)$';

/** A USD amount: no sign, no exponent, at most 16 integer digits without leading zeros, at most 2 decimals. */
export const USD_AMOUNT_PATTERN = '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$';

const TRADING_ENABLED = new RegExp(TRADING_ENABLED_PATTERN, 'u');
const USD_AMOUNT = new RegExp(USD_AMOUNT_PATTERN, 'u');

/** The SSM names of the two parameters (`/trading/{suffix}/orders/...`). */
export interface RiskLimitParameterNames {
  readonly tradingEnabled: string;
  readonly maxOrderNotional: string;
}

/** The values read for the two parameters; undefined for one that has none. */
export type RiskLimitValues = { readonly [Parameter in keyof RiskLimitParameterNames]: string | undefined };

/**
 * Both parameters, read from SSM under `names`. A missing or malformed value is a ConfigurationError naming the
 * parameter and showing the value: orders are never decided against a guessed limit.
 */
export function parseRiskLimits(names: RiskLimitParameterNames, values: RiskLimitValues): RiskLimits {
  return {
    tradingEnabled: parseTradingEnabled(names.tradingEnabled, values.tradingEnabled),
    maxOrderNotional: parseUsdAmount(`SSM parameter ${names.maxOrderNotional}`, present(names.maxOrderNotional, values.maxOrderNotional)),
  };
}

/** The kill switch parameter `name`: "true" or "false" and nothing else, not even with surrounding blanks. */
export function parseTradingEnabled(name: string, value: string | undefined): boolean {
  const text = present(name, value);
  if (!TRADING_ENABLED.test(text)) throw new ConfigurationError(`SSM parameter ${name} must be "true" or "false", got ${describeValue(text)}`);
  return text === 'true';
}

/**
 * A USD amount (USD_AMOUNT_PATTERN), for the max order notional and for the large-notional threshold the processor
 * gets from its environment; `what` names where the value came from ("SSM parameter /trading/...").
 */
export function parseUsdAmount(what: string, value: string): string {
  if (!USD_AMOUNT.test(value)) {
    throw new ConfigurationError(`${what} must be a non-negative decimal string with at most 2 decimals, such as "250000.00", got ${describeValue(value)}`);
  }
  return value;
}

function present(name: string, value: string | undefined): string {
  if (value === undefined) throw new ConfigurationError(`SSM parameter ${name} has no value`);
  return value;
}
