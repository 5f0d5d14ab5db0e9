/**
 * The order events' contract on the platform bus (detail types, detail shape; the source is PLATFORM_EVENT_SOURCE) and
 * how a stored order becomes one.
 * The bus rules filter on `detail.largeNotional`, `detail.severity` and the detail type, so those must not drift.
 */
import { compareDecimals } from './decimal';
import { toOrderView, type OrderView, type StoredOrder } from './order-records';

export const ORDER_EVENT_DETAIL_TYPES = {
  accepted: 'OrderAccepted',
  rejected: 'OrderRejected',
  conflict: 'OrderConflict',
} as const;

export type OrderEventDetailType = (typeof ORDER_EVENT_DETAIL_TYPES)[keyof typeof ORDER_EVENT_DETAIL_TYPES];

export type EventSeverity = 'INFO' | 'WARNING' | 'CRITICAL';

export interface OrderEventDetail extends OrderView {
  /** notional >= the large-notional threshold; false when there is no notional (MARKET orders). */
  readonly largeNotional: boolean;
  readonly severity: EventSeverity;
}

export interface OrderEvent {
  readonly detailType: OrderEventDetailType;
  readonly detail: OrderEventDetail;
}

/** What the conflicting message asked for, as far as it was a valid order; null values where it was not. */
export interface ConflictingRequest {
  readonly symbol: string | null;
  readonly side: string | null;
  readonly type: string | null;
  readonly quantity: string | null;
  readonly limitPrice: string | null;
  readonly timeInForce: string | null;
}

/**
 * A message that reused an (accountId, clientOrderId) for other content after SQS's 5-minute deduplication window.
 * The stored order stands; this tells the client (whose 202 only meant "queued") and the audit trail.
 */
export interface OrderConflictDetail {
  readonly orderId: string;
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly reason: string;
  /** The order that stands, as GET /v1/orders/{orderId} returns it. */
  readonly storedOrder: OrderView;
  readonly conflictingRequest: ConflictingRequest;
  readonly conflictingMessageId: string;
  /** SQS SequenceNumber of the conflicting message: its place in the account's order. */
  readonly sequenceNumber: string | null;
  readonly receivedAt: string;
  readonly severity: EventSeverity;
}

export interface OrderConflictEvent {
  readonly detailType: typeof ORDER_EVENT_DETAIL_TYPES.conflict;
  readonly detail: OrderConflictDetail;
}

/** Every event the order processor publishes. */
export type PublishedOrderEvent = OrderEvent | OrderConflictEvent;

export function orderConflictEvent(
  stored: StoredOrder,
  conflicting: ConflictingRequest & { readonly messageId: string; readonly sequenceNumber: string | null; readonly receivedAt: Date },
): OrderConflictEvent {
  const view = toOrderView(stored);
  return {
    detailType: ORDER_EVENT_DETAIL_TYPES.conflict,
    detail: {
      orderId: view.orderId,
      accountId: stored.accountId,
      clientOrderId: stored.clientOrderId,
      reason:
        `clientOrderId ${JSON.stringify(stored.clientOrderId)} of account ${JSON.stringify(stored.accountId)} was already used for ` +
        'a different order; that order stands and this request was not executed. Use a new clientOrderId for a new order.',
      storedOrder: view,
      conflictingRequest: {
        symbol: conflicting.symbol,
        side: conflicting.side,
        type: conflicting.type,
        quantity: conflicting.quantity,
        limitPrice: conflicting.limitPrice,
        timeInForce: conflicting.timeInForce,
      },
      conflictingMessageId: conflicting.messageId,
      sequenceNumber: conflicting.sequenceNumber,
      receivedAt: conflicting.receivedAt.toISOString(),
      // Not a page: the original order is safe. Worth a look, as a client system reusing ids has a bug.
      severity: 'WARNING',
    },
  };
}

/**
 * Builds the event from the stored row only, so a redelivered message (whose insert did nothing) publishes exactly
 * what the first delivery stored. `largeNotionalThreshold` is a decimal string validated at cold start.
 */
export function orderEvent(order: StoredOrder, largeNotionalThreshold: string): OrderEvent {
  const largeNotional = order.notional !== null && compareDecimals(order.notional, largeNotionalThreshold) >= 0;
  return {
    detailType: order.status === 'ACCEPTED' ? ORDER_EVENT_DETAIL_TYPES.accepted : ORDER_EVENT_DETAIL_TYPES.rejected,
    detail: { ...toOrderView(order), largeNotional, severity: severityOf(order, largeNotional) },
  };
}

/**
 * CRITICAL pages someone (the bus routes it to the alert topic), so it is kept for what needs a person now: an order
 * that failed validation in the processor. The API validated it with the same schema before queueing, so it either
 * bypassed the API (someone with queue access) or the API and the processor disagree after a bad deploy.
 * Such rows are recognisable from the row alone: a rejected row without an order type never passed the schema.
 * Risk rejections (kill switch, max notional) and large orders are business as usual worth a look: WARNING.
 */
export function severityOf(order: StoredOrder, largeNotional: boolean): EventSeverity {
  if (order.status === 'REJECTED') return order.type === null ? 'CRITICAL' : 'WARNING';
  return largeNotional ? 'WARNING' : 'INFO';
}
