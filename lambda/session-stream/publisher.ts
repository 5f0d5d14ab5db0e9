/**
 * Puts the SessionChanged events of one stream batch on the platform bus: events submitted in the same turn of the
 * event loop go out together through the shared EventBridgePublisher, and each submitter learns its own outcome.
 */
import { EventPublishError, type EventPublisher, type OutgoingEvent } from '../shared/event-publisher';
import type { TimeBudget } from '../shared/time-budget';
import { SESSION_CHANGED_DETAIL_TYPE, type SessionChangedDetail } from './session-change';

interface PendingEvent {
  readonly event: OutgoingEvent;
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
    private readonly publisher: EventPublisher,
    private readonly budget: TimeBudget,
  ) {}

  /** Resolves once EventBridge has accepted this event; rejects with an EventPublishError otherwise. */
  publish(detail: SessionChangedDetail): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.submitted += 1;
      this.pending.push({
        event: {
          id: String(this.submitted),
          detailType: SESSION_CHANGED_DETAIL_TYPE,
          detail,
          // Dated by the change, not by the publish, so a retried batch keeps its events' times.
          time: new Date(detail.occurredAt),
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
      ({ failed: failures } = await this.publisher.publish(
        batch.map(({ event }) => event),
        this.budget,
      ));
    } catch (err) {
      const error = new EventPublishError(`Publishing failed: ${err instanceof Error ? err.message : String(err)}`, true, undefined, { cause: err });
      for (const { reject } of batch) reject(error);
      return;
    }
    for (const { event, resolve, reject } of batch) {
      const failure = failures.get(event.id);
      if (failure === undefined) resolve();
      else reject(failure);
    }
  }
}
