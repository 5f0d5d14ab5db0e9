/**
 * When SQS delivers a failed order record again. Left alone, a failed record stays invisible for the queue's whole
 * visibility timeout (six times the function timeout, 180 s) and holds its account's message group that long; the
 * processor instead sets each failed record's visibility to a short backoff that grows with its receive count.
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { errorMessage } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { DEFAULT_REDELIVERY, redeliveryDelaySeconds, type RedeliverySchedule } from './redelivery-schedule';
import { hasTimeFor, type TimeBudget } from '../shared/time-budget';

export { DEFAULT_REDELIVERY, minimumTimeToDeadLetterSeconds, redeliveryDelaySeconds, type RedeliverySchedule } from './redelivery-schedule';

/** SQS's limit of entries per ChangeMessageVisibilityBatch call. */
const MAX_ENTRIES_PER_CALL = 10;

/** The one SQS call the scheduler makes; an SQSClient adapts with `sqsChangeVisibility`. */
export type ChangeVisibilityPort = (input: {
  readonly QueueUrl: string;
  readonly Entries: ReadonlyArray<{ readonly Id: string; readonly ReceiptHandle: string; readonly VisibilityTimeout: number }>;
}) => Promise<{ readonly Failed?: ReadonlyArray<{ readonly Id?: string; readonly Code?: string; readonly Message?: string }> }>;

export function sqsChangeVisibility(client: Pick<SQSClient, 'send'>): ChangeVisibilityPort {
  return (input) => client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: input.QueueUrl, Entries: input.Entries.map((entry) => ({ ...entry })) }));
}

export interface RedeliveryOptions {
  readonly changeVisibility: ChangeVisibilityPort;
  readonly queueUrl: string;
  /** @default DEFAULT_REDELIVERY */
  readonly schedule?: RedeliverySchedule;
  /** Worst case of one ChangeMessageVisibilityBatch call; none is started with less time left (plus 500 ms). */
  readonly callWorstCaseMs: number;
  readonly logger: LogPort;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * Sets the visibility of every failed record (held-back ones included: a FIFO group is released only when all its
 * in-flight messages are) to its backoff. Best effort: if SQS refuses or time is short, the queue's visibility
 * timeout applies, as it would without this. Returns the highest receive count among the failed records, for the
 * alarm that sees one stuck account.
 */
export async function scheduleRedelivery(
  records: readonly SQSRecord[],
  response: SQSBatchResponse,
  budget: TimeBudget,
  options: RedeliveryOptions,
): Promise<number> {
  const failedIds = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const failed = records.filter((record) => failedIds.has(record.messageId));
  const maxReceiveCount = failed.reduce((highest, record) => Math.max(highest, receiveCountOf(record)), 0);
  const schedule = options.schedule ?? DEFAULT_REDELIVERY;
  for (let start = 0; start < failed.length; start += MAX_ENTRIES_PER_CALL) {
    const chunk = failed.slice(start, start + MAX_ENTRIES_PER_CALL);
    if (!hasTimeFor(budget, options.callWorstCaseMs + 500)) {
      options.logger.warn('no time left to shorten the redelivery of failed records; the visibility timeout applies', { records: failed.length - start });
      break;
    }
    const entries = chunk.map((record, index) => ({
      Id: String(index),
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: redeliveryDelaySeconds(receiveCountOf(record), schedule, options.random),
    }));
    try {
      const result = await options.changeVisibility({ QueueUrl: options.queueUrl, Entries: entries });
      for (const refused of result.Failed ?? []) {
        options.logger.warn('SQS did not shorten the redelivery of a failed record; the visibility timeout applies', {
          messageId: chunk[Number(refused.Id)]?.messageId,
          code: refused.Code,
          error: refused.Message,
        });
      }
    } catch (err) {
      options.logger.warn('shortening the redelivery of failed records failed; the visibility timeout applies', { records: chunk.length, error: errorMessage(err) });
    }
  }
  return maxReceiveCount;
}

function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes.ApproximateReceiveCount);
  return Number.isSafeInteger(count) && count > 0 ? count : 1;
}
