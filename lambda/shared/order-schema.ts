/**
 * The one order schema: API Gateway's request model (JSON Schema draft-04) and the order processor's validator (compiled
 * from it ahead of time by ajv, see scripts/generate-validators.ts) both come from ORDER_SCHEMA, so the edge and the
 * processor cannot disagree about an order. Data only: this module must load without the generated validator.
 */

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
 * The draft-04 keywords that API Gateway implements and that schema-errors.ts turns into messages. Typing the schema
 * with it means a keyword either would ignore or word poorly (format, minimum, $ref, ...) cannot be added without a
 * compile error here.
 */
export interface JsonSchemaDraft04 {
  readonly $schema?: string;
  readonly title?: string;
  /** Annotation only for API Gateway; the processor's error messages quote it (schema-errors.ts). */
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
 * if/then) so that API Gateway rejects a priceless LIMIT order at the edge instead of the processor later. Not exported:
 * every reader gets its own copy (orderRequestJsonSchema), so no caller can change what another one sees.
 */
const ORDER_SCHEMA: JsonSchemaDraft04 = {
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
};

/**
 * The schema as a fresh copy: API Gateway's request model, the validator generator's input and order-records' identifier
 * rules. A copy, so that one caller's mutation cannot reach another.
 */
export function orderRequestJsonSchema(): JsonSchemaDraft04 {
  return structuredClone(ORDER_SCHEMA);
}

