/**
 * The one order schema: API Gateway's request model (JSON Schema draft-04) and the order processor's runtime
 * validation are both derived from ORDER_SCHEMA, so the edge and the processor cannot disagree about an order.
 */
import { errorMessage, ValidationError } from './errors';
import { isJsonObject } from './json';

export const ORDER_SIDES = ['BUY', 'SELL'] as const;
export const ORDER_TYPES = ['MARKET', 'LIMIT'] as const;
export const TIME_IN_FORCE_VALUES = ['DAY', 'GTC', 'IOC', 'FOK'] as const;

export type OrderSide = (typeof ORDER_SIDES)[number];
export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCE_VALUES)[number];

interface OrderFields {
  /** The client's idempotency key; also the SQS MessageDeduplicationId. */
  readonly clientOrderId: string;
  /** Also the SQS FIFO MessageGroupId, so one account's orders are processed in order. */
  readonly accountId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  /** Decimal string exactly as the client sent it (e.g. "1.50"); never converted to a float. */
  readonly quantity: string;
  readonly timeInForce: TimeInForce;
}

export interface LimitOrder extends OrderFields {
  readonly type: 'LIMIT';
  /** Decimal string exactly as the client sent it. */
  readonly limitPrice: string;
}

export interface MarketOrder extends OrderFields {
  readonly type: 'MARKET';
  readonly limitPrice?: undefined;
}

/** An order that passed ORDER_SCHEMA; narrowing on `type` tells whether `limitPrice` is there. */
export type ValidatedOrder = LimitOrder | MarketOrder;

type OrderField = keyof OrderFields | 'type' | 'limitPrice';

/**
 * The draft-04 keywords that both API Gateway and `interpret` below implement. Typing the schema with it means a
 * keyword one side would ignore (format, minimum, $ref, ...) cannot be added without a compile error here.
 */
export interface JsonSchemaDraft04 {
  readonly $schema?: string;
  readonly title?: string;
  /** Annotation only for API Gateway; the runtime validator also puts it into its error messages. */
  readonly description?: string;
  readonly type?: 'object' | 'string';
  readonly properties?: { readonly [name: string]: JsonSchemaDraft04 };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly enum?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly not?: JsonSchemaDraft04;
  readonly oneOf?: readonly JsonSchemaDraft04[];
  readonly anyOf?: readonly JsonSchemaDraft04[];
}

const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

/** Matches NUMERIC(20,8) in the orders table: a ninth decimal would be rounded silently by the cast. */
const DECIMAL_INTEGER_DIGITS = 12;
const DECIMAL_FRACTION_DIGITS = 8;

/** A-Z a-z 0-9 _ - is a strict subset of what SQS allows in MessageGroupId and MessageDeduplicationId (128 chars). */
const identifierSchema = (purpose: string): JsonSchemaDraft04 => ({
  type: 'string',
  description: `1-64 characters of A-Z, a-z, 0-9, _ and - (${purpose})`,
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_-]+$',
});

/**
 * Canonical positive decimals only: no sign, exponent, hex, whitespace, leading zeros or bare dots, so that the
 * string a client sends is exactly the number PostgreSQL stores. "> 0" is a `not` because draft-04 has no
 * numeric range for strings.
 */
const positiveDecimalSchema = (): JsonSchemaDraft04 => ({
  type: 'string',
  description:
    `a positive decimal string with at most ${DECIMAL_INTEGER_DIGITS} integer digits and ` +
    `${DECIMAL_FRACTION_DIGITS} decimals, without sign, exponent or leading zeros, e.g. "100.25"`,
  minLength: 1,
  maxLength: DECIMAL_INTEGER_DIGITS + 1 + DECIMAL_FRACTION_DIGITS,
  pattern: `^(0|[1-9][0-9]{0,${DECIMAL_INTEGER_DIGITS - 1}})(\\.[0-9]{1,${DECIMAL_FRACTION_DIGITS}})?$`,
  not: { description: 'zero', pattern: '^0(\\.0+)?$' },
});

const enumSchema = (values: readonly string[]): JsonSchemaDraft04 => ({ type: 'string', enum: values });

const orderProperties: { readonly [K in OrderField]: JsonSchemaDraft04 } = {
  clientOrderId: identifierSchema("the client's idempotency key"),
  accountId: identifierSchema('the account'),
  // Dots only between letters/digits: "BRK.B" yes, ".", "A." or "A..B" no.
  symbol: {
    type: 'string',
    description: '1-12 uppercase letters, digits and single inner dots, e.g. "AAPL" or "BRK.B"',
    minLength: 1,
    maxLength: 12,
    pattern: '^[A-Z0-9]+(\\.[A-Z0-9]+)*$',
  },
  side: enumSchema(ORDER_SIDES),
  type: enumSchema(ORDER_TYPES),
  quantity: positiveDecimalSchema(),
  limitPrice: positiveDecimalSchema(),
  timeInForce: enumSchema(TIME_IN_FORCE_VALUES),
};

/**
 * Source of truth for an order. The LIMIT/MARKET rule is a `oneOf` discriminated by `type` (draft-04 has no
 * if/then) so that API Gateway rejects a priceless LIMIT order at the edge instead of the processor later.
 */
const ORDER_SCHEMA: JsonSchemaDraft04 = deepFreeze({
  $schema: DRAFT_04,
  title: 'OrderRequest',
  description: 'an order for POST /v1/orders; quantity and limitPrice are decimal strings, never JSON numbers',
  type: 'object',
  properties: orderProperties,
  required: ['clientOrderId', 'accountId', 'symbol', 'side', 'type', 'quantity', 'timeInForce'],
  additionalProperties: false,
  oneOf: [
    {
      description: 'type is LIMIT',
      type: 'object',
      properties: { type: { enum: ['LIMIT'] } },
      required: ['limitPrice'],
    },
    {
      description: 'type is MARKET',
      type: 'object',
      properties: { type: { enum: ['MARKET'] } },
      not: { description: 'present', required: ['limitPrice'] },
    },
  ],
});

/** The request model for `apigateway.Model`: a fresh copy, so a caller's mutation cannot reach the validator. */
export function orderRequestJsonSchema(): JsonSchemaDraft04 {
  return structuredClone(ORDER_SCHEMA);
}

export type OrderValidationResult =
  | { readonly ok: true; readonly order: ValidatedOrder }
  | { readonly ok: false; readonly error: ValidationError };

/**
 * Checks `input` (an already JSON-parsed body) against ORDER_SCHEMA and reports the first violation. The error's
 * `field` and `value` are display-safe: truncated and with anything but printable ASCII shown as <U+XXXX>.
 */
export function validateOrder(input: unknown): OrderValidationResult {
  const issue = interpret(ORDER_SCHEMA, input, ROOT_FIELD);
  if (issue !== undefined) {
    return { ok: false, error: new ValidationError(safeText(issue.field), safeValue(issue.value), issue.reason) };
  }
  if (!isJsonObject(input)) {
    // Unreachable while ORDER_SCHEMA says `type: object`; kept so that the narrowing needs no cast.
    return { ok: false, error: new ValidationError(ROOT_FIELD, safeValue(input), 'must be a JSON object') };
  }
  return toValidatedOrder(input);
}

/** Like validateOrder, but throws the ValidationError: for callers whose error mapping is a catch. */
export function parseOrder(input: unknown): ValidatedOrder {
  const result = validateOrder(input);
  if (!result.ok) throw result.error;
  return result.order;
}

/**
 * Parses a raw body (an SQS message body) and validates it. With duplicate keys JSON.parse keeps the last one,
 * which is then the value validated and used, whatever API Gateway's parser looked at.
 */
export function parseOrderJson(body: string): ValidatedOrder {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (err) {
    throw new ValidationError(ROOT_FIELD, safeValue(body), `is not valid JSON: ${errorMessage(err)}`);
  }
  return parseOrder(input);
}

// ---------------------------------------------------------------------------------------------------------------
// The interpreter: draft-04 semantics for the keywords in JsonSchemaDraft04, first violation only.

/** The field name reported for problems with the body as a whole. */
const ROOT_FIELD = 'order';

interface Issue {
  readonly field: string;
  readonly value: unknown;
  readonly reason: string;
}

/**
 * Keyword order decides which problem is reported first: the type, then cheap bounds before the pattern (a 1 MB
 * string is reported as too long, not as a pattern mismatch), then the object's own fields, then the cross-field
 * combinators, which only make sense once every field is individually valid.
 */
function interpret(schema: JsonSchemaDraft04, value: unknown, field: string): Issue | undefined {
  if (schema.type !== undefined && jsonType(value) !== schema.type) {
    const expected = schema.description === undefined ? '' : ` (${schema.description})`;
    return { field, value, reason: `must be a JSON ${schema.type}${expected}, not ${withArticle(jsonType(value))}` };
  }
  if (schema.enum !== undefined && !schema.enum.some((allowed) => allowed === value)) {
    return { field, value, reason: `must be one of ${schema.enum.join(', ')}` };
  }
  if (typeof value === 'string') {
    const issue = stringIssue(schema, value, field);
    if (issue !== undefined) return issue;
  }
  if (isJsonObject(value)) {
    const issue = objectIssue(schema, value, field);
    if (issue !== undefined) return issue;
  }
  if (schema.not !== undefined && interpret(schema.not, value, field) === undefined) {
    return notIssue(schema.not, value, field);
  }
  if (schema.oneOf !== undefined) {
    const issue = combinatorIssue(schema.oneOf, 'oneOf', value, field);
    if (issue !== undefined) return issue;
  }
  if (schema.anyOf !== undefined) {
    const issue = combinatorIssue(schema.anyOf, 'anyOf', value, field);
    if (issue !== undefined) return issue;
  }
  return undefined;
}

function stringIssue(schema: JsonSchemaDraft04, value: string, field: string): Issue | undefined {
  const expected = schema.description ?? `a string matching ${schema.pattern ?? 'the schema'}`;
  // JSON Schema counts code points, not UTF-16 units; the bound stops counting early on a huge string.
  if (schema.maxLength !== undefined && codePointsUpTo(value, schema.maxLength + 1) > schema.maxLength) {
    return { field, value, reason: `must be at most ${schema.maxLength} characters long` };
  }
  if (schema.minLength !== undefined && codePointsUpTo(value, schema.minLength) < schema.minLength) {
    return { field, value, reason: `must be at least ${schema.minLength} characters long` };
  }
  // The `u` flag is what ajv (and so the parity tests) uses; patterns are ASCII-only, so it only matters for `.`.
  if (schema.pattern !== undefined && !compiledPattern(schema.pattern).test(value)) {
    return { field, value, reason: `must be ${expected}` };
  }
  return undefined;
}

function objectIssue(
  schema: JsonSchemaDraft04,
  value: Readonly<Record<string, unknown>>,
  field: string,
): Issue | undefined {
  const properties = schema.properties ?? {};
  // Own keys only, on both sides: "constructor" or "__proto__" in a body must not find Object.prototype's members.
  for (const [name, propertySchema] of Object.entries(properties)) {
    const childField = childPath(field, name);
    if (Object.hasOwn(value, name)) {
      const issue = interpret(propertySchema, value[name], childField);
      if (issue !== undefined) return issue;
    } else if (schema.required?.includes(name) === true) {
      return { field: childField, value: undefined, reason: 'is required' };
    }
  }
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) return { field: childPath(field, name), value: undefined, reason: 'is required' };
  }
  if (schema.additionalProperties === false) {
    const unknown = Object.keys(value).find((name) => !Object.hasOwn(properties, name));
    if (unknown !== undefined) {
      return {
        field: childPath(field, unknown),
        value: value[unknown],
        reason: `is not an allowed field (allowed: ${Object.keys(properties).join(', ')})`,
      };
    }
  }
  return undefined;
}

/** A `not` over `required` names the field that must be absent; any other `not` blames the value itself. */
function notIssue(notSchema: JsonSchemaDraft04, value: unknown, field: string): Issue {
  const reason = `must not be ${notSchema.description ?? `valid against ${JSON.stringify(notSchema)}`}`;
  const forbidden = isJsonObject(value) ? notSchema.required?.find((name) => Object.hasOwn(value, name)) : undefined;
  if (forbidden !== undefined && isJsonObject(value)) {
    return { field: childPath(field, forbidden), value: value[forbidden], reason };
  }
  return { field, value, reason };
}

/**
 * For a failed oneOf/anyOf, the useful error is the one from the branch the value was aiming at: the branch whose
 * own `properties` (the discriminator, e.g. `type: LIMIT`) it satisfies. Its description says which case it was.
 */
function combinatorIssue(
  branches: readonly JsonSchemaDraft04[],
  keyword: 'oneOf' | 'anyOf',
  value: unknown,
  field: string,
): Issue | undefined {
  const outcomes = branches.map((branch) => ({ branch, issue: interpret(branch, value, field) }));
  const passed = outcomes.filter((outcome) => outcome.issue === undefined).length;
  if (keyword === 'anyOf' ? passed >= 1 : passed === 1) return undefined;

  const cases = branches.map((branch, index) => branch.description ?? `case ${index + 1}`).join('; ');
  if (passed > 1) return { field, value, reason: `matches more than one of: ${cases}` };

  const aimedAt = outcomes.filter(
    ({ branch }) => interpret({ properties: branch.properties ?? {} }, value, field) === undefined,
  );
  const only = aimedAt.length === 1 ? aimedAt[0] : undefined;
  if (only?.issue !== undefined) {
    const when = only.branch.description === undefined ? '' : ` when ${only.branch.description}`;
    return { ...only.issue, reason: `${only.issue.reason}${when}` };
  }
  return { field, value, reason: `must match ${keyword === 'oneOf' ? 'exactly' : 'at least'} one of: ${cases}` };
}

type JsonTypeName = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'undefined' | 'non-JSON value';

function jsonType(value: unknown): JsonTypeName {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'object' || type === 'string' || type === 'number' || type === 'boolean' || type === 'undefined') {
    return type;
  }
  return 'non-JSON value';
}

function withArticle(typeName: JsonTypeName): string {
  if (typeName === 'null' || typeName === 'undefined') return typeName;
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}

function childPath(parent: string, name: string): string {
  return parent === ROOT_FIELD ? name : `${parent}.${name}`;
}

const patternCache = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let compiled = patternCache.get(pattern);
  if (compiled === undefined) {
    compiled = new RegExp(pattern, 'u');
    patternCache.set(pattern, compiled);
  }
  return compiled;
}

/** min(code points in `text`, cap): a hostile 1 MB string costs no more than a short one. */
function codePointsUpTo(text: string, cap: number): number {
  // Every code point is one or two UTF-16 units, so twice the cap in units is always at least `cap` code points.
  if (text.length >= 2 * cap) return cap;
  const codePoints = text[Symbol.iterator]();
  let count = 0;
  while (count < cap && codePoints.next().done !== true) count += 1;
  return count;
}

function toValidatedOrder(input: Readonly<Record<string, unknown>>): OrderValidationResult {
  const fields: OrderFields = {
    clientOrderId: readString(input, 'clientOrderId'),
    accountId: readString(input, 'accountId'),
    symbol: readString(input, 'symbol'),
    side: readMember(input, 'side', ORDER_SIDES),
    quantity: readString(input, 'quantity'),
    timeInForce: readMember(input, 'timeInForce', TIME_IN_FORCE_VALUES),
  };
  const type = readMember(input, 'type', ORDER_TYPES);
  // A fresh object holding only known fields: nothing of the input (or its prototype) travels further.
  const order: ValidatedOrder =
    type === 'LIMIT'
      ? { ...fields, type, limitPrice: readString(input, 'limitPrice') }
      : { ...fields, type };
  return { ok: true, order: Object.freeze(order) };
}

/** Only fails if ORDER_SCHEMA and ValidatedOrder disagree: the schema just accepted `input`. */
function readString(input: Readonly<Record<string, unknown>>, field: OrderField): string {
  const value = Object.hasOwn(input, field) ? input[field] : undefined;
  if (typeof value !== 'string') {
    throw new ValidationError(field, safeValue(value), 'passed the order schema but is not a string (schema bug)');
  }
  return value;
}

function readMember<T extends string>(
  input: Readonly<Record<string, unknown>>,
  field: OrderField,
  allowed: readonly T[],
): T {
  const value = Object.hasOwn(input, field) ? input[field] : undefined;
  const member = allowed.find((candidate) => candidate === value);
  if (member === undefined) {
    const reason = `passed the order schema but is not one of ${allowed.join(', ')} (schema bug)`;
    throw new ValidationError(field, safeValue(value), reason);
  }
  return member;
}

// ---------------------------------------------------------------------------------------------------------------
// Display safety for rejected input, which ends up in logs, events and the orders table's reject_reason.

const PREVIEW_LENGTH = 64;

/**
 * Truncates to about PREVIEW_LENGTH and shows every character outside printable ASCII as <U+XXXX>, so that a zero-width
 * space, an RTL override or a Cyrillic "А" posing as a Latin "A" is visible in a log line instead of fooling the
 * reader. Clean short strings come back unchanged.
 */
function safeText(text: string): string {
  let shown = '';
  for (const char of text) {
    // Bounded by output length, so a string of escaped characters cannot grow eightfold.
    if (shown.length >= PREVIEW_LENGTH) return `${shown}…`;
    const codePoint = char.codePointAt(0) ?? 0;
    shown +=
      codePoint >= 0x20 && codePoint <= 0x7e
        ? char
        : `<U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}>`;
  }
  return shown;
}

/** Strings via safeText; objects and arrays as truncated JSON text, so no huge or hostile structure is retained. */
function safeValue(value: unknown): unknown {
  if (typeof value === 'string') return safeText(value);
  if (typeof value === 'object' && value !== null) {
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch {
      text = Array.isArray(value) ? `array of ${value.length}` : 'object';
    }
    return safeText(text);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return value;
  return safeText(String(value));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Exact decimal arithmetic for the risk check. BigInt scaled integers, never floats: 0.1 x 3 is exactly 0.3.

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
    throw new ValidationError(field, safeValue(text), 'must be a plain decimal string such as "12.5" or "-3"');
  }
  const [, sign = '', integer = '', fraction = ''] = match;
  const magnitude = BigInt(`${integer}${fraction}`);
  return { units: sign === '-' ? -magnitude : magnitude, scale: fraction.length };
}

/** Canonical text: no trailing fraction zeros, no "-0", at least one integer digit. */
function fromScaled({ units, scale }: ScaledDecimal): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const integer = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  const magnitude = fraction === '' ? integer : `${integer}.${fraction}`;
  return negative && magnitude !== '0' ? `-${magnitude}` : magnitude;
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
