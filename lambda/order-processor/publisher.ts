/**
 * Publishes order events to the platform bus with PutEvents (at most 10 entries per call), retrying failed entries
 * with backoff within the invocation's time, and reports which events could not be published so their records fail.
 */
import type { PutEventsCommandInput, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { AppError, errorMessage, isTransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import { backoffDelay, defaultSleep } from '../shared/retry';
import { ORDER_EVENT_SOURCE, type PublishedOrderEvent } from '../shared/order-events';
import type { BackoffSettings, TimeBudget } from './time-budget';

/**
 * Deadlines of the processor's EventBridge client: PutEvents through the VPC endpoint answers in tens of
 * milliseconds, so two attempts of 500 ms connect and 1.5 s request, and then the record's own retry through SQS.
 */
export const PUBLISH_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 };

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
  /** Events of one group (the account's SQS message group) go out in the given order, each after the one before. */
  readonly group: string;
  readonly event: PublishedOrderEvent;
}

export interface OrderPublisher {
  /**
   * Publishes every event it can, in order within each group: an event is sent only once every earlier event of its
   * group was accepted, and a group stops at its first failure (its later events are reported failed, unsent). The
   * result maps the id of each event that was not published to why.
   */
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
   * Time to keep for the rest of the invocation (answering) after a call.
   * @default 1000
   */
  readonly reserveMs?: number;
  /**
   * The longest one PutEvents call can take with the client's deadlines and SDK retries (`worstCaseCallMs`). A call
   * starts only while this plus `reserveMs` is left: cut off by the Lambda timeout it would fail the whole batch.
   * @default worstCaseCallMs(PUBLISH_CALL_DEADLINES)
   */
  readonly callWorstCaseMs?: number;
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
    this.reserveMs = options.reserveMs ?? 1_000;
    this.callWorstCaseMs = options.callWorstCaseMs ?? worstCaseCallMs(PUBLISH_CALL_DEADLINES);
  }

  private readonly callWorstCaseMs: number;

  async publish(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<ReadonlyMap<string, Error>> {
    const failures = new Map<string, Error>();
    const queues = new Map<string, OutgoingEvent[]>();
    for (const event of events) {
      const queue = queues.get(event.group);
      if (queue === undefined) queues.set(event.group, [event]);
      else queue.push(event);
    }
    // Round r sends the r-th event of every group still going: groups publish side by side, each in its own order.
    while (queues.size > 0) {
      const heads = [...queues.values()].flatMap((queue) => queue.slice(0, 1));
      const roundFailures = await this.publishRound(heads, budget);
      for (const head of heads) {
        const queue = queues.get(head.group) ?? [];
        const failure = roundFailures.get(head.id);
        if (failure === undefined) {
          queue.shift();
          if (queue.length === 0) queues.delete(head.group);
          continue;
        }
        failures.set(head.id, failure);
        for (const later of queue.slice(1)) {
          failures.set(later.id, new EventPublishError(`not published: an earlier event of group ${head.group} was not accepted (${failure.message})`, true));
        }
        queues.delete(head.group);
      }
    }
    return failures;
  }

  /** One event per group, retried with backoff while entries fail retryably and the invocation has time. */
  private async publishRound(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<Map<string, Error>> {
    const failures = new Map<string, Error>();
    let pending = [...events];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const attemptFailures = await this.sendAll(pending, budget);
      for (const event of pending) failures.delete(event.id);
      for (const [id, failure] of attemptFailures) failures.set(id, failure.error);
      const retryable = pending.filter((event) => attemptFailures.get(event.id)?.retryable === true);
      if (retryable.length === 0 || attempt >= this.retry.maxAttempts) break;
      const delayMs = backoffDelay(attempt - 1, this.retry.baseDelayMs, this.retry.maxDelayMs, this.retry.random ?? Math.random);
      if (budget.remainingMs() - delayMs < this.callWorstCaseMs + this.reserveMs) {
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
  private async sendAll(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<Map<string, EntryFailure>> {
    const failures = new Map<string, EntryFailure>();
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      const chunk = events.slice(start, start + MAX_ENTRIES_PER_CALL);
      const remainingMs = budget.remainingMs();
      if (remainingMs < this.callWorstCaseMs + this.reserveMs) {
        // Not started: the records fail and SQS delivers them again, instead of the Lambda timeout failing the batch.
        const error = new EventPublishError(
          `PutEvents not started: ${remainingMs} ms left, a call may take ${this.callWorstCaseMs} ms plus ${this.reserveMs} ms to answer`,
          false,
        );
        for (const { id } of chunk) failures.set(id, { error, retryable: false });
        continue;
      }
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
