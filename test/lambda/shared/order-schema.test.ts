/**
 * The order schema: every body is judged by the processor's validator (the committed standalone code plus its error
 * messages) and by a draft-04 validator compiled here, with ajv's defaults, from the model API Gateway gets; the two
 * must agree, and each rejection must name the field and show the value display-safe.
 */
import Ajv04 from 'ajv-draft-04';
import { ValidationError } from '../../../lambda/shared/errors';
import { orderRequestJsonSchema, type JsonSchemaDraft04, type ValidatedOrder } from '../../../lambda/shared/order-schema';
import { parseMessage } from '../../../lambda/order-processor/decide';
import { parseOrder, validateOrder } from '../../../lambda/shared/order-validation';
import { sqsFifoRecord } from '../../support/aws-contracts/lambda-events';

// strict catches unknown keywords and schema mistakes; strictRequired is a lint that does not look from a oneOf
// branch up to the parent's `properties`, where limitPrice is defined.
const ajv = new Ajv04({ strict: true, strictRequired: false });
const apiModelAccepts = ajv.compile(orderRequestJsonSchema());

/** What API Gateway would do with the raw body: malformed JSON is a 400 as well. */
function apiGatewayAccepts(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  return apiModelAccepts(parsed);
}

type RuntimeOutcome =
  | { readonly accepted: true; readonly order: ValidatedOrder }
  | { readonly accepted: false; readonly error: unknown };

/** A body as the processor validates it: JSON.parse (which keeps the last of duplicate keys), then the generated validator. */
function parseOrderJson(body: string): ValidatedOrder {
  return parseOrder(JSON.parse(body));
}

function runtimeOutcome(body: string): RuntimeOutcome {
  try {
    return { accepted: true, order: parseOrderJson(body) };
  } catch (error) {
    return { accepted: false, error };
  }
}

const limitOrder = {
  clientOrderId: 'ord-0001',
  accountId: 'acct_42',
  symbol: 'AAPL',
  side: 'BUY',
  type: 'LIMIT',
  quantity: '100',
  limitPrice: '187.25',
  timeInForce: 'DAY',
} as const;

const marketOrder = {
  clientOrderId: 'ord-0002',
  accountId: 'acct_42',
  symbol: 'MSFT',
  side: 'SELL',
  type: 'MARKET',
  quantity: '5',
  timeInForce: 'IOC',
} as const;

/** A LIMIT order body with some fields replaced (undefined drops the field). */
function limitBody(overrides: Readonly<Record<string, unknown>> = {}): string {
  return JSON.stringify({ ...limitOrder, ...overrides });
}

function marketBody(overrides: Readonly<Record<string, unknown>> = {}): string {
  return JSON.stringify({ ...marketOrder, ...overrides });
}

/** The same body with one raw `"key": value` pair spliced in, for keys JSON.stringify would not write as own keys. */
function withRawMember(member: string): string {
  return `{${member},${limitBody().slice(1)}`;
}

const MEGABYTE = 1024 * 1024;

interface ValidCase {
  readonly name: string;
  readonly body: string;
}

const validCases: readonly ValidCase[] = [
  { name: 'LIMIT BUY DAY', body: limitBody() },
  { name: 'MARKET SELL without limitPrice', body: marketBody() },
  { name: 'symbol with a share-class dot', body: limitBody({ symbol: 'BRK.B' }) },
  { name: 'smallest quantity', body: limitBody({ quantity: '0.00000001' }) },
  {
    name: 'largest quantity and price (12 integer digits, 8 decimals)',
    body: limitBody({ quantity: '999999999999.99999999', limitPrice: '999999999999.99999999' }),
  },
  { name: 'price below one and trailing zeros', body: limitBody({ quantity: '1.50000000', limitPrice: '0.5' }) },
  { name: '64-character identifiers', body: limitBody({ clientOrderId: 'c'.repeat(64), accountId: 'A'.repeat(64) }) },
  { name: '1-character identifiers', body: limitBody({ clientOrderId: '_', accountId: '-' }) },
  { name: 'every identifier character class', body: limitBody({ clientOrderId: 'Az09_-', accountId: 'ACCT-2024_eu' }) },
  { name: 'GTC', body: limitBody({ timeInForce: 'GTC' }) },
  { name: 'FOK market order', body: marketBody({ timeInForce: 'FOK', side: 'BUY' }) },
  { name: 'digits-only symbol', body: limitBody({ symbol: '0700' }) },
  { name: '12-character symbol with a dot', body: limitBody({ symbol: 'ABCDEFGHIJ.K' }) },
  { name: 'zero integer part', body: limitBody({ quantity: '0.1', limitPrice: '1234.5678' }) },
  {
    name: 'pretty-printed JSON with keys in another order',
    body: JSON.stringify(
      { timeInForce: 'DAY', limitPrice: '10', type: 'LIMIT', quantity: '3', side: 'SELL', symbol: 'IBM', accountId: 'a1', clientOrderId: 'x' },
      null,
      2,
    ),
  },
];

interface InvalidCase {
  readonly name: string;
  readonly body: string;
  /** The field the runtime error must name. */
  readonly field: string;
  /** Text the error's (display-safe) value must contain; omitted for a missing field. */
  readonly shows?: string;
}

const missing = (field: keyof typeof limitOrder): InvalidCase => ({
  name: `missing ${field}`,
  body: limitBody({ [field]: undefined }),
  field,
});

const invalidCases: readonly InvalidCase[] = [
  // Missing fields: each required one, and the cross-field rule in both directions.
  missing('clientOrderId'),
  missing('accountId'),
  missing('symbol'),
  missing('side'),
  missing('type'),
  missing('quantity'),
  missing('timeInForce'),
  { name: 'LIMIT without limitPrice', body: limitBody({ limitPrice: undefined }), field: 'limitPrice' },
  { name: 'MARKET with limitPrice', body: marketBody({ limitPrice: '10' }), field: 'limitPrice', shows: '10' },
  { name: 'MARKET with a null limitPrice', body: marketBody({ limitPrice: null }), field: 'limitPrice' },

  // Wrong JSON types; money as a JSON number loses precision.
  { name: 'quantity as a JSON number', body: limitBody({ quantity: 100 }), field: 'quantity', shows: '100' },
  { name: 'limitPrice as a JSON number', body: limitBody({ limitPrice: 0.1 }), field: 'limitPrice', shows: '0.1' },
  // JSON.parse already rounded it to ...992: the reason money is never a JSON number.
  {
    name: 'quantity as a JSON number beyond 2^53',
    body: `{"quantity":9007199254740993,${limitBody({ quantity: undefined }).slice(1)}`,
    field: 'quantity',
    shows: '9007199254740992',
  },
  { name: 'clientOrderId null', body: limitBody({ clientOrderId: null }), field: 'clientOrderId' },
  { name: 'accountId boolean', body: limitBody({ accountId: true }), field: 'accountId', shows: 'true' },
  { name: 'symbol array', body: limitBody({ symbol: ['AAPL'] }), field: 'symbol', shows: 'AAPL' },
  { name: 'side object', body: limitBody({ side: {} }), field: 'side' },
  { name: 'limitPrice operator object', body: limitBody({ limitPrice: { $gt: '' } }), field: 'limitPrice', shows: '$gt' },

  // Enums are exact.
  { name: 'lowercase side', body: limitBody({ side: 'buy' }), field: 'side', shows: 'buy' },
  { name: 'unknown type', body: limitBody({ type: 'STOP' }), field: 'type', shows: 'STOP' },
  { name: 'unknown timeInForce', body: limitBody({ timeInForce: 'GTD' }), field: 'timeInForce', shows: 'GTD' },

  // Decimal strings: only canonical positive decimals.
  { name: 'negative quantity', body: limitBody({ quantity: '-5' }), field: 'quantity', shows: '-5' },
  { name: 'zero quantity', body: limitBody({ quantity: '0' }), field: 'quantity', shows: '0' },
  { name: 'zero quantity with decimals', body: limitBody({ quantity: '0.00000000' }), field: 'quantity', shows: '0.00000000' },
  { name: 'zero limitPrice', body: limitBody({ limitPrice: '0.0' }), field: 'limitPrice', shows: '0.0' },
  { name: 'exponent', body: limitBody({ quantity: '1e3' }), field: 'quantity', shows: '1e3' },
  { name: 'hexadecimal', body: limitBody({ quantity: '0x10' }), field: 'quantity', shows: '0x10' },
  { name: 'no integer digit', body: limitBody({ quantity: '.5' }), field: 'quantity', shows: '.5' },
  { name: 'no decimal digit', body: limitBody({ quantity: '5.' }), field: 'quantity', shows: '5.' },
  { name: 'plus sign', body: limitBody({ quantity: '+5' }), field: 'quantity', shows: '+5' },
  { name: 'leading space', body: limitBody({ quantity: ' 5' }), field: 'quantity', shows: ' 5' },
  { name: 'trailing newline', body: limitBody({ limitPrice: '5\n' }), field: 'limitPrice', shows: '5<U+000A>' },
  { name: 'leading zero', body: limitBody({ quantity: '01' }), field: 'quantity', shows: '01' },
  { name: 'thousands separator', body: limitBody({ limitPrice: '1,000' }), field: 'limitPrice', shows: '1,000' },
  { name: 'NaN', body: limitBody({ limitPrice: 'NaN' }), field: 'limitPrice', shows: 'NaN' },
  { name: 'Infinity', body: limitBody({ quantity: 'Infinity' }), field: 'quantity', shows: 'Infinity' },
  { name: 'empty limitPrice', body: limitBody({ limitPrice: '' }), field: 'limitPrice', shows: '' },
  { name: '9 decimals in the price', body: limitBody({ limitPrice: '10.123456789' }), field: 'limitPrice', shows: '10.123456789' },
  { name: '9 decimals in the quantity', body: limitBody({ quantity: '0.000000001' }), field: 'quantity', shows: '0.000000001' },
  { name: '13 integer digits', body: limitBody({ quantity: '1234567890123' }), field: 'quantity', shows: '1234567890123' },
  { name: 'full-width digits', body: limitBody({ quantity: '１２３' }), field: 'quantity', shows: '<U+FF11><U+FF12><U+FF13>' },
  { name: 'Arabic-Indic digit', body: limitBody({ limitPrice: '٣' }), field: 'limitPrice', shows: '<U+0663>' },

  // Strings out of bounds.
  { name: 'empty clientOrderId', body: limitBody({ clientOrderId: '' }), field: 'clientOrderId' },
  { name: '65-character clientOrderId', body: limitBody({ clientOrderId: 'c'.repeat(65) }), field: 'clientOrderId', shows: 'c'.repeat(64) },
  { name: '65-character accountId', body: limitBody({ accountId: 'a'.repeat(65) }), field: 'accountId', shows: 'a'.repeat(64) },
  { name: '13-character symbol', body: limitBody({ symbol: 'ABCDEFGHIJKLM' }), field: 'symbol', shows: 'ABCDEFGHIJKLM' },
  { name: '1 MB clientOrderId', body: limitBody({ clientOrderId: 'A'.repeat(MEGABYTE) }), field: 'clientOrderId', shows: 'AAAA' },
  { name: 'lowercase symbol', body: limitBody({ symbol: 'aapl' }), field: 'symbol', shows: 'aapl' },
  { name: 'symbol that is only a dot', body: limitBody({ symbol: '.' }), field: 'symbol', shows: '.' },
  { name: 'symbol with a double dot', body: limitBody({ symbol: 'BRK..B' }), field: 'symbol', shows: 'BRK..B' },
  { name: 'symbol with a trailing dot', body: limitBody({ symbol: 'BRK.' }), field: 'symbol', shows: 'BRK.' },

  // Fields that are not part of an order, including prototype-pollution keys (own keys after JSON.parse).
  { name: 'unknown field', body: limitBody({ price: '10' }), field: 'price', shows: '10' },
  { name: '__proto__ key', body: withRawMember('"__proto__":{"isAdmin":true}'), field: '__proto__', shows: 'isAdmin' },
  { name: 'constructor key', body: withRawMember('"constructor":{"prototype":{"isAdmin":true}}'), field: 'constructor', shows: 'isAdmin' },
  { name: 'prototype key', body: withRawMember('"prototype":"x"'), field: 'prototype', shows: 'x' },
  { name: '1 MB unknown key', body: withRawMember(`"${'k'.repeat(MEGABYTE)}":1`), field: `${'k'.repeat(64)}…`, shows: '1' },

  // Injection strings: rejected by the character sets, never escaped into acceptance.
  {
    name: 'SQL injection in symbol',
    body: limitBody({ symbol: "AAPL'; DROP TABLE orders;--" }),
    field: 'symbol',
    shows: "AAPL'; DROP TABLE orders;--",
  },
  { name: 'SQL injection in accountId', body: limitBody({ accountId: "1' OR '1'='1" }), field: 'accountId', shows: "1' OR '1'='1" },
  { name: 'SQL comment in clientOrderId', body: limitBody({ clientOrderId: 'ord--1;' }), field: 'clientOrderId', shows: 'ord--1;' },

  // Unicode tricks: shown escaped, so the log says what was really sent.
  { name: 'Cyrillic А posing as Latin A in symbol', body: limitBody({ symbol: 'АAPL' }), field: 'symbol', shows: '<U+0410>APL' },
  { name: 'full-width letters in symbol', body: limitBody({ symbol: 'ＡＡＰＬ' }), field: 'symbol', shows: '<U+FF21>' },
  { name: 'zero-width space in accountId', body: limitBody({ accountId: 'acct\u200B42' }), field: 'accountId', shows: 'acct<U+200B>42' },
  { name: 'RTL override in clientOrderId', body: limitBody({ clientOrderId: 'ord\u202E1000' }), field: 'clientOrderId', shows: 'ord<U+202E>1000' },
  { name: 'no-break space in accountId', body: limitBody({ accountId: 'acct\u00A042' }), field: 'accountId', shows: '<U+00A0>' },
  { name: 'NUL in clientOrderId', body: limitBody({ clientOrderId: 'ord\u00001' }), field: 'clientOrderId', shows: 'ord<U+0000>1' },
  { name: 'emoji in accountId', body: limitBody({ accountId: 'acct😀' }), field: 'accountId', shows: 'acct<U+1F600>' },
  { name: 'combining accent in symbol', body: limitBody({ symbol: 'A\u0301PPL' }), field: 'symbol', shows: 'A<U+0301>PPL' },

  // Bodies that are not an order object at all.
  { name: 'null body', body: 'null', field: 'order' },
  { name: 'array body', body: `[${limitBody()}]`, field: 'order', shows: 'ord-0001' },
  { name: 'empty array body', body: '[]', field: 'order', shows: '[]' },
  { name: 'string body', body: '"buy 100 AAPL"', field: 'order', shows: 'buy 100 AAPL' },
  { name: 'number body', body: '42', field: 'order', shows: '42' },
  { name: 'boolean body', body: 'true', field: 'order', shows: 'true' },
  { name: 'empty object', body: '{}', field: 'clientOrderId' },
  { name: '1 MB string body', body: JSON.stringify('x'.repeat(MEGABYTE)), field: 'order', shows: 'xxxx' },
];

describe('order schema: runtime validator and API Gateway model agree', () => {
  it('has the promised number of cases', () => {
    expect(validCases.length).toBeGreaterThanOrEqual(10);
    expect(invalidCases.length).toBeGreaterThanOrEqual(30);
    const names = [...validCases, ...invalidCases].map(({ name }) => name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(validCases)('accepts $name', ({ body }) => {
    const outcome = runtimeOutcome(body);
    expect(apiGatewayAccepts(body)).toBe(true);
    expect(outcome).toMatchObject({ accepted: true });
    if (!outcome.accepted) return;

    // The order carries exactly the sent strings, nothing more, and cannot be changed afterwards.
    const sent: unknown = JSON.parse(body);
    expect(outcome.order).toEqual(sent);
    expect(Object.isFrozen(outcome.order)).toBe(true);
  });

  it.each(invalidCases)('rejects $name', ({ body, field, shows }) => {
    const outcome = runtimeOutcome(body);
    expect(apiGatewayAccepts(body)).toBe(false);
    expect(outcome.accepted).toBe(false);
    if (outcome.accepted) return;

    const { error } = outcome;
    expect(error).toBeInstanceOf(ValidationError);
    if (!(error instanceof ValidationError)) return;
    expect(error.field).toBe(field);
    expect(error.message).toContain(`Invalid ${error.field}`);
    if (shows !== undefined) expect(String(error.value)).toContain(shows);
    // Whatever was sent, the error stays log-sized.
    expect(error.message.length).toBeLessThan(400);
    expect(String(error.value).length).toBeLessThanOrEqual(80);
  });

  it('rejects malformed JSON at the edge, and in the processor with the body shown', () => {
    // Not a schema case: JSON.parse refuses it before any validator runs. The processor's own parse (decide.ts) makes
    // the rejection that is stored and logged.
    const body = '{"clientOrderId": ';
    expect(apiGatewayAccepts(body)).toBe(false);
    const parsed = parseMessage(sqsFifoRecord({ body, messageGroupId: 'ACC-1', messageDeduplicationId: 'ord-1' }), new Date());
    expect(parsed).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^Invalid order "\{\\"clientOrderId\\": ": is not valid JSON: /) });
  });

  it('agrees on every single-character identifier and symbol in the first 0x3000 code points', () => {
    const disagreements: string[] = [];
    for (let codePoint = 0; codePoint < 0x3000; codePoint += 1) {
      const char = String.fromCodePoint(codePoint);
      for (const overrides of [{ clientOrderId: char }, { accountId: char }, { symbol: char }, { quantity: char }]) {
        const body = limitBody(overrides);
        if (apiGatewayAccepts(body) !== runtimeOutcome(body).accepted) disagreements.push(JSON.stringify(overrides));
      }
    }
    expect(disagreements).toEqual([]);
  });
});

describe('order schema: error messages', () => {
  it('says why a LIMIT order needs a price and a MARKET order must not have one', () => {
    expect(() => parseOrderJson(limitBody({ limitPrice: undefined }))).toThrow(
      'Invalid limitPrice undefined: is required when type is LIMIT',
    );
    expect(() => parseOrderJson(marketBody({ limitPrice: '10' }))).toThrow(
      'Invalid limitPrice "10": must not be present when type is MARKET',
    );
  });

  it('tells a client that sent a JSON number to send a decimal string', () => {
    expect(() => parseOrderJson(limitBody({ quantity: 0.1 }))).toThrow(
      /^Invalid quantity 0.1: must be a JSON string \(a positive decimal string .*\), not a number$/,
    );
  });

  it('says zero is not a quantity', () => {
    expect(() => parseOrderJson(limitBody({ quantity: '0.0' }))).toThrow('Invalid quantity "0.0": must not be zero');
  });

  it('lists the allowed fields for an unknown one', () => {
    expect(() => parseOrderJson(limitBody({ price: '1' }))).toThrow(
      /Invalid price "1": is not an allowed field \(allowed: clientOrderId, accountId/,
    );
  });
});

describe('order schema: runtime-only inputs', () => {
  it('validateOrder returns a result instead of throwing', () => {
    const accepted = validateOrder({ ...limitOrder });
    expect(accepted.ok && accepted.order.type === 'LIMIT' && accepted.order.limitPrice).toBe('187.25');

    const rejected = validateOrder({ ...limitOrder, side: 'HOLD' });
    expect(rejected).toMatchObject({ ok: false, error: { field: 'side', value: 'HOLD' } });
  });

  it('narrows on type: a LIMIT order has its price, a MARKET order has none', () => {
    const order = parseOrder({ ...marketOrder });
    expect(order.type).toBe('MARKET');
    expect(order.limitPrice).toBeUndefined();
  });

  it('rejects undefined, functions and bigints, which JSON cannot carry', () => {
    expect(() => parseOrder(undefined)).toThrow(ValidationError);
    expect(() => parseOrder(() => limitOrder)).toThrow(/Invalid order .*: must be a JSON object/);
    expect(() => parseOrder({ ...limitOrder, quantity: 100n })).toThrow(/Invalid quantity "100": must be a JSON string/);
  });

  it('reads own fields only: an order inherited through the prototype chain is not an order', () => {
    expect(() => parseOrder(Object.create(limitOrder))).toThrow('Invalid clientOrderId undefined: is required');
  });

  it('keeps prototype-pollution payloads from reaching Object.prototype', () => {
    expect(() => parseOrderJson(withRawMember('"__proto__":{"polluted":true}'))).toThrow(ValidationError);
    expect(Reflect.get({}, 'polluted')).toBeUndefined();
  });

  it('copies only schema fields into the order', () => {
    const order = parseOrder(JSON.parse(limitBody()));
    expect(Object.keys(order).sort()).toEqual(Object.keys(limitOrder).sort());
  });
});

describe('order schema: the API Gateway model', () => {
  const API_GATEWAY_KEYWORDS = new Set([
    '$schema', 'title', 'description', 'type', 'properties', 'required', 'additionalProperties',
    'pattern', 'enum', 'minLength', 'maxLength', 'oneOf', 'anyOf', 'not',
  ]);

  function keywordsOf(schema: JsonSchemaDraft04): string[] {
    const nested = [
      ...Object.values(schema.properties ?? {}),
      ...(schema.oneOf ?? []),
      ...(schema.anyOf ?? []),
      ...(schema.not === undefined ? [] : [schema.not]),
    ];
    return [...Object.keys(schema), ...nested.flatMap(keywordsOf)];
  }

  it('is a valid draft-04 schema', () => {
    const schema = orderRequestJsonSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('uses only keywords API Gateway implements', () => {
    const unsupported = keywordsOf(orderRequestJsonSchema()).filter((keyword) => !API_GATEWAY_KEYWORDS.has(keyword));
    expect(unsupported).toEqual([]);
  });

  it('forbids unknown fields and requires everything except limitPrice', () => {
    expect(orderRequestJsonSchema()).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['clientOrderId', 'accountId', 'symbol', 'side', 'type', 'quantity', 'timeInForce'],
    });
  });

  it('is a copy: changing it changes neither the next copy nor the runtime validator', () => {
    const copy = orderRequestJsonSchema();
    Reflect.set(copy, 'additionalProperties', true);
    Reflect.deleteProperty(copy, 'required');
    expect(orderRequestJsonSchema()).toMatchObject({ additionalProperties: false });
    expect(() => parseOrderJson(limitBody({ extra: 1 }))).toThrow(ValidationError);
  });

  it('only admits identifiers SQS takes as MessageGroupId and MessageDeduplicationId', () => {
    // SQS: 1-128 characters of a-z, A-Z, 0-9 and ASCII punctuation.
    const sqsId = /^[\x21-\x7E]{1,128}$/;
    for (let codePoint = 0; codePoint < 0x3000; codePoint += 1) {
      const char = String.fromCodePoint(codePoint);
      for (const field of ['accountId', 'clientOrderId'] as const) {
        const id = char.repeat(64);
        if (validateOrder({ ...limitOrder, [field]: id }).ok) expect(id).toMatch(sqsId);
      }
    }
  });
});
