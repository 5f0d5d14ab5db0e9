/**
 * The order events' contract on the platform bus (source, detail types, detail shape) and how a stored order becomes one.
 * The bus rules filter on `detail.largeNotional`, `detail.severity` and the detail type, so those must not drift.
 */
import { compareDecimals } from './order-schema';
import { toOrderView, type OrderView, type StoredOrder } from './order-records';

export const ORDER_EVENT_SOURCE = 'trading.platform';

export const ORDER_EVENT_DETAIL_TYPES = {
  accepted: 'OrderAccepted',
  rejected: 'OrderRejected',
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
