/**
 * One SQS FIFO batch of orders: decide every record, store the whole batch with one idempotent insert, publish one
 * event per record from the stored row, then report failures with FIFO semantics (Powertools SqsFifoPartialProcessorAsync).
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorMessage, TransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { orderEvent } from '../shared/order-events';
import type { StoredOrder } from '../shared/order-records';
import type { RiskLimitsSource } from './config';
import { decide, parseMessage, type NewOrderRow, type ParsedMessage, type RiskLimits } from './decide';
import { orderKeyString, type OrderStore } from './order-store';
import type { OrderPublisher, OutgoingEvent } from './publisher';
import type { TimeBudget } from './time-budget';

export interface OrderBatchPorts {
  readonly store: OrderStore;
  readonly publisher: OrderPublisher;
  readonly riskLimits: RiskLimitsSource;
  /** Decimal string; see ProcessorSettings.largeNotionalThreshold. */
  readonly largeNotionalThreshold: string;
  readonly clock: () => Date;
  readonly logger: LogPort;
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

export async function processOrderBatch(event: SQSEvent, ports: OrderBatchPorts, budget: TimeBudget): Promise<BatchResult> {
  const records = event.Records;
  const failures: RecordFailures = new Map();
  const stored = await storeBatch(records, ports, budget, failures);

  if (stored !== undefined) {
    const outgoing: OutgoingEvent[] = [];
    for (const record of records) {
      if (failures.has(record.messageId)) continue;
      const order = stored.rows.get(record.messageId);
      if (order === undefined) {
        // Only if the row vanished between insert and read-back; redelivery inserts it again.
        failures.set(record.messageId, new TransientError('the order was not found after it was stored'));
        continue;
      }
      outgoing.push({ id: record.messageId, event: orderEvent(order, ports.largeNotionalThreshold) });
    }
    // EventBridge does not preserve order anyway, so events go out together; consumers order by processedAt and
    // de-duplicate on orderId, as every redelivery publishes again.
    const unpublished = await ports.publisher.publish(outgoing, budget);
    for (const [messageId, error] of unpublished) failures.set(messageId, error);
  }

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
  readonly rows: ReadonlyMap<string, StoredOrder>;
  /** Message ids whose order this invocation inserted. */
  readonly insertedBy: ReadonlySet<string>;
}

/**
 * Parses, decides and stores the batch. A failure here (limits unreadable, database down after all retries) fails
 * every record: the batch was decided and written as one, so no record of it is known to be stored.
 */
async function storeBatch(
  records: readonly SQSRecord[],
  ports: OrderBatchPorts,
  budget: TimeBudget,
  failures: RecordFailures,
): Promise<StoredBatch | undefined> {
  const processedAt = ports.clock();
  const parsed: ParsedMessage[] = records.map((record) => parseMessage(record, processedAt));
  try {
    // Only a valid order needs the limits; a batch of poison messages is still recorded while SSM is unreachable.
    const limits: RiskLimits | undefined = parsed.some((message) => message.kind === 'valid') ? await ports.riskLimits() : undefined;
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
    for (const message of parsed) {
      const key = orderKeyString(message.key);
      const refused = saved.failed.get(key);
      if (refused !== undefined) failures.set(message.messageId, refused);
      const order = saved.stored.get(key);
      if (order !== undefined) byMessage.set(message.messageId, order);
      if (saved.inserted.has(key)) insertedBy.add(message.messageId);
    }
    return { rows: byMessage, insertedBy };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(errorMessage(err));
    ports.logger.error('order batch could not be stored', { batchSize: records.length, error: errorMessage(err) });
    for (const record of records) failures.set(record.messageId, error);
    return undefined;
  }
}

/**
 * Walks the records in order with Powertools' FIFO processor: a record fails if it failed here, and with
 * skipGroupOnError every later record of the same message group fails too (processing it now would overtake the
 * failed one), while other groups carry on. throwOnFullBatchFailure is off so that a fully failed batch is reported
 * the same way, with every record listed, and the handler can still flush its metrics.
 */
async function reportWithFifoSemantics(event: SQSEvent, failures: RecordFailures): Promise<SQSBatchResponse> {
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
    const order = stored?.rows.get(record.messageId);
    if (order?.status === 'ACCEPTED') accepted += 1;
    if (order?.status === 'REJECTED') rejected += 1;
    if (stored !== undefined && !stored.insertedBy.has(record.messageId)) duplicates += 1;
  }
  return { batchSize: records.length, accepted, rejected, failed: failedIds.size, duplicates };
}
