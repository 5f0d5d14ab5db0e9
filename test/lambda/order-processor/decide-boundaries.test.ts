/**
 * The order decisions at their edges, exactly: every field of the rows and messages they produce, the key fallbacks,
 * the bounds (timestamps, sequence numbers, nesting depth, the 64-character preview) and jsonb's character rules, so
 * that a change to any of them fails a test (npm run test:mutation measures it).
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { sqsFifoRecord } from '../../support/aws-contracts/lambda-events';
import {
  decide,
  MAX_STORED_JSON_DEPTH,
  orderContentHash,
  parseMessage,
  rejectedWithoutValues,
  storableBody,
  storablePayload,
  UNKNOWN_ACCOUNT,
  wellFormedWithoutNul,
  withinDepth,
  type ParsedMessage,
} from '../../../lambda/order-processor/decide';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const LATER = new Date('2026-03-02T10:00:05.000Z');
const SENT = new Date('2026-03-02T09:59:59.123Z');
const OPEN = { tradingEnabled: true, maxOrderNotional: '100000' };

interface Attributes {
  /** undefined: the attribute is absent (a record from a standard queue). */
  readonly group?: string;
  readonly dedup?: string;
  readonly sent?: string;
  readonly sequence?: string;
}

/** An SQS FIFO record (AWS's documented event shape, see sqsFifoRecord) whose optional attributes can be left out. */
function record(body: string, attributes: Attributes = { group: 'ACC-1', dedup: 'c-1' }): SQSRecord {
  const fifo = sqsFifoRecord({
    body,
    messageId: 'msg-1',
    messageGroupId: attributes.group ?? 'absent',
    messageDeduplicationId: attributes.dedup ?? 'absent',
    sentTimestamp: attributes.sent ?? String(SENT.getTime()),
    sequenceNumber: attributes.sequence ?? '18849496460467696128',
  });
  const { MessageGroupId, MessageDeduplicationId, ...rest } = fifo.attributes;
  return {
    ...fifo,
    attributes: {
      ...rest,
      ...(attributes.group === undefined ? {} : { MessageGroupId }),
      ...(attributes.dedup === undefined ? {} : { MessageDeduplicationId }),
    },
  };
}

const limitOrder = {
  clientOrderId: 'c-1',
  accountId: 'ACC-1',
  symbol: 'MSFT',
  side: 'BUY',
  type: 'LIMIT',
  quantity: '10.50',
  limitPrice: '3.0',
  timeInForce: 'FOK',
} as const;

const { limitPrice: _price, ...withoutPrice } = limitOrder;
const marketOrder = { ...withoutPrice, type: 'MARKET', quantity: '7' } as const;

const sha256 = (canonical: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(canonical)).digest('hex');

/** The reason of an invalid message; fails the test if the message was valid. */
function reasonOf(parsed: ParsedMessage): string {
  if (parsed.kind !== 'invalid') throw new Error(`expected an invalid message, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

/** `depth` arrays nested in each other, as JSON text. */
const nestedArrays = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** `depth` objects nested in each other ({"a":{"a":{}}}), as JSON text. */
const nestedObjects = (depth: number): string => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

describe('parseMessage: what a valid message carries', () => {
  it('keeps the key, the validated order, the times, the message id, the raw body and the canonical sequence number', () => {
    const body = JSON.stringify(limitOrder);
    expect(parseMessage(record(body, { group: 'ACC-1', dedup: 'c-1', sequence: '0012' }), NOW)).toEqual({
      kind: 'valid',
      key: { accountId: 'ACC-1', clientOrderId: 'c-1' },
      order: limitOrder,
      receivedAt: SENT,
      messageId: 'msg-1',
      rawBody: body,
      sequenceNumber: '12',
    });
  });

  it('takes a sequence number of 1 to 40 digits only', () => {
    const sequenceOf = (sequence: string) => parseMessage(record(JSON.stringify(limitOrder), { group: 'ACC-1', dedup: 'c-1', sequence }), NOW).sequenceNumber;
    expect(sequenceOf('7')).toBe('7');
    expect(sequenceOf('0')).toBe('0');
    expect(sequenceOf('9'.repeat(40))).toBe('9'.repeat(40));
    expect(sequenceOf('9'.repeat(41))).toBeNull();
    expect(sequenceOf('')).toBeNull();
    expect(sequenceOf('12a')).toBeNull();
    expect(sequenceOf('a12')).toBeNull();
    expect(sequenceOf('1a')).toBeNull();
    expect(sequenceOf('1 ')).toBeNull();
    expect(sequenceOf('-12')).toBeNull();
    // Leading zeros (moto's random numbers have them; AWS's do not) are dropped, so the text equals the NUMERIC stored.
    expect(sequenceOf('007')).toBe('7');
    expect(sequenceOf('00')).toBe('0');
    expect(sequenceOf(`0${'9'.repeat(39)}`)).toBe('9'.repeat(39));
    expect(sequenceOf(`1${'0'.repeat(39)}`)).toBe(`1${'0'.repeat(39)}`);
    expect(sequenceOf(`1${'0'.repeat(40)}`)).toBeNull();
  });

  it('takes receivedAt from a positive whole SentTimestamp, else from the clock', () => {
    const receivedAt = (sent: string) => parseMessage(record('{}', { group: 'ACC-1', dedup: 'c-1', sent }), NOW).receivedAt;
    expect(receivedAt('1')).toEqual(new Date(1));
    expect(receivedAt('0')).toEqual(NOW);
    expect(receivedAt('-1000')).toEqual(NOW);
    expect(receivedAt('1772445599123.5')).toEqual(NOW);
    expect(receivedAt('9007199254740993')).toEqual(NOW);
    // A safe integer, but past the last instant a Date can hold (8.64e15 ms): an invalid Date would not store.
    expect(receivedAt('8640000000000000')).toEqual(new Date(8.64e15));
    expect(receivedAt('8640000000000001')).toEqual(NOW);
    expect(receivedAt('soon')).toEqual(NOW);
  });
});

describe('parseMessage: the key of a message', () => {
  const bodyIds = JSON.stringify({ accountId: 'ACC-B', clientOrderId: 'c-b' });

  it('prefers the queue attributes to the body', () => {
    expect(parseMessage(record(bodyIds, { group: 'ACC-Q', dedup: 'c-q' }), NOW).key).toEqual({ accountId: 'ACC-Q', clientOrderId: 'c-q' });
  });

  it('treats absent and empty attributes alike, falling back to the body ids', () => {
    expect(parseMessage(record(bodyIds, {}), NOW).key).toEqual({ accountId: 'ACC-B', clientOrderId: 'c-b' });
    expect(parseMessage(record(bodyIds, { group: '', dedup: '' }), NOW).key).toEqual({ accountId: 'ACC-B', clientOrderId: 'c-b' });
    expect(parseMessage(record(bodyIds, { group: 'ACC-Q' }), NOW).key).toEqual({ accountId: 'ACC-Q', clientOrderId: 'c-b' });
    expect(parseMessage(record(bodyIds, { dedup: 'c-q' }), NOW).key).toEqual({ accountId: 'ACC-B', clientOrderId: 'c-q' });
  });

  it('uses placeholders for a body that is JSON but not an object, or not JSON', () => {
    // '?' is in no valid account id, so the placeholder can never be a real account's.
    expect(UNKNOWN_ACCOUNT).toBe('?unknown');
    const placeholders = { accountId: UNKNOWN_ACCOUNT, clientOrderId: 'sqs-msg-1' };
    for (const body of ['null', '[1]', '"ACC-1"', '42', 'not json', '{"accountId": 7, "clientOrderId": null}']) {
      expect(parseMessage(record(body, {}), NOW).key).toEqual(placeholders);
    }
  });

  it('does not take ids the body inherits rather than holds', () => {
    expect(parseMessage(record('{"__proto__": {"accountId": "ACC-P", "clientOrderId": "c-p"}}', {}), NOW).key).toEqual({
      accountId: UNKNOWN_ACCOUNT,
      clientOrderId: 'sqs-msg-1',
    });
  });
});

describe('parseMessage: why a message is invalid', () => {
  it('keeps everything an invalid message needs for its audit row', () => {
    const body = '{"accountId":"ACC-1"}';
    expect(parseMessage(record(body, { group: 'ACC-1', dedup: 'c-1', sequence: '0034' }), NOW)).toEqual({
      kind: 'invalid',
      key: { accountId: 'ACC-1', clientOrderId: 'c-1' },
      reason: 'Invalid clientOrderId undefined: is required',
      requestPayload: body,
      receivedAt: SENT,
      messageId: 'msg-1',
      rawBody: body,
      sequenceNumber: '34',
    });
  });

  it('names the JSON parser problem of a non-JSON body', () => {
    const body = '{"accountId": ';
    const syntaxError = (() => {
      try {
        JSON.parse(body);
        return 'parsed';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    })();
    expect(reasonOf(parseMessage(record(body), NOW))).toBe(`Invalid order "{\\"accountId\\": ": is not valid JSON: ${syntaxError}`);
    expect(parseMessage(record(body), NOW)).toMatchObject({ requestPayload: JSON.stringify(body), rawBody: body });
  });

  it('shows at most 64 characters of a non-JSON body, then an ellipsis', () => {
    const exactly64 = `x${'y'.repeat(63)}`;
    expect(reasonOf(parseMessage(record(exactly64), NOW))).toMatch(new RegExp(`^Invalid order "${exactly64}": is not valid JSON: `));
    expect(reasonOf(parseMessage(record(`${exactly64}z`), NOW))).toMatch(new RegExp(`^Invalid order "${exactly64}…": is not valid JSON: `));
  });

  it('shows every character outside printable ASCII of a non-JSON body as its code point', () => {
    // Space and tilde are the ends of printable ASCII; below, above and beyond the BMP are escaped.
    const body = ' ~\u001f\u007f\né\u{1F600}';
    expect(reasonOf(parseMessage(record(body), NOW))).toMatch(/^Invalid order " ~<U\+001F><U\+007F><U\+000A><U\+00E9><U\+1F600>": is not valid JSON: /);
  });

  it(`rejects a body nested deeper than ${MAX_STORED_JSON_DEPTH} levels before validating it, showing its start`, () => {
    const deep = nestedArrays(MAX_STORED_JSON_DEPTH + 1);
    expect(reasonOf(parseMessage(record(deep), NOW))).toBe(`Invalid order "${'['.repeat(64)}…": nests deeper than 64 levels`);
    const deepObject = nestedObjects(MAX_STORED_JSON_DEPTH + 1);
    expect(reasonOf(parseMessage(record(deepObject), NOW))).toMatch(/: nests deeper than 64 levels$/);
    // At the limit the validator judges it: an array is not an order.
    expect(reasonOf(parseMessage(record(nestedArrays(MAX_STORED_JSON_DEPTH)), NOW))).not.toMatch(/nests deeper/);
    expect(reasonOf(parseMessage(record(nestedObjects(MAX_STORED_JSON_DEPTH)), NOW))).not.toMatch(/nests deeper/);
  });

  it('rejects a body whose account differs from the message group', () => {
    const parsed = parseMessage(record(JSON.stringify(limitOrder), { group: 'ACC-2', dedup: 'c-1' }), NOW);
    expect(parsed).toMatchObject({
      kind: 'invalid',
      key: { accountId: 'ACC-2', clientOrderId: 'c-1' },
      reason: 'Invalid accountId "ACC-1": does not match the SQS message group "ACC-2" it was queued under',
    });
  });
});

describe('parseMessage: input nothing foresaw', () => {
  /** A record whose SentTimestamp cannot be read once: stands for any step failing in a way no check anticipated. */
  function failingOnce(body: string, thrown: unknown, attributes: Attributes): SQSRecord {
    const base = record(body, attributes);
    let reads = 0;
    const attributesWithTrap = { ...base.attributes };
    Object.defineProperty(attributesWithTrap, 'SentTimestamp', {
      enumerable: true,
      get: () => {
        reads += 1;
        if (reads === 1) throw thrown;
        return base.attributes.SentTimestamp;
      },
    });
    return { ...base, attributes: attributesWithTrap };
  }

  it('turns an unexpected error into a rejection that names it and keeps the body, never into a throw', () => {
    const body = 'a\u0000b';
    const parsed = parseMessage(failingOnce(body, new RangeError('Maximum call stack size exceeded'), { group: 'ACC-1', dedup: 'c-1', sequence: '05' }), NOW);
    expect(parsed).toEqual({
      kind: 'invalid',
      key: { accountId: 'ACC-1', clientOrderId: 'c-1' },
      reason: 'The order could not be read: RangeError: Maximum call stack size exceeded',
      requestPayload: JSON.stringify('a\uFFFDb'),
      receivedAt: SENT,
      messageId: 'msg-1',
      rawBody: body,
      sequenceNumber: '5',
    });
  });

  it('keys such a message by the placeholders when the queue gave no ids, and says so when the failure is no Error', () => {
    const parsed = parseMessage(failingOnce(JSON.stringify(limitOrder), 'a string', { group: '', sent: 'soon' }), NOW);
    expect(parsed).toMatchObject({
      kind: 'invalid',
      key: { accountId: UNKNOWN_ACCOUNT, clientOrderId: 'sqs-msg-1' },
      reason: 'The order could not be read: unknown failure',
      receivedAt: NOW,
    });
  });
});

describe('decide: the rows', () => {
  // Parsed inside each test: code run while jest collects the tests would count as static (npm run test:mutation).
  const parsedLimit = () => parseMessage(record(JSON.stringify(limitOrder)), NOW);

  it('writes every column of an accepted LIMIT order, with its notional and content hash', () => {
    expect(decide(parsedLimit(), OPEN, LATER)).toEqual({
      accountId: 'ACC-1',
      clientOrderId: 'c-1',
      symbol: 'MSFT',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '10.50',
      limitPrice: '3.0',
      timeInForce: 'FOK',
      notional: '31.5',
      status: 'ACCEPTED',
      rejectReason: null,
      requestPayload: null,
      sqsMessageId: 'msg-1',
      receivedAt: SENT,
      processedAt: LATER,
      rawBody: JSON.stringify(limitOrder),
      sequenceNumber: '18849496460467696128',
      contentHash: sha256(['order', 'MSFT', 'BUY', 'LIMIT', '10.5', '3', 'FOK']),
    });
  });

  it('writes a MARKET order without price or notional', () => {
    const row = decide(parseMessage(record(JSON.stringify(marketOrder)), NOW), { tradingEnabled: true, maxOrderNotional: '0' }, LATER);
    expect(row).toMatchObject({ type: 'MARKET', quantity: '7', limitPrice: null, notional: null, status: 'ACCEPTED', rejectReason: null });
    expect(row.contentHash).toBe(sha256(['order', 'MSFT', 'BUY', 'MARKET', '7', null, 'FOK']));
  });

  it('writes a rejected order with all its values and the reason', () => {
    expect(decide(parsedLimit(), { tradingEnabled: true, maxOrderNotional: '31.49' }, LATER)).toMatchObject({
      symbol: 'MSFT',
      quantity: '10.50',
      limitPrice: '3.0',
      notional: '31.5',
      status: 'REJECTED',
      rejectReason: 'Order notional 31.5 (quantity 10.50 x limitPrice 3.0) exceeds the maximum order notional 31.49',
      requestPayload: null,
    });
    expect(decide(parsedLimit(), { tradingEnabled: true, maxOrderNotional: '31.5' }, LATER).status).toBe('ACCEPTED');
    expect(decide(parsedLimit(), { tradingEnabled: false, maxOrderNotional: '100' }, LATER)).toMatchObject({
      status: 'REJECTED',
      rejectReason: 'Trading is disabled by the operator kill switch: no orders are accepted',
      notional: '31.5',
    });
  });

  it('writes an invalid message as a rejection without typed values, hashing its raw body', () => {
    const body = '{"accountId":"ACC-1","clientOrderId":"c-1"}';
    expect(decide(parseMessage(record(body), NOW), undefined, LATER)).toEqual({
      accountId: 'ACC-1',
      clientOrderId: 'c-1',
      symbol: null,
      side: null,
      type: null,
      quantity: null,
      limitPrice: null,
      timeInForce: null,
      notional: null,
      status: 'REJECTED',
      rejectReason: 'Invalid symbol undefined: is required',
      requestPayload: body,
      sqsMessageId: 'msg-1',
      receivedAt: SENT,
      processedAt: LATER,
      rawBody: body,
      sequenceNumber: '18849496460467696128',
      contentHash: sha256(['body', body]),
    });
  });

  it('refuses to decide a valid order without limits (a programming error, not a rejection)', () => {
    expect(() => decide(parsedLimit(), undefined, LATER)).toThrow(new Error('risk limits are required to decide a valid order'));
  });

  it('builds a rejection without values from any row', () => {
    const row = decide(parsedLimit(), OPEN, LATER);
    const { symbol, side, type, quantity, limitPrice, timeInForce, notional, status, rejectReason, requestPayload, ...identity } = row;
    expect([symbol, status, rejectReason, requestPayload]).toEqual(['MSFT', 'ACCEPTED', null, null]);
    expect([side, type, quantity, limitPrice, timeInForce, notional]).toEqual(['BUY', 'LIMIT', '10.50', '3.0', 'FOK', '31.5']);
    expect(rejectedWithoutValues({ ...identity, rejectReason: 'refused by the database', requestPayload: '"raw"' })).toEqual({
      ...identity,
      symbol: null,
      side: null,
      type: null,
      quantity: null,
      limitPrice: null,
      timeInForce: null,
      notional: null,
      status: 'REJECTED',
      rejectReason: 'refused by the database',
      requestPayload: '"raw"',
    });
  });
});

describe('orderContentHash', () => {
  const hashOf = (order: Record<string, string>) => orderContentHash(parseMessage(record(JSON.stringify(order)), NOW));

  it('hashes decimals in canonical form: trailing zeros and a bare point do not make another order', () => {
    const canonical = sha256(['order', 'MSFT', 'BUY', 'LIMIT', '10.5', '3', 'FOK']);
    expect(hashOf({ ...limitOrder, quantity: '10.5', limitPrice: '3' })).toBe(canonical);
    expect(hashOf({ ...limitOrder, quantity: '10.500', limitPrice: '3.00' })).toBe(canonical);
    // Zeros before the point or inside the fraction are significant.
    expect(hashOf({ ...limitOrder, quantity: '100', limitPrice: '10.05' })).toBe(sha256(['order', 'MSFT', 'BUY', 'LIMIT', '100', '10.05', 'FOK']));
    expect(hashOf({ ...limitOrder, quantity: '100.0', limitPrice: '0.5' })).toBe(sha256(['order', 'MSFT', 'BUY', 'LIMIT', '100', '0.5', 'FOK']));
  });

  it('tells orders apart by every field the client chose', () => {
    const base = hashOf(limitOrder);
    for (const change of [{ symbol: 'AAPL' }, { side: 'SELL' }, { quantity: '10.51' }, { limitPrice: '3.01' }, { timeInForce: 'GTC' }]) {
      expect(hashOf({ ...limitOrder, ...change })).not.toBe(base);
    }
    expect(hashOf(limitOrder)).toBe(base);
  });
});

describe('storablePayload and storableBody', () => {
  const parsed = (text: string) => ({ ok: true as const, value: JSON.parse(text) as unknown });
  const stored = (text: string) => storablePayload(text, parsed(text));
  const asString = (text: string) => JSON.stringify(text);

  it('keeps storable JSON as compact JSON, empty strings, nulls, numbers and booleans included', () => {
    const text = '{ "a": "", "b": null, "c": [1, true, {"d": "é\\ud83d\\ude00"}], "": 0 }';
    expect(stored(text)).toBe('{"a":"","b":null,"c":[1,true,{"d":"é😀"}],"":0}');
    expect(stored('"plain"')).toBe('"plain"');
    expect(stored('null')).toBe('null');
  });

  it('stores the body as a JSON string when a value, an array item or a key holds NUL or a lone surrogate', () => {
    for (const text of [
      '"\\u0000"',
      '"a\\u0000"',
      '"\\u0000a"',
      '"\\ud800"',
      '"\\udc00"',
      '"x\\udc00"',
      '"\\udc00\\ud800"',
      '["ok", "\\udfff"]',
      '{"k": ["ok", {"n": "\\udbff"}]}',
      '{"\\u0000": 1}',
      '{"a": {"\\udc00": 1}}',
    ]) {
      expect(stored(text)).toBe(asString(text));
    }
  });

  it(`stores JSON up to ${MAX_STORED_JSON_DEPTH} levels deep as JSON, deeper as a string`, () => {
    for (const nested of [nestedArrays, nestedObjects]) {
      expect(stored(nested(MAX_STORED_JSON_DEPTH))).toBe(JSON.stringify(JSON.parse(nested(MAX_STORED_JSON_DEPTH))));
      expect(stored(nested(MAX_STORED_JSON_DEPTH + 1))).toBe(asString(nested(MAX_STORED_JSON_DEPTH + 1)));
    }
    // Depth counts containers only: a string at the deepest level adds none.
    const stringAtLimit = `${'['.repeat(MAX_STORED_JSON_DEPTH)}"s"${']'.repeat(MAX_STORED_JSON_DEPTH)}`;
    expect(stored(stringAtLimit)).toBe(stringAtLimit);
  });

  it('stores a body that did not parse, or parsed to no JSON value, as a JSON string', () => {
    expect(storablePayload('{"a": 1}', { ok: false, reason: 'truncated' })).toBe(asString('{"a": 1}'));
    expect(storablePayload('undefined', { ok: true, value: undefined })).toBe(asString('undefined'));
  });

  it('parses the body itself in storableBody', () => {
    expect(storableBody('{ "a" : [1] }')).toBe('{"a":[1]}');
    expect(storableBody('not json')).toBe('"not json"');
    expect(storableBody('"\\u0000"')).toBe(asString('"\\u0000"'));
  });
});

describe('wellFormedWithoutNul', () => {
  it('replaces every NUL and every unpaired surrogate, high or low, with U+FFFD', () => {
    expect(wellFormedWithoutNul('\u0000a\u0000')).toBe('\uFFFDa\uFFFD');
    expect(wellFormedWithoutNul('\uD800')).toBe('\uFFFD');
    expect(wellFormedWithoutNul('\uD800x')).toBe('\uFFFDx');
    expect(wellFormedWithoutNul('\uDBFF\uD800')).toBe('\uFFFD\uFFFD');
    expect(wellFormedWithoutNul('\uDC00')).toBe('\uFFFD');
    expect(wellFormedWithoutNul('x\uDFFF')).toBe('x\uFFFD');
    expect(wellFormedWithoutNul('\uDC00\uDC00')).toBe('\uFFFD\uFFFD');
  });

  it('keeps surrogate pairs and all other text', () => {
    expect(wellFormedWithoutNul('\uD83D\uDE00 é \uDBFF\uDFFF \uD800\uDC00')).toBe('\uD83D\uDE00 é \uDBFF\uDFFF \uD800\uDC00');
    // A high surrogate left over before a pair: only the unpaired one goes.
    expect(wellFormedWithoutNul('\uD800\uD83D\uDE00')).toBe('\uFFFD\uD83D\uDE00');
    expect(wellFormedWithoutNul('\uD83D\uDE00\uDE00')).toBe('\uD83D\uDE00\uFFFD');
  });
});

describe('withinDepth', () => {
  it('counts objects and arrays, not strings or numbers', () => {
    expect(withinDepth('text', 0)).toBe(true);
    expect(withinDepth(5, 0)).toBe(true);
    expect(withinDepth(null, 0)).toBe(true);
    expect(withinDepth({}, 0)).toBe(false);
    expect(withinDepth([], 1)).toBe(true);
    expect(withinDepth({ a: ['x', { b: 'y' }] }, 3)).toBe(true);
    expect(withinDepth({ a: ['x', { b: 'y' }] }, 2)).toBe(false);
    expect(withinDepth([[[]], []], 2)).toBe(false);
    expect(withinDepth([[[]], []], 3)).toBe(true);
  });

  it('answers for any depth without running out of stack', () => {
    const deep = JSON.parse(nestedArrays(100_000)) as unknown;
    expect(withinDepth(deep, 100_000)).toBe(true);
    expect(withinDepth(deep, 99_999)).toBe(false);
  });
});
