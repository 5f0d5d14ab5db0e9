/**
 * Puts SessionChanged events on the platform bus, up to 10 entries per PutEvents call: events submitted in the same
 * turn of the event loop are sent together, and each submitter learns whether its own entry was accepted.
 */
import {
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { AppError, errorMessage, isTransientError } from '../shared/errors';
import { SESSION_CHANGED_DETAIL_TYPE, type SessionChangedDetail } from './session-change';

/** PutEvents accepts at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;

/**
 * Every platform event carries this source and the bus rules match on it. Equal to ORDER_EVENT_SOURCE (a test holds
 * them together); not imported from there, so this bundle does not pull in the order schema.
 */
export const PLATFORM_EVENT_SOURCE = 'trading.platform';

/** The one EventBridge call made; `eventBridgePutEvents` adapts an SDK client. */
export type PutEventsPort = (input: PutEventsCommandInput) => Promise<Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>>;

/** Adapts an SDK client, whose own retry strategy handles throttling of whole calls first. */
export function eventBridgePutEvents(client: { send(command: PutEventsCommand): Promise<PutEventsCommandOutput> }): PutEventsPort {
  return (input) => client.send(new PutEventsCommand(input));
}

/** EventBridge did not take the event; its stream record fails, so the event source retries it. */
export class SessionEventPublishError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Entry error codes that a later attempt can get past; the rest (AccessDenied, KMS, malformed) need an operator. */
const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'InternalFailure',
  'InternalException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

interface PendingEvent {
  readonly entry: PutEventsRequestEntry;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * One per invocation. The stream's records are handled in parallel, each calling `publish` synchronously before its
 * first await, so a whole batch is queued before the deferred flush runs and goes out in calls of 10. Were the
 * records handled one by one instead, each would still be published, one call per record.
 */
export class SessionEventPublisher {
  private pending: PendingEvent[] = [];
  private flushScheduled = false;

  constructor(
    private readonly putEvents: PutEventsPort,
    private readonly eventBusName: string,
  ) {}

  /** Resolves once EventBridge has accepted this event; rejects with a SessionEventPublishError otherwise. */
  publish(detail: SessionChangedDetail): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({
        entry: {
          EventBusName: this.eventBusName,
          Source: PLATFORM_EVENT_SOURCE,
          DetailType: SESSION_CHANGED_DETAIL_TYPE,
          Detail: JSON.stringify(detail),
          // Dated by the change, not by the publish, so a retried batch keeps its events' times.
          Time: new Date(detail.occurredAt),
        },
        resolve,
        reject,
      });
      if (this.pending.length >= MAX_ENTRIES_PER_CALL) {
        this.sendNext();
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          while (this.pending.length > 0) this.sendNext();
        });
      }
    });
  }

  private sendNext(): void {
    const chunk = this.pending.splice(0, MAX_ENTRIES_PER_CALL);
    if (chunk.length > 0) void this.send(chunk);
  }

  /** Never rejects: every outcome, including a failed call, is delivered to the chunk's submitters. */
  private async send(chunk: readonly PendingEvent[]): Promise<void> {
    let output: Pick<PutEventsCommandOutput, 'Entries' | 'FailedEntryCount'>;
    try {
      output = await this.putEvents({ Entries: chunk.map(({ entry }) => entry) });
    } catch (err) {
      const error = new SessionEventPublishError(`PutEvents failed: ${errorMessage(err)}`, isTransientError(err), { cause: err });
      for (const { reject } of chunk) reject(error);
      return;
    }
    // Results are positional: entry i answers request entry i.
    chunk.forEach(({ resolve, reject }, index) => {
      const result = output.Entries?.[index];
      if (result?.EventId !== undefined && result.ErrorCode === undefined) {
        resolve();
        return;
      }
      const code = result?.ErrorCode;
      const reason = code === undefined ? 'no result for this entry' : `${code}: ${result?.ErrorMessage ?? 'no message'}`;
      reject(new SessionEventPublishError(`PutEvents did not accept the event: ${reason}`, code === undefined || RETRYABLE_ENTRY_ERRORS.has(code)));
    });
  }
}
