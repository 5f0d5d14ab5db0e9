/**
 * Publishes order events to the platform bus with PutEvents (at most 10 entries per call), retrying failed entries
 * with backoff within the invocation's time, and reports which events could not be published so their records fail.
 */
import type { PutEventsCommandInput, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AppError, errorMessage, isTransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { backoffDelay, defaultSleep } from '../shared/retry';
import { ORDER_EVENT_SOURCE, type OrderEvent } from '../shared/order-events';
import type { BackoffSettings, TimeBudget } from './time-budget';

/** PutEvents accepts at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;

/** The one EventBridge call the publisher makes; an EventBridgeClient adapts with `eventBridgePutEvents`. */
export type PutEventsPort = (input: PutEventsCommandInput) => Promise<Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>>;

/** Adapts an SDK client (whose own retry strategy handles throttling of whole calls first). */
export function eventBridgePutEvents(client: { send(command: PutEventsCommand): Promise<PutEventsCommandOutput> }): PutEventsPort {
  return (input) => client.send(new PutEventsCommand(input));
}

/** An event and the id its outcome is reported under (the SQS message id). */
export interface OutgoingEvent {
  readonly id: string;
  readonly event: OrderEvent;
}

export interface OrderPublisher {
  /** Publishes every event it can; the result maps the id of each event that could not be published to why. */
  publish(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<ReadonlyMap<string, Error>>;
}

/**
 * Entry error codes worth another try. The others (AccessDenied, MalformedDetail, KMS errors, ...) will not heal
 * within this invocation; their records still fail, so the event is not lost: SQS redelivers the message, or it
 * lands in the DLQ for an operator once the cause is fixed.
 */
const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'InternalFailure',
  'InternalException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

export interface EventBridgePublisherOptions {
  readonly eventBusName: string;
  /**
   * Backoff for failed entries (the SDK has already retried failed calls).
   * @default { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 }
   */
  readonly retry?: BackoffSettings;
  /**
   * Time to keep for the rest of the invocation after a backoff.
   * @default 2000
   */
  readonly reserveMs?: number;
  readonly logger: LogPort;
}

/** An order event EventBridge did not accept; its record fails so that SQS redelivers it and the event is sent again. */
export class EventPublishError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface EntryFailure {
  readonly error: Error;
  readonly retryable: boolean;
}

export class EventBridgeOrderPublisher implements OrderPublisher {
  private readonly retry: BackoffSettings;
  private readonly reserveMs: number;

  constructor(
    private readonly putEvents: PutEventsPort,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.retry = options.retry ?? { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };
    this.reserveMs = options.reserveMs ?? 2_000;
  }

  async publish(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<ReadonlyMap<string, Error>> {
    const failures = new Map<string, Error>();
    let pending = [...events];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const attemptFailures = await this.sendAll(pending);
      for (const event of pending) failures.delete(event.id);
      for (const [id, failure] of attemptFailures) failures.set(id, failure.error);
      const retryable = pending.filter((event) => attemptFailures.get(event.id)?.retryable === true);
      if (retryable.length === 0 || attempt >= this.retry.maxAttempts) break;
      const delayMs = backoffDelay(attempt - 1, this.retry.baseDelayMs, this.retry.maxDelayMs, this.retry.random ?? Math.random);
      if (budget.remainingMs() - delayMs < this.reserveMs) {
        this.options.logger.warn('publishing order events failed and there is no time left to retry', { failed: retryable.length });
        break;
      }
      this.options.logger.warn('some order events were not published, retrying', {
        attempt,
        delayMs,
        failed: retryable.length,
        error: errorMessage(attemptFailures.get(retryable[0]?.id ?? '')?.error),
      });
      await (this.retry.sleep ?? defaultSleep)(delayMs);
      pending = retryable;
    }
    return failures;
  }

  /** One PutEvents call per 10 events, sequentially; a FIFO batch has at most 10 messages, so usually one call. */
  private async sendAll(events: readonly OutgoingEvent[]): Promise<Map<string, EntryFailure>> {
    const failures = new Map<string, EntryFailure>();
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      const chunk = events.slice(start, start + MAX_ENTRIES_PER_CALL);
      let output: Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>;
      try {
        output = await this.putEvents({
          Entries: chunk.map(({ event }) => ({
            EventBusName: this.options.eventBusName,
            Source: ORDER_EVENT_SOURCE,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
          })),
        });
      } catch (err) {
        const retryable = isTransientError(err);
        const error = new EventPublishError(`PutEvents failed: ${errorMessage(err)}`, retryable, { cause: err });
        for (const { id } of chunk) failures.set(id, { error, retryable });
        continue;
      }
      if ((output.FailedEntryCount ?? 0) === 0) continue;
      // Results are positional: entry i answers request entry i.
      chunk.forEach(({ id }, index) => {
        const entry = output.Entries?.[index];
        const code = entry?.ErrorCode;
        if (entry !== undefined && code === undefined && entry.EventId !== undefined) return;
        const reason = code === undefined ? 'no result for this entry' : `${code}: ${entry?.ErrorMessage ?? 'no message'}`;
        const retryable = code === undefined || RETRYABLE_ENTRY_ERRORS.has(code);
        failures.set(id, { error: new EventPublishError(`PutEvents did not accept the order event: ${reason}`, retryable), retryable });
      });
    }
    return failures;
  }
}
