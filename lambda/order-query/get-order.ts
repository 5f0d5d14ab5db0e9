/**
 * Looks up one order by its API id (`<accountId>.<clientOrderId>`) through an injected reader: pure logic that throws
 * ValidationError for a malformed id and NotFoundError for an unknown one; the handler maps both to status codes.
 */
import type { DbPoolManager } from '../shared/db';
import { NotFoundError, ValidationError } from '../shared/errors';
import {
  parseOrderId,
  STORED_ORDER_COLUMNS,
  toOrderView,
  toStoredOrder,
  type OrderKey,
  type OrderView,
  type StoredOrder,
} from '../shared/order-records';

/** The query function's port to its database. */
export interface OrderReader {
  find(key: OrderKey): Promise<StoredOrder | undefined>;
}

const SELECT_ONE = `SELECT ${STORED_ORDER_COLUMNS} FROM orders WHERE account_id = $1 AND client_order_id = $2`;

/** Reads through the pool manager, which retries transient faults and reconnects after a failover. */
export class PostgresOrderReader implements OrderReader {
  constructor(private readonly db: DbPoolManager) {}

  async find(key: OrderKey): Promise<StoredOrder | undefined> {
    const result = await this.db.query<Record<string, unknown>>(SELECT_ONE, [key.accountId, key.clientOrderId]);
    const row = result.rows[0];
    return row === undefined ? undefined : toStoredOrder(row);
  }
}

/**
 * The order for `orderId` as the API returns it. The id is checked before any query, so a malformed one costs the
 * database nothing. Reads go to the reader endpoint: an order processed a moment ago may not be visible yet
 * (replica lag, typically well under a second), which clients see as a 404 worth retrying.
 */
export async function getOrder(orderId: string | undefined, reader: OrderReader): Promise<OrderView> {
  if (orderId === undefined) throw new ValidationError('orderId', orderId, 'is required in the path /v1/orders/{orderId}');
  const key = parseOrderId(orderId);
  const order = await reader.find(key);
  if (order === undefined) throw new NotFoundError('Order', orderId);
  return toOrderView(order);
}
