/**
 * The one EventBridge publisher: platform events go out with PutEvents in calls of at most 10 entries, side by side;
 * entries EventBridge refuses with a retryable code are sent again with backoff (full jitter) while the invocation has
 * time, and each event's outcome comes back under its id. Optionally ordered per group (an account's events).
 */
import { PutEventsCommand, type PutEventsCommandInput, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AppError, errorMessage, isTransientError } from './errors';
import type { LogPort } from './observability';
import { PLATFORM_EVENT_SOURCE } from './platform-events';
import { backoffDelay, defaultSleep, type BackoffSettings } from './retry';
import { hasTimeFor, type TimeBudget } from './time-budget';

/** PutEvents accepts at most 10 entries per call (EventBridge quotas). */
export const MAX_ENTRIES_PER_CALL = 10;

/**
 * The one EventBridge call every function makes; `eventBridgePutEvents` adapts an SDK client. `signal` aborts the call
 * at a caller's own deadline (the health monitor's per-delivery one); without it the client's deadlines apply.
 */
export type PutEventsPort = (
  input: PutEventsCommandInput,
  signal?: AbortSignal,
) => Promise<Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>>;

/** Adapts an SDK client, whose own retry strategy handles throttling of whole calls first. */
export function eventBridgePutEvents(client: {
  send(command: PutEventsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutEventsCommandOutput>;
}): PutEventsPort {
  // An absent signal is an absent abortSignal: the SDK then runs the call under the client's deadlines alone.
  return (input, signal) => client.send(new PutEventsCommand(input), { abortSignal: signal });
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

/** An event and the id its outcome is reported under (an SQS message id, a stream sequence number). */
export interface OutgoingEvent {
  readonly id: string;
  /**
   * With `ordering: 'per-group'`, events of one group (an account's SQS message group) go out in the given order.
   * @default a group of its own
   */
  readonly group?: string;
  readonly detailType: string;
  /** Becomes the entry's Detail through JSON.stringify. */
  readonly detail: unknown;
  /** @default the time EventBridge receives the call */
  readonly time?: Date;
}

/** Every event's outcome: each id is in exactly one of the two maps. */
export interface PublishResult {
  /** The EventId EventBridge gave each published event. */
  readonly published: ReadonlyMap<string, string>;
  /** Why each other event was not published. */
  readonly failed: ReadonlyMap<string, EventPublishError>;
}

/** The port the functions' logic publishes through; EventBridgePublisher is the implementation. */
export interface EventPublisher {
  /** Never rejects: every event's outcome is in the result. */
  publish(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<PublishResult>;
}

/**
 * - `unordered`: every event is sent at once (in calls of 10) and retried on its own.
 * - `per-group`: an event is sent only once every earlier event of its group was accepted, and a group stops at its
 *   first failure (its later events fail unsent); groups go side by side, one event of each per call.
 */
export type PublishOrdering = 'unordered' | 'per-group';

export interface EventBridgePublisherOptions {
  readonly eventBusName: string;
  /**
   * The longest one PutEvents call can take with its client's deadlines (`worstCaseCallMs`). A round of calls starts
   * only while this plus `reserveMs` is left, its backoff included: a call the Lambda timeout cuts off fails the whole
   * invocation, a call not started fails only its events.
   */
  readonly callWorstCaseMs: number;
  /** @default 'unordered' */
  readonly ordering?: PublishOrdering;
  /**
   * Rounds for failed entries, the first included (the SDK has already retried failed calls inside each round).
   * @default DEFAULT_PUBLISH_RETRY
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

interface Outcomes {
  readonly published: Map<string, string>;
  readonly failed: Map<string, EventPublishError>;
}

const noOutcomes = (): Outcomes => ({ published: new Map(), failed: new Map() });

/** A new result: `earlier`'s outcomes, with each event `later` has an outcome for taking that one instead. */
function laterOutcomesWin(earlier: Outcomes, later: Outcomes): Outcomes {
  const merged: Outcomes = { published: new Map(earlier.published), failed: new Map(earlier.failed) };
  for (const [id, eventId] of later.published) {
    merged.published.set(id, eventId);
    merged.failed.delete(id);
  }
  for (const [id, error] of later.failed) merged.failed.set(id, error);
  return merged;
}

export class EventBridgePublisher implements EventPublisher {
  private readonly ordering: PublishOrdering;
  private readonly retry: BackoffSettings;
  private readonly reserveMs: number;

  constructor(
    private readonly putEvents: PutEventsPort,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.ordering = options.ordering ?? 'unordered';
    this.retry = options.retry ?? DEFAULT_PUBLISH_RETRY;
    this.reserveMs = options.reserveMs ?? 1_000;
  }

  /** Not async itself: the usual batch goes straight to one round (each async layer costs per call, docs/performance.md). */
  publish(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<PublishResult> {
    if (this.ordering === 'unordered') return this.publishWithRetries(events, budget);
    // Keyed apart so that an ungrouped event's id cannot meet a group's name.
    const queues = new Map<string, { readonly name: string; events: OutgoingEvent[] }>();
    for (const event of events) {
      const key = event.group === undefined ? `id:${event.id}` : `group:${event.group}`;
      const queue = queues.get(key);
      if (queue === undefined) queues.set(key, { name: event.group ?? event.id, events: [event] });
      else queue.events.push(event);
    }
    // Every event in a group of its own (one order per account, the usual batch): one round of all of them is the
    // same thing, without the bookkeeping of rounds.
    if (events.length > 0 && queues.size === events.length) return this.publishWithRetries(events, budget);
    return this.publishInRounds(queues, budget);
  }

  /**
   * Round r sends the r-th event of every group still going: groups publish side by side, each in its own order.
   * Reads `groups` only; its own cursor per group says how far each got.
   */
  private async publishInRounds(groups: ReadonlyMap<string, { readonly name: string; readonly events: readonly OutgoingEvent[] }>, budget: TimeBudget): Promise<PublishResult> {
    const outcomes = noOutcomes();
    let going = [...groups.values()];
    for (let position = 0; going.length > 0; position += 1) {
      const heads = going.flatMap((group) => group.events.slice(position, position + 1));
      const round = await this.publishWithRetries(heads, budget);
      for (const [id, eventId] of round.published) outcomes.published.set(id, eventId);
      const stillGoing: typeof going = [];
      for (const group of going) {
        const head = group.events[position];
        const failure = head === undefined ? undefined : round.failed.get(head.id);
        if (head === undefined || failure === undefined) {
          if (position + 1 < group.events.length) stillGoing.push(group);
          continue;
        }
        outcomes.failed.set(head.id, failure);
        for (const event of group.events.slice(position + 1)) {
          outcomes.failed.set(
            event.id,
            new EventPublishError(`not published: an earlier event of group ${group.name} was not accepted (${failure.message})`, true),
          );
        }
      }
      going = stillGoing;
    }
    return outcomes;
  }

  /**
   * All `events` at once, then the retryable failures again while rounds remain and the next round's worst case
   * (backoff plus one call, the calls of a round running in parallel) still ends `reserveMs` before the invocation.
   */
  private publishWithRetries(events: readonly OutgoingEvent[], budget: TimeBudget): Promise<Outcomes> {
    const neededMs = this.options.callWorstCaseMs + this.reserveMs;
    if (!hasTimeFor(budget, neededMs)) {
      const outcomes = noOutcomes();
      const remainingMs = budget.remainingMs();
      this.options.logger.warn(`not enough time left to send ${this.options.eventsName}`, { events: events.length, remainingMs, neededMs });
      const error = new EventPublishError(
        `PutEvents not started: ${remainingMs} ms left, a call may take ${this.options.callWorstCaseMs} ms plus ${this.reserveMs} ms to answer`,
        true,
      );
      for (const { id } of events) outcomes.failed.set(id, error);
      return Promise.resolve(outcomes);
    }
    return this.sendRounds(events, 1, budget, neededMs);
  }

  /**
   * Round `round` of publishWithRetries and, while failures are retryable and time allows, the rounds after it; each
   * round's outcomes are its own, and a later round's outcome of an event replaces an earlier one's.
   */
  private sendRounds(pending: readonly OutgoingEvent[], round: number, budget: TimeBudget, neededMs: number): Promise<Outcomes> {
    // Not async, and no await per round: a round that publishes everything (nearly all) costs one promise.
    return this.sendRound(pending).then((sent) => {
      const retryable = pending.filter(({ id }) => sent.failed.get(id)?.retryable === true);
      if (retryable.length === 0 || round >= this.retry.maxAttempts) return sent;
      const delayMs = backoffDelay(round - 1, this.retry.baseDelayMs, this.retry.maxDelayMs, this.retry.random ?? Math.random);
      const details = { round, failed: retryable.length, error: errorMessage(sent.failed.get(retryable[0]?.id ?? '')) };
      if (!hasTimeFor(budget, neededMs, delayMs)) {
        this.options.logger.warn(`${this.options.eventsName} not published and no time left to retry`, { ...details, remainingMs: budget.remainingMs(), neededMs: neededMs + delayMs });
        return sent;
      }
      this.options.logger.warn(`some ${this.options.eventsName} were not published, retrying`, { ...details, delayMs });
      return (this.retry.sleep ?? defaultSleep)(delayMs)
        .then(() => this.sendRounds(retryable, round + 1, budget, neededMs))
        .then((later) => laterOutcomesWin(sent, later));
    });
  }

  /** One call per 10 events, all at once: a round's worst case is then one call's, whatever the number of events. */
  private sendRound(events: readonly OutgoingEvent[]): Promise<Outcomes> {
    const refused = noOutcomes();
    const sendable: Array<{ readonly id: string; readonly entry: PutEventsRequestEntry }> = [];
    for (const event of events) {
      try {
        sendable.push({ id: event.id, entry: this.entryOf(event) });
      } catch (err) {
        // A detail JSON.stringify refuses (a BigInt, a cycle) fails its own event only, and for good.
        refused.failed.set(event.id, new EventPublishError(`the event's detail cannot be serialised: ${errorMessage(err)}`, false, undefined, { cause: err }));
      }
    }
    // One call with every event in it (up to 10: every batch of the order processor's but the largest): its outcomes
    // are the round's, with no merging and no promise around it.
    if (sendable.length > 0 && sendable.length <= MAX_ENTRIES_PER_CALL && refused.failed.size === 0) return this.sendChunk(sendable);
    return this.sendChunks(sendable, refused.failed);
  }

  /** The calls of a round side by side, their outcomes together with the events that were not sent (`refused`). */
  private async sendChunks(
    sendable: ReadonlyArray<{ readonly id: string; readonly entry: PutEventsRequestEntry }>,
    refused: ReadonlyMap<string, EventPublishError>,
  ): Promise<Outcomes> {
    const chunks: Array<typeof sendable> = [];
    for (let start = 0; start < sendable.length; start += MAX_ENTRIES_PER_CALL) chunks.push(sendable.slice(start, start + MAX_ENTRIES_PER_CALL));
    const results = await Promise.all(chunks.map((chunk) => this.sendChunk(chunk)));
    const outcomes: Outcomes = { published: new Map(), failed: new Map(refused) };
    for (const sent of results) {
      for (const [id, eventId] of sent.published) outcomes.published.set(id, eventId);
      for (const [id, error] of sent.failed) outcomes.failed.set(id, error);
    }
    return outcomes;
  }

  private entryOf(event: OutgoingEvent): PutEventsRequestEntry {
    const entry: PutEventsRequestEntry = {
      EventBusName: this.options.eventBusName,
      Source: PLATFORM_EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
    };
    // Set only when there is one (no spread of a conditional object: one per event on every batch's path).
    if (event.time !== undefined) entry.Time = event.time;
    return entry;
  }

  /** Never rejects: a failed call fails each of its events. Not async: one promise per call beside the port's own. */
  private sendChunk(chunk: ReadonlyArray<{ readonly id: string; readonly entry: PutEventsRequestEntry }>): Promise<Outcomes> {
    let call: Promise<Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>>;
    try {
      call = this.putEvents({ Entries: chunk.map(({ entry }) => entry) });
    } catch (err) {
      call = Promise.reject(err);
    }
    return call.then(
      (output) => chunkOutcomes(chunk, output),
      (err: unknown) => {
        const outcomes = noOutcomes();
        const error = new EventPublishError(`PutEvents failed: ${errorMessage(err)}`, isTransientError(err), undefined, { cause: err });
        for (const { id } of chunk) outcomes.failed.set(id, error);
        return outcomes;
      },
    );
  }
}

/** What one PutEvents call's answer says about each of its events. */
function chunkOutcomes(
  chunk: ReadonlyArray<{ readonly id: string }>,
  output: Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>,
): Outcomes {
  const outcomes = noOutcomes();
  // Results are positional: entry i answers request entry i (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html).
  chunk.forEach(({ id }, index) => {
    const result = output.Entries?.[index];
    if (result?.EventId !== undefined && result.ErrorCode === undefined) {
      outcomes.published.set(id, result.EventId);
      return;
    }
    const code = result?.ErrorCode;
    const reason = code === undefined ? 'no result for this entry' : `${code}: ${result?.ErrorMessage ?? 'no message'}`;
    outcomes.failed.set(id, new EventPublishError(`PutEvents did not accept the event: ${reason}`, code === undefined || RETRYABLE_ENTRY_ERRORS.has(code), code));
  });
  return outcomes;
}
