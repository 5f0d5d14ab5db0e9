/**
 * One SQS FIFO batch of orders: decide every record, store the whole batch with one idempotent insert, publish one
 * event per record from the stored row, then report failures with FIFO semantics (Powertools SqsFifoPartialProcessorAsync).
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorMessage, TransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { orderConflictEvent, orderEvent } from '../shared/order-events';
import type { StoredOrder } from '../shared/order-records';
import type { RiskLimitsSource } from './config';
import type { RiskLimits } from '../shared/runtime-parameters';
import { decide, parseMessage, type NewOrderRow, type ParsedMessage } from './decide';
import type { EventPublisher, OutgoingEvent } from '../shared/event-publisher';
import { orderKeyString, type ConflictingOrder, type OrderStore } from './order-store';
import { hasTimeFor, type TimeBudget } from '../shared/time-budget';
import { OutOfTimeError } from './time-budget';

export interface OrderBatchPorts {
  readonly store: OrderStore;
  /** Ordered per group (the account's message group): see EventBridgePublisher's `per-group` ordering. */
  readonly publisher: EventPublisher;
  readonly riskLimits: RiskLimitsSource;
  /** Decimal string; see ProcessorSettings.largeNotionalThreshold. */
  readonly largeNotionalThreshold: string;
  readonly clock: () => Date;
  readonly logger: LogPort;
  /**
   * Worst case of reading the risk limits (an SSM call with its client's deadlines); the read is not started with
   * less time left than this plus the database attempt that must follow it.
   * @default 0 (no check)
   */
  readonly riskLimitsWorstCaseMs?: number;
}

/** Counts per batch, for metrics. Accepted/rejected count acknowledged records by their stored status. */
export interface BatchSummary {
  readonly batchSize: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Reported as batch-item failures: SQS delivers them again. */
  readonly failed: number;
  /** Acknowledged records whose order was already stored (a redelivery or a duplicate send). */
  readonly duplicates: number;
}

export interface BatchResult {
  readonly response: SQSBatchResponse;
  readonly summary: BatchSummary;
}

/** Why a record was not completed in this invocation; becomes its batch-item failure. */
type RecordFailures = Map<string, Error>;

/** What a step did, and the records it failed (by message id), for processOrderBatch to merge. */
interface StepOutcome {
  readonly failures: ReadonlyMap<string, Error>;
}

/** Shared by the steps that failed nothing; never written to. */
const NO_FAILURES: ReadonlyMap<string, Error> = new Map();
const NO_IDS: ReadonlySet<string> = new Set();

export async function processOrderBatch(event: SQSEvent, ports: OrderBatchPorts, budget: TimeBudget): Promise<BatchResult> {
  const records = event.Records;
  // storeBatch's failures are a map of its own making, so this function carries on with it rather than a copy.
  const { stored, failures } = await storeBatch(records, ports, budget);

  if (stored !== undefined) {
    const found = findConflicts(records, stored, ports, failures);
    // Nearly every batch has none: then nothing is sent and nothing awaited (each await costs, docs/performance.md).
    // process-batch.test.ts proves the store is not asked when there is no conflict.
    const { conflicts, failures: conflictFailures } = found.size === 0 ? { conflicts: found, failures: NO_FAILURES } : await recordConflicts(found, ports, budget);
    for (const [messageId, error] of conflictFailures) failures.set(messageId, error);
    const outgoing: OutgoingEvent[] = [];
    // A group with a failed record publishes nothing after it: those records fail too (FIFO), and their events must
    // not reach the bus before the failed record's own.
    const blockedGroups = new Set<string>();
    for (const record of records) {
      const order = stored.orders.get(record.messageId);
      const group = record.attributes.MessageGroupId ?? order?.accountId ?? record.messageId;
      if (blockedGroups.has(group)) continue;
      if (failures.has(record.messageId)) {
        blockedGroups.add(group);
        continue;
      }
      if (order === undefined) {
        // Only if the row vanished between insert and read-back; redelivery inserts it again.
        failures.set(record.messageId, new TransientError('the order was not found after it was stored'));
        blockedGroups.add(group);
        continue;
      }
      const conflict = conflicts.get(record.messageId);
      outgoing.push({
        id: record.messageId,
        group,
        ...(conflict === undefined ? orderEvent(order, ports.largeNotionalThreshold) : orderConflictEvent(order, conflict)),
      });
    }
    // In record order per account, each event only after the account's previous one was accepted, stopping at the
    // first failure (the publisher's contract): no later event of an account is ever on the bus before an earlier one.
    // Every event carries the SQS SequenceNumber, so consumers can restore the order EventBridge does not keep, and
    // de-duplicate on orderId, as every redelivery publishes again.
    const { failed: unpublished } = await ports.publisher.publish(outgoing, budget);
    for (const [messageId, error] of unpublished) failures.set(messageId, error);
  }

  // Nothing failed, so no record is held back either: the common case skips Powertools' walk through the records,
  // which cost about 3 us per record (docs/performance.md, section 1). The walk would give the same answer;
  // process-batch.test.ts proves that it is skipped.
  if (failures.size === 0) return { response: { batchItemFailures: [] }, summary: summarise(records, stored, NO_IDS) };
  const response = await reportWithFifoSemantics(event, failures);
  const failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  for (const record of records) {
    const failure = failures.get(record.messageId);
    if (failure !== undefined) {
      ports.logger.warn('order record failed; SQS will deliver it again', { messageId: record.messageId, error: errorMessage(failure) });
    } else if (failedIds.has(record.messageId)) {
      ports.logger.info('order record held back behind a failed record of its message group', {
        messageId: record.messageId,
        messageGroupId: record.attributes.MessageGroupId,
      });
    }
  }
  return { response, summary: summarise(records, stored, failedIds) };
}

interface StoredBatch {
  /** The stored order per message id. */
  readonly orders: ReadonlyMap<string, StoredOrder>;
  /** Message ids whose order this invocation inserted. */
  readonly insertedBy: ReadonlySet<string>;
  /** The row each message was decided into. */
  readonly decided: ReadonlyMap<string, NewOrderRow>;
  /** The stored order's content hash per message id (null for rows stored before hashes were recorded). */
  readonly storedHashes: ReadonlyMap<string, string | null>;
}

/**
 * Messages whose (accountId, clientOrderId) was already stored with other content: a client reused the id after
 * SQS's 5-minute deduplication window. The stored order stands; the message is kept in order_conflicts (see
 * recordConflicts) and answered with an OrderConflict event. Records that `failed` already are left out.
 */
function findConflicts(
  records: readonly SQSRecord[],
  stored: StoredBatch,
  ports: OrderBatchPorts,
  failed: ReadonlyMap<string, Error>,
): Map<string, ConflictingOrder> {
  const conflicts = new Map<string, ConflictingOrder>();
  for (const record of records) {
    // A record this invocation inserted holds its own row's hash, so the comparison below passes it by.
    if (failed.has(record.messageId)) continue;
    const row = stored.decided.get(record.messageId);
    const storedHash = stored.storedHashes.get(record.messageId);
    if (row === undefined || storedHash === undefined || storedHash === null || storedHash === row.contentHash) continue;
    conflicts.set(record.messageId, { ...row, messageId: record.messageId });
    ports.logger.warn('clientOrderId reused for a different order; the stored order stands', {
      messageId: record.messageId,
      accountId: row.accountId,
      clientOrderId: row.clientOrderId,
    });
  }
  return conflicts;
}

/** Keeps the conflicting messages in order_conflicts. A record whose conflict cannot be recorded fails, so SQS delivers it again. */
async function recordConflicts(
  conflicts: ReadonlyMap<string, ConflictingOrder>,
  ports: OrderBatchPorts,
  budget: TimeBudget,
): Promise<StepOutcome & { readonly conflicts: ReadonlyMap<string, ConflictingOrder> }> {
  try {
    await ports.store.recordConflicts([...conflicts.values()], budget);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(errorMessage(err));
    ports.logger.error('order conflicts could not be recorded', { conflicts: conflicts.size, error: errorMessage(err) });
    return { conflicts: new Map(), failures: new Map([...conflicts.keys()].map((messageId) => [messageId, error])) };
  }
  return { conflicts, failures: new Map() };
}

/**
 * Parses, decides and stores the batch. A failure here (limits unreadable, database down after all retries) fails
 * every record: the batch was decided and written as one, so no record of it is known to be stored.
 */
async function storeBatch(
  records: readonly SQSRecord[],
  ports: OrderBatchPorts,
  budget: TimeBudget,
): Promise<{ readonly stored: StoredBatch | undefined; readonly failures: RecordFailures }> {
  const failures: RecordFailures = new Map();
  const processedAt = ports.clock();
  const parsed: ParsedMessage[] = records.map((record) => parseMessage(record, processedAt));
  try {
    // Only a valid order needs the limits; a batch of poison messages is still recorded while SSM is unreachable.
    const needsLimits = parsed.some((message) => message.kind === 'valid');
    if (needsLimits && !hasTimeFor(budget, ports.riskLimitsWorstCaseMs ?? 0)) {
      throw new OutOfTimeError(`reading the risk limits was not started: ${budget.remainingMs()} ms left, it may take ${ports.riskLimitsWorstCaseMs ?? 0} ms`);
    }
    const limits: RiskLimits | undefined = needsLimits ? await ports.riskLimits() : undefined;
    const rows: NewOrderRow[] = [];
    for (const message of parsed) {
      try {
        rows.push(decide(message, limits, processedAt));
      } catch (err) {
        // Not a property of the message (parseMessage turned every bad input into a reason): fail only this record,
        // so SQS delivers it again and, if it keeps failing, dead-letters it with its neighbours untouched.
        failures.set(message.messageId, err instanceof Error ? err : new Error(errorMessage(err)));
      }
    }
    for (const row of rows) {
      if (row.status === 'REJECTED') {
        ports.logger.info('order rejected', { messageId: row.sqsMessageId, accountId: row.accountId, reason: row.rejectReason });
      }
    }
    const saved = await ports.store.save(rows, budget);
    const byMessage = new Map<string, StoredOrder>();
    const insertedBy = new Set<string>();
    const decided = new Map(rows.map((row) => [row.sqsMessageId, row]));
    const storedHashes = new Map<string, string | null>();
    for (const message of parsed) {
      const key = orderKeyString(message.key);
      const refused = saved.failed.get(key);
      if (refused !== undefined) failures.set(message.messageId, refused);
      const order = saved.stored.get(key);
      if (order !== undefined) byMessage.set(message.messageId, order);
      const hash = saved.contentHashes.get(key);
      if (hash !== undefined) storedHashes.set(message.messageId, hash);
      // Of two messages with one key in a batch, only the one whose message id the row carries inserted it.
      if (saved.inserted.has(key) && saved.storedMessageIds.get(key) === message.messageId) {
        insertedBy.add(message.messageId);
      }
    }
    return { stored: { orders: byMessage, insertedBy, decided, storedHashes }, failures };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(errorMessage(err));
    ports.logger.error('order batch could not be stored', { batchSize: records.length, error: errorMessage(err) });
    return { stored: undefined, failures: new Map(records.map((record) => [record.messageId, error])) };
  }
}

/**
 * Walks the records in order with Powertools' FIFO processor: a record fails if it failed here, and with
 * skipGroupOnError every later record of the same message group fails too (processing it now would overtake the
 * failed one), while other groups carry on. throwOnFullBatchFailure is off so that a fully failed batch is reported
 * the same way, with every record listed, and the handler can still flush its metrics.
 */
async function reportWithFifoSemantics(event: SQSEvent, failures: ReadonlyMap<string, Error>): Promise<SQSBatchResponse> {
  // One per call: the processor keeps per-batch state, and building it is cheap.
  const processor = new SqsFifoPartialProcessorAsync();
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const failure = failures.get(record.messageId);
    if (failure !== undefined) throw failure;
  };
  return processPartialResponse(event, recordHandler, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false });
}

function summarise(records: readonly SQSRecord[], stored: StoredBatch | undefined, failedIds: ReadonlySet<string>): BatchSummary {
  let accepted = 0;
  let rejected = 0;
  let duplicates = 0;
  for (const record of records) {
    if (failedIds.has(record.messageId)) continue;
    const order = stored?.orders.get(record.messageId);
    if (order?.status === 'ACCEPTED') accepted += 1;
    if (order?.status === 'REJECTED') rejected += 1;
    if (stored !== undefined && !stored.insertedBy.has(record.messageId)) duplicates += 1;
  }
  return { batchSize: records.length, accepted, rejected, failed: failedIds.size, duplicates };
}
