/**
 * Writes a whole batch of decided orders with one idempotent multi-row INSERT and reads back the stored rows, retrying
 * transient database faults with backoff (reconnecting after a failover) for as long as the invocation can afford.
 */
import type { PoolClient, QueryConfig, QueryResult } from 'pg';
import { dbAttemptWorstCaseMs, type DbPoolManager } from '../shared/db';
import { errorMessage, isAuthenticationError, isDataError, isTransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { STORED_ORDER_COLUMNS, toStoredOrder, type OrderKey, type StoredOrder } from '../shared/order-records';
import { rejectedWithoutValues, storableBody, wellFormedWithoutNul, type NewOrderRow } from './decide';
import { retryWithinBudget, type BackoffSettings, type BudgetedRetryPolicy, type TimeBudget } from './time-budget';

export interface SaveResult {
  /** The stored row for every key of the batch, by `orderKeyString`. */
  readonly stored: ReadonlyMap<string, StoredOrder>;
  /**
   * Keys this call inserted; the others already existed (a redelivery). For metrics only: after a retry whose first
   * attempt committed before the connection broke, rows this invocation wrote are counted as existing.
   */
  readonly inserted: ReadonlySet<string>;
  /**
   * Keys whose row the database refused even in the reduced form (see PostgresOrderStore.save), with why; their
   * records fail on their own and reach the DLQ after maxReceiveCount. Empty in every case seen so far.
   */
  readonly failed: ReadonlyMap<string, Error>;
  /** The stored content hash per key (null for rows stored before it was recorded), to detect a reused clientOrderId. */
  readonly contentHashes: ReadonlyMap<string, string | null>;
  /** The SQS message id each stored row came from: of two messages with one key, only that one inserted it. */
  readonly storedMessageIds: ReadonlyMap<string, string | null>;
}

/** A decided row whose key was already stored with other content, and the message that carried it. */
export type ConflictingOrder = NewOrderRow & { readonly messageId: string };

/** The processor's port to its database. */
export interface OrderStore {
  save(rows: readonly NewOrderRow[], budget: TimeBudget): Promise<SaveResult>;
  /** Keeps each conflicting message in order_conflicts, once per SQS message id; an empty list sends nothing. */
  recordConflicts(conflicts: readonly ConflictingOrder[], budget: TimeBudget): Promise<void>;
}

/** A map key for an order key; JSON so that no separator can collide, whatever an unvalidated key contains. */
export function orderKeyString(key: OrderKey): string {
  return JSON.stringify([key.accountId, key.clientOrderId]);
}

/** Column, SQL cast and value of a row, in insert order. */
const INSERT_COLUMNS: ReadonlyArray<readonly [string, string, (row: NewOrderRow) => unknown]> = [
  ['account_id', 'text', (row) => row.accountId],
  ['client_order_id', 'text', (row) => row.clientOrderId],
  ['symbol', 'text', (row) => row.symbol],
  ['side', 'text', (row) => row.side],
  ['order_type', 'text', (row) => row.type],
  ['quantity', 'numeric', (row) => row.quantity],
  ['limit_price', 'numeric', (row) => row.limitPrice],
  ['time_in_force', 'text', (row) => row.timeInForce],
  ['notional', 'numeric', (row) => row.notional],
  ['status', 'text', (row) => row.status],
  ['reject_reason', 'text', (row) => row.rejectReason],
  ['request_payload', 'jsonb', (row) => row.requestPayload],
  ['sqs_message_id', 'text', (row) => row.sqsMessageId],
  // As ISO 8601 text: pg would format a Date in the container's local time zone, field by field, at several times the cost.
  ['received_at', 'timestamptz', (row) => row.receivedAt.toISOString()],
  ['processed_at', 'timestamptz', (row) => row.processedAt.toISOString()],
  ['sqs_sequence_number', 'numeric', (row) => row.sequenceNumber],
  ['content_hash', 'text', (row) => row.contentHash],
];

/**
 * The batch's INSERT: one array parameter per column, expanded by unnest, so the statement text is the same for every
 * batch size (prepared once per connection) and a batch travels as 17 parameters, not 17 per row. Values stay
 * parameters: decimal strings reach NUMERIC as text, so no float is involved; unnest keeps the rows in batch order.
 */
export const INSERT_ORDERS =
  `INSERT INTO orders (${INSERT_COLUMNS.map(([column]) => column).join(', ')})\n` +
  `SELECT * FROM unnest(${INSERT_COLUMNS.map(([, cast], index) => `$${index + 1}::${cast}[]`).join(', ')})\n` +
  // The idempotency key: a redelivered message inserts nothing and the first decision stands.
  'ON CONFLICT (account_id, client_order_id) DO NOTHING\n' +
  `RETURNING ${STORED_ORDER_COLUMNS}, content_hash, sqs_message_id`;

/** The parameters of INSERT_ORDERS: column by column, each an array with one element per row. */
export function insertParameters(rows: readonly NewOrderRow[]): unknown[][] {
  return INSERT_COLUMNS.map(([, , read]) => rows.map(read));
}

const SELECT_BY_KEYS =
  `SELECT ${STORED_ORDER_COLUMNS}, content_hash, sqs_message_id FROM orders\n` +
  'WHERE (account_id, client_order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))';

const INSERT_CONFLICTS =
  'INSERT INTO order_conflicts (account_id, client_order_id, sqs_message_id, sqs_sequence_number, content_hash, request_payload, received_at)\n' +
  'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::jsonb[], $7::timestamptz[])\n' +
  // A redelivered conflicting message is recorded once.
  'ON CONFLICT (sqs_message_id) DO NOTHING';

export interface PostgresOrderStoreOptions {
  /**
   * Backoff for transient faults, bounded further by the invocation's remaining time.
   * @default { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 4000 }
   */
  readonly retry?: BackoffSettings;
  /**
   * Time to keep for after the database work: publishing the events and answering. Each attempt also needs its own
   * worst case (dbAttemptWorstCaseMs) on top.
   * @default 6000
   */
  readonly reserveMs?: number;
  readonly logger: LogPort;
}

/** The pool manager's own retry is off for the store's calls: the store's budgeted retry is the one that knows the deadline. */
const NO_POOL_RETRY = { retry: false } as const;

export class PostgresOrderStore implements OrderStore {
  /** The batch insert (and read-back): two statements per attempt. */
  private readonly saveRetry: BudgetedRetryPolicy;
  private readonly conflictRetry: BudgetedRetryPolicy;

  constructor(
    private readonly db: DbPoolManager,
    private readonly options: PostgresOrderStoreOptions,
  ) {
    const backoff = options.retry ?? { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 4_000 };
    const common = { ...backoff, reserveMs: options.reserveMs ?? 6_000, logger: options.logger };
    // Built once, not spread into new options on every batch (docs/performance.md, section 1).
    this.saveRetry = {
      ...common,
      // Insert, then read back the keys that already existed: two statements on one connection.
      attemptWorstCaseMs: () => dbAttemptWorstCaseMs(this.db, 2),
      operation: 'storing the order batch',
    };
    this.conflictRetry = { ...common, attemptWorstCaseMs: () => dbAttemptWorstCaseMs(this.db, 1), operation: 'recording order conflicts' };
  }

  save(rows: readonly NewOrderRow[], budget: TimeBudget): Promise<SaveResult> {
    // Not async: one promise less on every batch's path (docs/performance.md, section 1).
    if (rows.length === 0) return Promise.resolve({ stored: new Map(), inserted: new Set(), failed: new Map(), contentHashes: new Map(), storedMessageIds: new Map() });
    let saving: Promise<SaveResult>;
    try {
      saving = this.saveTogether(rows, budget);
    } catch (err) {
      saving = Promise.reject(err);
    }
    return saving.catch((err: unknown) => {
      if (!isDataError(err)) throw err;
      this.options.logger.warn('the batch insert was refused by the database; storing its orders one by one', { rows: rows.length, error: errorMessage(err) });
      return this.saveEachAlone(rows, budget);
    });
  }

  /**
   * One value PostgreSQL refuses fails a multi-row INSERT for every row. Row by row, each refused row is stored
   * reduced to what cannot be refused (key, REJECTED with the database's reason, the body as a JSON string), so the
   * record ends as a rejection and its neighbours are stored as decided.
   */
  private async saveEachAlone(rows: readonly NewOrderRow[], budget: TimeBudget): Promise<SaveResult> {
    const stored = new Map<string, StoredOrder>();
    const inserted = new Set<string>();
    const failed = new Map<string, Error>();
    const contentHashes = new Map<string, string | null>();
    const storedMessageIds = new Map<string, string | null>();
    for (const row of rows) {
      let result: SaveResult;
      try {
        result = await this.saveTogether([row], budget);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.options.logger.warn('the database refused an order row; recording it as rejected without its values', {
          messageId: row.sqsMessageId,
          error: errorMessage(err),
        });
        try {
          result = await this.saveTogether([refusedRow(row, err)], budget);
        } catch (reducedErr) {
          if (!isDataError(reducedErr)) throw reducedErr;
          failed.set(orderKeyString(row), reducedErr instanceof Error ? reducedErr : new Error(errorMessage(reducedErr)));
          continue;
        }
      }
      for (const [key, order] of result.stored) stored.set(key, order);
      for (const key of result.inserted) inserted.add(key);
      for (const [key, hash] of result.contentHashes) contentHashes.set(key, hash);
      for (const [key, messageId] of result.storedMessageIds) storedMessageIds.set(key, messageId);
    }
    return { stored, inserted, failed, contentHashes, storedMessageIds };
  }

  recordConflicts(conflicts: readonly ConflictingOrder[], budget: TimeBudget): Promise<void> {
    // Called for every batch, nearly always with none: not async, so that case costs no promise but the one returned.
    if (conflicts.length === 0) return Promise.resolve();
    const column = <T>(read: (conflict: ConflictingOrder) => T): T[] => conflicts.map(read);
    const values = [
      column((conflict) => conflict.accountId),
      column((conflict) => conflict.clientOrderId),
      column((conflict) => conflict.messageId),
      column((conflict) => conflict.sequenceNumber),
      column((conflict) => conflict.contentHash),
      column((conflict) => storableBody(conflict.rawBody)),
      column((conflict) => conflict.receivedAt),
    ];
    return retryWithinBudget(
      async () => {
        await this.db.query(INSERT_CONFLICTS, values, NO_POOL_RETRY);
      },
      this.conflictRetry,
      budget,
      isTransientError,
    );
  }

  private saveTogether(rows: readonly NewOrderRow[], budget: TimeBudget): Promise<SaveResult> {
    const values = insertParameters(rows);
    const keys = uniqueKeys(rows);
    let credentialsRefreshed = false;
    // The pool manager still discards a broken pool on every failed attempt, so each retry reconnects (after a failover).
    return retryWithinBudget(
      () => this.db.withClient((client) => insertAndReadBack(client, values, keys), NO_POOL_RETRY),
      this.saveRetry,
      budget,
      (error) => {
        if (isTransientError(error)) return true;
        // Once, with credentials re-read from the secret: they may just have been rotated.
        if (isAuthenticationError(error) && !credentialsRefreshed) {
          credentialsRefreshed = true;
          return true;
        }
        return false;
      },
    );
  }
}

/**
 * The insert returns the rows it stored; only keys that were already there (a redelivery, a duplicate send) are read
 * back, on the same connection and retried together: if the connection dies after the insert committed, the retry's
 * insert is a no-op and those keys come back from the read-back. Reading from the writer, the rows are current.
 */
function insertAndReadBack(client: PoolClient, values: readonly unknown[][], keys: ReadonlyMap<string, OrderKey>): Promise<SaveResult> {
  const stored = new Map<string, StoredOrder>();
  const contentHashes = new Map<string, string | null>();
  const storedMessageIds = new Map<string, string | null>();
  const keep = (row: Record<string, unknown>): void => {
    const order = toStoredOrder(row);
    const key = orderKeyString(order);
    stored.set(key, order);
    contentHashes.set(key, typeof row['content_hash'] === 'string' ? row['content_hash'] : null);
    storedMessageIds.set(key, typeof row['sqs_message_id'] === 'string' ? row['sqs_message_id'] : null);
  };
  // A named (prepared) statement: parsed and planned once per connection instead of once per batch.
  return runQuery(client, { name: 'insert-orders', text: INSERT_ORDERS, values: [...values] }).then((inserted) => {
    for (const row of inserted.rows) keep(row);
    const insertedKeys = new Set(stored.keys());
    const result: SaveResult = { stored, inserted: insertedKeys, failed: new Map(), contentHashes, storedMessageIds };
    if (stored.size === keys.size) return result;
    const missing: OrderKey[] = [];
    for (const [keyString, key] of keys) if (!stored.has(keyString)) missing.push(key);
    return runQuery(client, { text: SELECT_BY_KEYS, values: [missing.map((key) => key.accountId), missing.map((key) => key.clientOrderId)] }).then((selected) => {
      for (const row of selected.rows) keep(row);
      return result;
    });
  });
}

/**
 * One statement through pg's callback form: one promise, where pg's promise form makes two (each costs on every batch's
 * path, docs/performance.md). The client's query_timeout applies to both forms alike.
 */
function runQuery(client: PoolClient, query: QueryConfig): Promise<QueryResult<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    client.query<Record<string, unknown>>(query, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The row reduced to what the table always accepts: the key, REJECTED with the database's own words, the body as a JSON string. */
function refusedRow(row: NewOrderRow, err: unknown): NewOrderRow {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown';
  return rejectedWithoutValues({
    ...row,
    rejectReason: wellFormedWithoutNul(`The database refused the order's values (SQLSTATE ${code}: ${errorMessage(err)})`).slice(0, 1_000),
    requestPayload: JSON.stringify(wellFormedWithoutNul(row.rawBody)),
  });
}

/** The batch's keys by orderKeyString, each once. */
function uniqueKeys(rows: readonly NewOrderRow[]): Map<string, OrderKey> {
  const keys = new Map<string, OrderKey>();
  for (const row of rows) keys.set(orderKeyString(row), { accountId: row.accountId, clientOrderId: row.clientOrderId });
  return keys;
}
