/**
 * Exact decimal arithmetic on decimal strings for the risk check and the configured limits: BigInt scaled integers,
 * never floats, so 0.1 x 3 is exactly 0.3 and a notional beyond 2^53 keeps every digit.
 */
import { ValidationError } from './errors';
import { safeText } from './schema-errors';

const DECIMAL_TEXT = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/** Far above any order value; bounds the BigInt work a malformed configuration value could cause. */
const MAX_DECIMAL_TEXT_LENGTH = 100;

interface ScaledDecimal {
  /** The value times 10^scale. */
  readonly units: bigint;
  readonly scale: number;
}

/** Whether `text` is a plain decimal string the helpers accept ("-12.50", "007" yes; "1e3", ".5", " 1" no). */
export function isDecimalString(text: string): boolean {
  return text.length <= MAX_DECIMAL_TEXT_LENGTH && DECIMAL_TEXT.test(text);
}

function toScaled(text: string, field: string): ScaledDecimal {
  const match = text.length <= MAX_DECIMAL_TEXT_LENGTH ? DECIMAL_TEXT.exec(text) : null;
  if (match === null) {
    throw new ValidationError(field, safeText(text), 'must be a plain decimal string such as "12.5" or "-3"');
  }
  // The sign and integer groups take part in every match (the sign as ""); only the fraction group can be absent.
  const [, sign, integer, fraction = ''] = match as unknown as readonly [string, string, string, string | undefined];
  const magnitude = BigInt(`${integer}${fraction}`);
  return { units: sign === '-' ? -magnitude : magnitude, scale: fraction.length };
}

/** Canonical text: no trailing fraction zeros, no "-0" (a BigInt has no negative zero), at least one integer digit. */
function fromScaled({ units, scale }: ScaledDecimal): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const integer = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const magnitude = fraction === '' ? integer : `${integer}.${fraction}`;
  return negative ? `-${magnitude}` : magnitude;
}

/** The exact product of two decimal strings, in canonical form ("0.1" x "3" = "0.3", "2.50" x "2" = "5"). */
export function multiplyDecimals(left: string, right: string): string {
  const a = toScaled(left, 'left operand');
  const b = toScaled(right, 'right operand');
  return fromScaled({ units: a.units * b.units, scale: a.scale + b.scale });
}

/**
 * quantity x price, exactly. For a LIMIT order pass its limitPrice; a MARKET order has none, so the risk check
 * must supply a reference price (or skip the notional limit) deliberately.
 */
export function notional(quantity: string, price: string): string {
  return multiplyDecimals(quantity, price);
}

/** -1, 0 or 1 as `left` is less than, equal to or greater than `right`; "1.50" and "1.5" are equal. */
export function compareDecimals(left: string, right: string): -1 | 0 | 1 {
  const a = toScaled(left, 'left operand');
  const b = toScaled(right, 'right operand');
  const scale = Math.max(a.scale, b.scale);
  const aligned = (decimal: ScaledDecimal): bigint => decimal.units * 10n ** BigInt(scale - decimal.scale);
  const difference = aligned(a) - aligned(b);
  if (difference < 0n) return -1;
  return difference > 0n ? 1 : 0;
}
