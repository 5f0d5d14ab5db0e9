/**
 * Pure decisions for one queued order: its idempotency key, schema validation, and the risk checks (kill switch,
 * max notional), producing the row to insert. Nothing here can fail a record: every problem becomes a REJECTED row.
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { describeValue, ValidationError } from '../shared/errors';
import { isJsonObject, parseJson, type JsonParseResult } from '../shared/json';
import type { RiskLimits } from '../shared/runtime-parameters';
import { isOrderIdentifier, type OrderKey, type OrderStatus } from '../shared/order-records';
import { compareDecimals, notional } from '../shared/decimal';
import type { OrderSide, OrderType, TimeInForce, ValidatedOrder } from '../shared/order-schema';
import { validateOrder } from '../shared/order-validation';
import { safeText } from '../shared/schema-errors';

/** A row for the `orders` table. Typed values are null when the body could not be trusted. */
export interface NewOrderRow extends OrderKey {
  readonly symbol: string | null;
  readonly side: OrderSide | null;
  readonly type: OrderType | null;
  readonly quantity: string | null;
  readonly limitPrice: string | null;
  readonly timeInForce: TimeInForce | null;
  readonly notional: string | null;
  readonly status: OrderStatus;
  readonly rejectReason: string | null;
  /** JSON text for the jsonb column; only for orders rejected before their values could be stored typed. */
  readonly requestPayload: string | null;
  readonly sqsMessageId: string;
  readonly receivedAt: Date;
  readonly processedAt: Date;
  /**
   * The message body as queued; not a column. Kept so that a row the database refuses can still be recorded,
   * as a rejection holding the body as a JSON string (see PostgresOrderStore).
   */
  readonly rawBody: string;
  /** SQS's SequenceNumber of the message (increases within the account's message group); null if absent. */
  readonly sequenceNumber: string | null;
  /** SHA-256 of the canonical content (orderContentHash): tells a redelivery from a reused clientOrderId. */
  readonly contentHash: string;
}

/** A message after parsing: either a schema-valid order, or the reason it is not one. */
export type ParsedMessage =
  | {
      readonly kind: 'valid';
      readonly key: OrderKey;
      readonly order: ValidatedOrder;
      readonly receivedAt: Date;
      readonly messageId: string;
      readonly rawBody: string;
      readonly sequenceNumber: string | null;
    }
  | {
      readonly kind: 'invalid';
      readonly key: OrderKey;
      readonly reason: string;
      readonly requestPayload: string;
      readonly receivedAt: Date;
      readonly messageId: string;
      readonly rawBody: string;
      readonly sequenceNumber: string | null;
    };

/** Stored as account_id when neither the queue nor the body names a usable account; a real account id has no '?'. */
export const UNKNOWN_ACCOUNT = '?unknown';

/**
 * Parses and validates one SQS record, and never throws: whatever the body holds (a structure deep enough to overflow
 * the stack of JSON.stringify or of the validator, characters jsonb refuses, ...), the record becomes a valid order or
 * the reason it is not one, so one poison message can never fail the batch it arrived in.
 * The key comes from the queue's own attributes first (MessageGroupId = account, MessageDeduplicationId = client
 * order id, set by the API from the body), because those are what FIFO ordering and de-duplication acted on; for a
 * body that names something else, the order is rejected rather than filed under either.
 */
export function parseMessage(record: SQSRecord, now: Date): ParsedMessage {
  try {
    return parseMessageUnguarded(record, now);
  } catch (err) {
    // Only input this module did not foresee gets here (a RangeError from a structure too deep for some step).
    const groupId = nonEmpty(record.attributes.MessageGroupId);
    const deduplicationId = nonEmpty(record.attributes.MessageDeduplicationId);
    return {
      kind: 'invalid',
      key: { accountId: groupId ?? UNKNOWN_ACCOUNT, clientOrderId: deduplicationId ?? `sqs-${record.messageId}` },
      reason: `The order could not be read: ${err instanceof Error ? `${err.name}: ${err.message}` : 'unknown failure'}`,
      requestPayload: JSON.stringify(wellFormedWithoutNul(record.body)),
      receivedAt: sentAt(record) ?? now,
      messageId: record.messageId,
      rawBody: record.body,
      sequenceNumber: sequenceNumberOf(record),
    };
  }
}

function parseMessageUnguarded(record: SQSRecord, now: Date): ParsedMessage {
  const receivedAt = sentAt(record) ?? now;
  const parsed = parseJson(record.body);
  const body = parsed.ok && isJsonObject(parsed.value) ? parsed.value : undefined;
  const groupId = nonEmpty(record.attributes.MessageGroupId);
  const deduplicationId = nonEmpty(record.attributes.MessageDeduplicationId);
  const key: OrderKey = {
    accountId: groupId ?? identifierFrom(body, 'accountId') ?? UNKNOWN_ACCOUNT,
    // The message id is unique per message, so an unkeyed poison message still gets its own row.
    clientOrderId: deduplicationId ?? identifierFrom(body, 'clientOrderId') ?? `sqs-${record.messageId}`,
  };
  const invalid = (reason: string): ParsedMessage => ({
    kind: 'invalid',
    key,
    reason,
    requestPayload: storablePayload(record.body, parsed),
    receivedAt,
    messageId: record.messageId,
    rawBody: record.body,
    sequenceNumber: sequenceNumberOf(record),
  });

  if (!parsed.ok) {
    return invalid(new ValidationError('order', safeText(record.body), `is not valid JSON: ${parsed.reason}`).message);
  }
  // Checked before validation: the validator and the error messages walk the value, and no valid order is deep.
  if (!withinDepth(parsed.value, MAX_STORED_JSON_DEPTH)) {
    return invalid(new ValidationError('order', safeText(record.body), `nests deeper than ${MAX_STORED_JSON_DEPTH} levels`).message);
  }
  const validation = validateOrder(parsed.value);
  if (!validation.ok) return invalid(validation.error.message);
  const order = validation.order;
  if (order.accountId !== key.accountId) {
    return invalid(
      new ValidationError('accountId', order.accountId, `does not match the SQS message group ${describeValue(key.accountId)} it was queued under`)
        .message,
    );
  }
  if (order.clientOrderId !== key.clientOrderId) {
    return invalid(
      new ValidationError(
        'clientOrderId',
        order.clientOrderId,
        `does not match the SQS deduplication id ${describeValue(key.clientOrderId)} it was queued under`,
      ).message,
    );
  }
  return { kind: 'valid', key, order, receivedAt, messageId: record.messageId, rawBody: record.body, sequenceNumber: sequenceNumberOf(record) };
}

/** Applies the risk checks to a valid order, or records why an invalid one was rejected. */
export function decide(message: ParsedMessage, limits: RiskLimits | undefined, processedAt: Date): NewOrderRow {
  const contentHash = orderContentHash(message);
  if (message.kind === 'invalid') {
    return rejectedWithoutValues({
      accountId: message.key.accountId,
      clientOrderId: message.key.clientOrderId,
      sqsMessageId: message.messageId,
      receivedAt: message.receivedAt,
      processedAt,
      rawBody: message.rawBody,
      sequenceNumber: message.sequenceNumber,
      contentHash,
      rejectReason: message.reason,
      requestPayload: message.requestPayload,
    });
  }
  if (limits === undefined) {
    // processOrderBatch loads the limits whenever a valid order is present; reaching this is a programming error.
    throw new Error('risk limits are required to decide a valid order');
  }
  const { order } = message;
  // A MARKET order has no price until it executes, so its notional is unknown here and the max-notional check cannot
  // apply to it; bounding market orders needs a reference price (last trade), which this platform does not have yet.
  const priced = order.type === 'LIMIT' ? { limitPrice: order.limitPrice, notional: notional(order.quantity, order.limitPrice) } : undefined;
  const rejectReason = riskRejection(order, priced, limits);
  // Field by field, in one literal (no spreads): every row then has the same shape, which the insert's column readers
  // rely on to stay fast (docs/performance.md, section 1).
  return {
    accountId: message.key.accountId,
    clientOrderId: message.key.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    limitPrice: priced === undefined ? null : priced.limitPrice,
    timeInForce: order.timeInForce,
    notional: priced === undefined ? null : priced.notional,
    status: rejectReason === undefined ? 'ACCEPTED' : 'REJECTED',
    rejectReason: rejectReason ?? null,
    requestPayload: null,
    sqsMessageId: message.messageId,
    receivedAt: message.receivedAt,
    processedAt,
    rawBody: message.rawBody,
    sequenceNumber: message.sequenceNumber,
    contentHash,
  };
}

/**
 * A rejection that stores none of the order's typed values (they could not be trusted, or the database refused
 * them): the key, the reason and the body as it came are all the audit trail gets.
 */
export function rejectedWithoutValues(
  row: Omit<NewOrderRow, 'symbol' | 'side' | 'type' | 'quantity' | 'limitPrice' | 'timeInForce' | 'notional' | 'status' | 'rejectReason' | 'requestPayload'> & {
    readonly rejectReason: string;
    readonly requestPayload: string;
  },
): NewOrderRow {
  // The same fields in the same order as decide's accepted rows, so that both have one shape.
  return {
    accountId: row.accountId,
    clientOrderId: row.clientOrderId,
    symbol: null,
    side: null,
    type: null,
    quantity: null,
    limitPrice: null,
    timeInForce: null,
    notional: null,
    status: 'REJECTED',
    rejectReason: row.rejectReason,
    requestPayload: row.requestPayload,
    sqsMessageId: row.sqsMessageId,
    receivedAt: row.receivedAt,
    processedAt: row.processedAt,
    rawBody: row.rawBody,
    sequenceNumber: row.sequenceNumber,
    contentHash: row.contentHash,
  };
}

/** The reject reason of every valid order processed while the kill switch is off (docs/runbook.md quotes it). */
export const TRADING_DISABLED_REASON = 'Trading is disabled by the operator kill switch: no orders are accepted';

/** The kill switch first: while trading is off, no order is judged on its merits. */
function riskRejection(order: ValidatedOrder, priced: { readonly limitPrice: string; readonly notional: string } | undefined, limits: RiskLimits): string | undefined {
  if (!limits.tradingEnabled) return TRADING_DISABLED_REASON;
  if (priced !== undefined && compareDecimals(priced.notional, limits.maxOrderNotional) > 0) {
    return (
      `Order notional ${priced.notional} (quantity ${order.quantity} x limitPrice ${priced.limitPrice}) ` +
      `exceeds the maximum order notional ${limits.maxOrderNotional}`
    );
  }
  return undefined;
}

function identifierFrom(body: Readonly<Record<string, unknown>> | undefined, field: 'accountId' | 'clientOrderId'): string | undefined {
  const value = body !== undefined && Object.hasOwn(body, field) ? body[field] : undefined;
  // Only schema-valid ids: anything else could break the insert (NUL bytes, 10 kB) and with it the whole batch.
  return isOrderIdentifier(field, value) ? value : undefined;
}

/**
 * SHA-256 of what the client asked for, canonically: for a valid order its typed values with decimals in canonical
 * form (so "10.50" and "10.5" are the same order, and JSON whitespace or key order do not matter); for an invalid one
 * the raw body. Equal hashes mean a redelivery or a resend of the same order; different ones under the same
 * (accountId, clientOrderId) mean the id was reused for another order.
 */
export function orderContentHash(message: ParsedMessage): string {
  const canonical =
    message.kind === 'valid'
      ? [
          'order',
          message.order.symbol,
          message.order.side,
          message.order.type,
          canonicalDecimal(message.order.quantity),
          message.order.type === 'LIMIT' ? canonicalDecimal(message.order.limitPrice) : null,
          message.order.timeInForce,
        ]
      : ['body', message.rawBody];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** "10.50" -> "10.5", "10.0" -> "10"; validated decimals have no sign, exponent or leading zeros. */
function canonicalDecimal(text: string): string {
  return text.includes('.') ? text.replace(/0+$/u, '').replace(/\.$/u, '') : text;
}

/**
 * The FIFO SequenceNumber: digits only (AWS: a 128-bit number, at most 39 digits), in canonical form (no leading
 * zeros) so that it compares equal to the NUMERIC the row stores it as; moto's random numbers may start with a 0.
 */
function sequenceNumberOf(record: SQSRecord): string | null {
  const value = record.attributes.SequenceNumber;
  if (value === undefined || !/^\d{1,40}$/u.test(value)) return null;
  // AWS's own numbers have no leading zero and are kept as they are: only moto's go through BigInt, on every record.
  // Stryker disable next-line StringLiteral: equivalent: startsWith('') sends every number through BigInt, and one without a leading zero comes out of it as it went in, so only the cost changes.
  return value.startsWith('0') ? BigInt(value).toString() : value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/** The largest time a Date holds (ECMA-262, "Time Values and Time Range"): past it, a Date is invalid. */
const MAX_DATE_MS = 8.64e15;

function sentAt(record: SQSRecord): Date | undefined {
  const millis = Number(record.attributes.SentTimestamp);
  return Number.isSafeInteger(millis) && millis > 0 && millis <= MAX_DATE_MS ? new Date(millis) : undefined;
}

/** PostgreSQL's jsonb parser recurses; far below the depth where it (or JSON.stringify) would hit a stack limit. */
export const MAX_STORED_JSON_DEPTH = 64;

/**
 * JSON text the jsonb column is certain to accept. jsonb refuses \u0000 and unpaired surrogates, which JSON.parse
 * accepts, and a very deep structure exhausts the stack of JSON.stringify and of jsonb's parser; one such message
 * would fail the whole batch's insert. The parsed value is inspected structurally (no text scanning, so nothing inside
 * a string can fool it) before it is serialised; failing bodies, and non-JSON ones, are kept as a JSON string of the
 * raw body with the offending characters replaced.
 */
export function storablePayload(body: string, parsed: JsonParseResult): string {
  if (parsed.ok && isStorableJson(parsed.value, MAX_STORED_JSON_DEPTH)) {
    const text = JSON.stringify(parsed.value);
    if (text !== undefined) return text;
  }
  return JSON.stringify(wellFormedWithoutNul(body));
}

/** A message body as JSON text jsonb accepts: the body itself when it is storable JSON, else a JSON string of it. */
export function storableBody(body: string): string {
  return storablePayload(body, parseJson(body));
}

/** Replaces NUL and unpaired surrogates (which neither jsonb nor a UTF-8 text column can hold) with U+FFFD. */
export function wellFormedWithoutNul(text: string): string {
  return text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

// With the u flag a surrogate pair is one code point above U+FFFF, so the range matches unpaired surrogates only.
const STORABLE_TEXT = /^[^\u0000\uD800-\uDFFF]*$/u;

/** Depth-limited, iterative walk: true when every string (keys too) is storable and nothing nests deeper than `maxDepth`. */
function isStorableJson(value: unknown, maxDepth: number): boolean {
  return walk(value, maxDepth, (text) => STORABLE_TEXT.test(text));
}

/** Whether `value` nests at most `maxDepth` objects/arrays deep; iterative, so any depth is safe to ask about. */
export function withinDepth(value: unknown, maxDepth: number): boolean {
  return walk(value, maxDepth, () => true);
}

function walk(value: unknown, maxDepth: number, acceptText: (text: string) => boolean): boolean {
  const pending: Array<readonly [unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    if (typeof current === 'string') {
      if (!acceptText(current)) return false;
    } else if (typeof current === 'object' && current !== null) {
      if (depth + 1 > maxDepth) return false;
      if (Array.isArray(current)) {
        for (const item of current) pending.push([item, depth + 1]);
      } else {
        for (const [name, item] of Object.entries(current)) {
          if (!acceptText(name)) return false;
          pending.push([item, depth + 1]);
        }
      }
    }
  }
  return true;
}
