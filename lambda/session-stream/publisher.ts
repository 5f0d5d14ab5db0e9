/**
 * Puts the SessionChanged events of one stream batch on the platform bus: events submitted in the same turn of the
 * event loop go out together through the shared EventBridgePublisher, and each submitter learns its own outcome.
 */
import { EventBridgePublisher, EventPublishError, type OutgoingEntry } from '../shared/event-publisher';
import type { TimeBudget } from '../shared/time-budget';
import { SESSION_CHANGED_DETAIL_TYPE, type SessionChangedDetail } from './session-change';

/**
 * Every platform event carries this source and the bus rules match on it. Equal to ORDER_EVENT_SOURCE (a test holds
 * them together); not imported from there, so this bundle does not pull in the order schema.
 */
export const PLATFORM_EVENT_SOURCE = 'trading.platform';

interface PendingEvent {
  readonly entry: OutgoingEntry;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * One per invocation. The stream's records are handled in parallel, each calling `publish` synchronously before its
 * first await, so a whole batch is queued before the deferred flush runs: one publish of the batch (calls of 10 in
 * parallel, failed entries retried with backoff while the budget lasts). Were the records handled one by one
 * instead, each would still be published, one flush per record.
 */
export class SessionEventBatch {
  private pending: PendingEvent[] = [];
  private flushScheduled = false;
  private submitted = 0;

  constructor(
    private readonly publisher: EventBridgePublisher,
    private readonly eventBusName: string,
    private readonly budget: TimeBudget,
  ) {}

  /** Resolves once EventBridge has accepted this event; rejects with an EventPublishError otherwise. */
  publish(detail: SessionChangedDetail): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.submitted += 1;
      this.pending.push({
        entry: {
          id: String(this.submitted),
          entry: {
            EventBusName: this.eventBusName,
            Source: PLATFORM_EVENT_SOURCE,
            DetailType: SESSION_CHANGED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
            // Dated by the change, not by the publish, so a retried batch keeps its events' times.
            Time: new Date(detail.occurredAt),
          },
        },
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          void this.flush();
        });
      }
    });
  }

  /** Never rejects: every outcome, an unexpected error included, is delivered to the submitters. */
  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    let failures: ReadonlyMap<string, EventPublishError>;
    try {
      failures = await this.publisher.publish(
        batch.map(({ entry }) => entry),
        this.budget,
      );
    } catch (err) {
      const error = new EventPublishError(`Publishing failed: ${err instanceof Error ? err.message : String(err)}`, true, undefined, { cause: err });
      for (const { reject } of batch) reject(error);
      return;
    }
    for (const { entry, resolve, reject } of batch) {
      const failure = failures.get(entry.id);
      if (failure === undefined) resolve();
      else reject(failure);
    }
  }
}
