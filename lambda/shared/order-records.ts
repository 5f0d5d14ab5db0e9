/**
 * The stored order as both order functions see it: the API's composite order id, the SQL select list and the
 * mapping from an `orders` row to decimal strings and ISO timestamps, so the processor's events and the query API agree.
 */
import { ConfigurationError, ValidationError } from './errors';
import {
  ORDER_SIDES,
  ORDER_TYPES,
  orderRequestJsonSchema,
  TIME_IN_FORCE_VALUES,
  type OrderSide,
  type OrderType,
  type TimeInForce,
} from './order-schema';

export const ORDER_STATUSES = ['ACCEPTED', 'REJECTED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The idempotency key of an order: unique in the `orders` table. */
export interface OrderKey {
  readonly accountId: string;
  readonly clientOrderId: string;
}

/**
 * An `orders` row as published and served. Typed values are NULL when the order was rejected before they could be
 * trusted (a malformed body); money and quantities are decimal strings without trailing zeros.
 */
export interface StoredOrder extends OrderKey {
  readonly symbol: string | null;
  readonly side: OrderSide | null;
  readonly type: OrderType | null;
  readonly quantity: string | null;
  readonly limitPrice: string | null;
  readonly notional: string | null;
  readonly timeInForce: TimeInForce | null;
  readonly status: OrderStatus;
  readonly rejectReason: string | null;
  /** ISO 8601, when the API queued the order. */
  readonly receivedAt: string;
  /** ISO 8601, when the processor decided. */
  readonly processedAt: string;
  /**
   * SQS's SequenceNumber of the message that created the order, a decimal integer string. It increases within an
   * account's message group, so it is the account's order: compare as integers (BigInt), never as strings of
   * different lengths. Null for orders stored before it was recorded.
   */
  readonly sequenceNumber: string | null;
}

/** What GET /v1/orders/{orderId} returns and what events carry (plus their own flags). */
export interface OrderView extends StoredOrder {
  readonly orderId: string;
}

/**
 * A timestamptz column as the text JavaScript's Date#toISOString gives (UTC, milliseconds, truncated as a Date truncates
 * the microseconds): formatted by the server, so the processor neither parses a timestamp into a Date nor formats it
 * back, on every row it stores (docs/performance.md, section 1). The tests compare it with toISOString of the same row.
 */
function isoTimestamp(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
}

/**
 * Columns for `toStoredOrder`. trim_scale: NUMERIC(20,8) would return "10.50000000" for "10.5", and the client
 * should read back the number it sent, not the column's scale. Text, never a JS number, so no float touches money.
 */
export const STORED_ORDER_COLUMNS = [
  'account_id',
  'client_order_id',
  'symbol',
  'side',
  'order_type',
  'trim_scale(quantity)::text AS quantity',
  'trim_scale(limit_price)::text AS limit_price',
  'trim_scale(notional)::text AS notional',
  'time_in_force',
  'status',
  'reject_reason',
  isoTimestamp('received_at'),
  isoTimestamp('processed_at'),
  'sqs_sequence_number::text AS sequence_number',
].join(', ');

/**
 * Maps a row selected with STORED_ORDER_COLUMNS. The table's CHECK constraints guarantee the shapes; a mismatch means
 * the query and this mapping drifted apart, which is a deployment fault, not bad input.
 */
export function toStoredOrder(row: Readonly<Record<string, unknown>>): StoredOrder {
  return {
    accountId: requiredText(row, 'account_id'),
    clientOrderId: requiredText(row, 'client_order_id'),
    symbol: optionalText(row, 'symbol'),
    side: optionalMember(row, 'side', ORDER_SIDES),
    type: optionalMember(row, 'order_type', ORDER_TYPES),
    quantity: optionalText(row, 'quantity'),
    limitPrice: optionalText(row, 'limit_price'),
    notional: optionalText(row, 'notional'),
    timeInForce: optionalMember(row, 'time_in_force', TIME_IN_FORCE_VALUES),
    status: requiredMember(row, 'status', ORDER_STATUSES),
    rejectReason: optionalText(row, 'reject_reason'),
    receivedAt: timestamp(row, 'received_at'),
    processedAt: timestamp(row, 'processed_at'),
    sequenceNumber: optionalText(row, 'sequence_number'),
  };
}

/** The API-facing id. Both parts are [A-Za-z0-9_-] for orders that passed the schema, so '.' separates unambiguously. */
export function formatOrderId(key: OrderKey): string {
  return `${key.accountId}.${key.clientOrderId}`;
}

export function toOrderView(order: StoredOrder): OrderView {
  // Field by field rather than a spread: on the processor's hot path (one view per event) a spread of this object
  // cost more than validating the order; and nothing beyond StoredOrder's fields can slip into an answer or event.
  return {
    orderId: formatOrderId(order),
    accountId: order.accountId,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    notional: order.notional,
    timeInForce: order.timeInForce,
    status: order.status,
    rejectReason: order.rejectReason,
    receivedAt: order.receivedAt,
    processedAt: order.processedAt,
    sequenceNumber: order.sequenceNumber,
  };
}

interface IdentifierRule {
  readonly pattern: RegExp;
  readonly maxLength: number;
  readonly description: string;
}

/** Read from the order schema rather than restated, so an id the API accepted is always an id the query accepts. */
function identifierRule(field: 'accountId' | 'clientOrderId'): IdentifierRule {
  const property = orderRequestJsonSchema().properties?.[field];
  if (property?.pattern === undefined || property.maxLength === undefined) {
    throw new ConfigurationError(`The order schema defines no pattern and maxLength for ${field}`);
  }
  return {
    pattern: new RegExp(property.pattern, 'u'),
    maxLength: property.maxLength,
    description: property.description ?? `a string matching ${property.pattern}`,
  };
}

const IDENTIFIER_RULES = {
  accountId: identifierRule('accountId'),
  clientOrderId: identifierRule('clientOrderId'),
} as const;

/** Whether `value` is a well-formed accountId / clientOrderId under the order schema. */
export function isOrderIdentifier(field: 'accountId' | 'clientOrderId', value: unknown): value is string {
  const rule = IDENTIFIER_RULES[field];
  return typeof value === 'string' && value.length <= rule.maxLength && rule.pattern.test(value);
}

/** Splits `<accountId>.<clientOrderId>`; a ValidationError names the bad value and the expected form. */
export function parseOrderId(orderId: string): OrderKey {
  const parts = orderId.split('.');
  const [accountId, clientOrderId] = parts;
  if (parts.length !== 2 || !isOrderIdentifier('accountId', accountId) || !isOrderIdentifier('clientOrderId', clientOrderId)) {
    throw new ValidationError(
      'orderId',
      orderId,
      `must be <accountId>.<clientOrderId>, where accountId is ${IDENTIFIER_RULES.accountId.description} ` +
        `and clientOrderId is ${IDENTIFIER_RULES.clientOrderId.description}`,
    );
  }
  return { accountId, clientOrderId };
}

function rowValue(row: Readonly<Record<string, unknown>>, column: string): unknown {
  return Object.hasOwn(row, column) ? row[column] : undefined;
}

function mappingError(column: string, expected: string): ConfigurationError {
  return new ConfigurationError(`orders.${column} is not ${expected}: the select list and toStoredOrder disagree`);
}

function requiredText(row: Readonly<Record<string, unknown>>, column: string): string {
  const value = rowValue(row, column);
  if (typeof value !== 'string') throw mappingError(column, 'text');
  return value;
}

function optionalText(row: Readonly<Record<string, unknown>>, column: string): string | null {
  const value = rowValue(row, column);
  if (value === null) return null;
  if (typeof value !== 'string') throw mappingError(column, 'text or NULL');
  return value;
}

function requiredMember<T extends string>(row: Readonly<Record<string, unknown>>, column: string, allowed: readonly T[]): T {
  const value = rowValue(row, column);
  const member = allowed.find((candidate) => candidate === value);
  if (member === undefined) throw mappingError(column, `one of ${allowed.join(', ')}`);
  return member;
}

function optionalMember<T extends string>(
  row: Readonly<Record<string, unknown>>,
  column: string,
  allowed: readonly T[],
): T | null {
  return rowValue(row, column) === null ? null : requiredMember(row, column, allowed);
}

/** What isoTimestamp selects: 2026-12-03T07:45:18.265Z. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function timestamp(row: Readonly<Record<string, unknown>>, column: string): string {
  const value = rowValue(row, column);
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value)) throw mappingError(column, 'an ISO 8601 UTC timestamp');
  return value;
}
