/**
 * Puts events on the platform bus with PutEvents: calls of at most 10 entries, sent in parallel; entries EventBridge
 * refuses with a retryable code are sent again with exponential backoff and full jitter while the invocation has time.
 *
 * Written to be the one EventBridge publisher (house style 13). The session stream consumer uses it; the order
 * processor still has its own copy in lambda/order-processor/publisher.ts, left untouched while that function is being
 * changed elsewhere: it can become a thin adapter over `EventBridgePublisher` with its exports kept as they are.
 */
import { PutEventsCommand, type PutEventsCommandInput, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { worstCaseCallMs, type CallDeadlines } from './aws-clients';
import { AppError, errorMessage, isTransientError } from './errors';
import type { LogPort } from './observability';
import { backoffDelay, defaultSleep, type RetryOptions } from './retry';
import { hasTimeFor, type TimeBudget } from './time-budget';

/** PutEvents accepts at most 10 entries per call (EventBridge quotas). */
export const MAX_ENTRIES_PER_CALL = 10;

/** The one EventBridge call made; `eventBridgePutEvents` adapts an SDK client. */
export type PutEventsPort = (input: PutEventsCommandInput) => Promise<Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>>;

/** Adapts an SDK client, whose own retry strategy handles throttling of whole calls first. */
export function eventBridgePutEvents(client: { send(command: PutEventsCommand): Promise<PutEventsCommandOutput> }): PutEventsPort {
  return (input) => client.send(new PutEventsCommand(input));
}

/**
 * Entry error codes a later attempt can get past. PutEventsResultEntry documents InternalFailure and
 * ThrottlingException as the retryable ones (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html);
 * the service-unavailable spellings are kept because a retry costs little. The rest (AccessDeniedException,
 * InvalidArgument, MalformedDetail, NotAuthorizedForSourceException, KMS errors...) need an operator.
 */
export const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'InternalFailure',
  'InternalException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** An event EventBridge did not take; `code` is the entry's ErrorCode when EventBridge gave one. */
export class EventPublishError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Backoff between rounds of failed entries; `sleep` and `random` are there so tests run fast and deterministically. */
export type BackoffSettings = Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;

/** An entry and the id its outcome is reported under (an SQS message id, a stream sequence number). */
export interface OutgoingEntry {
  readonly id: string;
  readonly entry: PutEventsRequestEntry;
}

export interface EventBridgePublisherOptions {
  /** The deadlines `putEvents`' client was built with: the worst case of one call is reserved before every round. */
  readonly callDeadlines: CallDeadlines;
  /**
   * Rounds for failed entries, the first included (the SDK has already retried failed calls inside each round).
   * @default { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 }
   */
  readonly retry?: BackoffSettings;
  /**
   * Time to keep for the rest of the invocation after a round.
   * @default 1000
   */
  readonly reserveMs?: number;
  readonly logger: LogPort;
  /** Names the events in log lines, e.g. "session change events". */
  readonly eventsName: string;
}

export const DEFAULT_PUBLISH_RETRY: BackoffSettings = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

export class EventBridgePublisher {
  private readonly retry: BackoffSettings;
  private readonly reserveMs: number;
  private readonly callWorstCaseMs: number;

  constructor(
    private readonly putEvents: PutEventsPort,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.retry = options.retry ?? DEFAULT_PUBLISH_RETRY;
    this.reserveMs = options.reserveMs ?? 1_000;
    this.callWorstCaseMs = worstCaseCallMs(options.callDeadlines);
  }

  /**
   * Publishes every entry it can. The result maps the id of each entry that was not published to why; an entry is
   * retried only while its error is retryable, attempts remain, and the next round's worst case (backoff plus one
   * call, the calls of a round running in parallel) still ends `reserveMs` before the invocation does.
   */
  async publish(entries: readonly OutgoingEntry[], budget: TimeBudget): Promise<ReadonlyMap<string, EventPublishError>> {
    const failures = new Map<string, EventPublishError>();
    let pending = [...entries];
    const neededMs = this.callWorstCaseMs + this.reserveMs;
    for (let round = 1; pending.length > 0; round += 1) {
      const delayMs = round === 1 ? 0 : backoffDelay(round - 2, this.retry.baseDelayMs, this.retry.maxDelayMs, this.retry.random ?? Math.random);
      if (!hasTimeFor(budget, neededMs, delayMs)) {
        const remainingMs = budget.remainingMs();
        this.options.logger.warn(`not enough time left to send ${this.options.eventsName}`, { round, pending: pending.length, remainingMs, neededMs: neededMs + delayMs });
        if (round === 1) {
          const error = new EventPublishError(`PutEvents not started: ${remainingMs} ms left, a call may take ${neededMs} ms`, true);
          for (const { id } of pending) failures.set(id, error);
        }
        break;
      }
      if (delayMs > 0) await (this.retry.sleep ?? defaultSleep)(delayMs);
      const roundFailures = await this.sendRound(pending);
      for (const { id } of pending) failures.delete(id);
      for (const [id, error] of roundFailures) failures.set(id, error);
      const retryable = pending.filter(({ id }) => roundFailures.get(id)?.retryable === true);
      if (retryable.length === 0 || round >= this.retry.maxAttempts) break;
      this.options.logger.warn(`some ${this.options.eventsName} were not published, retrying`, {
        round,
        failed: retryable.length,
        error: errorMessage(roundFailures.get(retryable[0]?.id ?? '')),
      });
      pending = retryable;
    }
    return failures;
  }

  /** One call per 10 entries, all at once: a round's worst case is then one call's, whatever the batch size. */
  private async sendRound(entries: readonly OutgoingEntry[]): Promise<Map<string, EventPublishError>> {
    const chunks: OutgoingEntry[][] = [];
    for (let start = 0; start < entries.length; start += MAX_ENTRIES_PER_CALL) chunks.push(entries.slice(start, start + MAX_ENTRIES_PER_CALL));
    const results = await Promise.all(chunks.map((chunk) => this.sendChunk(chunk)));
    return new Map(results.flatMap((result) => [...result]));
  }

  /** Never rejects: a failed call fails each of its entries. */
  private async sendChunk(chunk: readonly OutgoingEntry[]): Promise<Map<string, EventPublishError>> {
    const failures = new Map<string, EventPublishError>();
    let output: Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>;
    try {
      output = await this.putEvents({ Entries: chunk.map(({ entry }) => entry) });
    } catch (err) {
      const error = new EventPublishError(`PutEvents failed: ${errorMessage(err)}`, isTransientError(err), undefined, { cause: err });
      for (const { id } of chunk) failures.set(id, error);
      return failures;
    }
    // Results are positional: entry i answers request entry i (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html).
    chunk.forEach(({ id }, index) => {
      const result = output.Entries?.[index];
      if (result?.EventId !== undefined && result.ErrorCode === undefined) return;
      const code = result?.ErrorCode;
      const reason = code === undefined ? 'no result for this entry' : `${code}: ${result?.ErrorMessage ?? 'no message'}`;
      failures.set(id, new EventPublishError(`PutEvents did not accept the event: ${reason}`, code === undefined || RETRYABLE_ENTRY_ERRORS.has(code), code));
    });
    return failures;
  }
}
