/**
 * DynamoDB stream adapter of the session table: one SessionChanged event on the platform bus per record, through the
 * Powertools BatchProcessor; records that fail transiently are named in the partial batch response, records that
 * cannot be published by retrying are parked whole in the replay queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import { errorMessage, isTransientError } from '../shared/errors';
import { requireEnv } from '../shared/env';
import { EventBridgePublisher, eventBridgePutEvents, type PutEventsPort } from '../shared/event-publisher';
import { lambdaEntryPoint, silentLogger, type LogPort } from '../shared/observability';
import type { BackoffSettings } from '../shared/retry';
import { hasTimeFor, lambdaTimeBudget } from '../shared/time-budget';
import { SessionEventBatch } from './publisher';
import { replayMessage, sqsReplayQueue, type ReplayMessage, type ReplayQueuePort } from './replay';
import { toSessionChangedDetail } from './session-change';

/** What the handler needs from Powertools Metrics (which satisfies it); tests may hand in a recorder. */
export interface MetricsPort {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): unknown;
}

/**
 * Deadlines of the deployed function's EventBridge and SQS calls (both answer in tens of milliseconds): one call with
 * the SDK's three attempts takes at most 3 x 3 s + 1.5 s of backoff = 10.5 s, so within the function's 30 s there is
 * room for a publish, retries of throttled entries, and parking what cannot be published.
 */
export const SESSION_STREAM_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 3 };

/** The function's timeout (lib/constructs/session-service.ts): the budget of an invocation without a Lambda context. */
const FUNCTION_TIMEOUT_MS = 30_000;

/** Time kept for returning the batch response and flushing metrics after the last call. */
const RESPONSE_RESERVE_MS = 500;

export interface SessionStreamDeps {
  readonly putEvents: PutEventsPort;
  /** The deadlines `putEvents`' client was built with. @default SESSION_STREAM_CALL_DEADLINES */
  readonly putEventsDeadlines?: CallDeadlines;
  readonly eventBusName: string;
  /** Where a change that retrying cannot publish is parked, with its full record, for an operator to replay. */
  readonly replayQueue: ReplayQueuePort;
  /** Rounds for throttled entries within one invocation. @default DEFAULT_PUBLISH_RETRY */
  readonly retry?: BackoffSettings;
  /** Stands in for a record without ApproximateCreationDateTime. @default () => new Date() */
  readonly clock?: () => Date;
  /** @default silentLogger */
  readonly logger?: LogPort;
  /** @default none (metrics are not recorded) */
  readonly metrics?: MetricsPort;
}

export type SessionStreamHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

export function createHandler(deps: SessionStreamDeps): SessionStreamHandler {
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? (() => new Date());
  const publisher = new EventBridgePublisher(deps.putEvents, {
    eventBusName: deps.eventBusName,
    callWorstCaseMs: worstCaseCallMs(deps.putEventsDeadlines ?? SESSION_STREAM_CALL_DEADLINES),
    ...(deps.retry === undefined ? {} : { retry: deps.retry }),
    reserveMs: RESPONSE_RESERVE_MS,
    logger,
    eventsName: 'session change events',
  });
  return async (event, context) => {
    const budget = lambdaTimeBudget(context, FUNCTION_TIMEOUT_MS);
    // Both hold one invocation's records and outcomes, so each invocation gets its own.
    const batch = new SessionEventBatch(publisher, budget);
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    let parked = 0;
    let notPublished = 0;
    const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
      try {
        await batch.publish(toSessionChangedDetail(record, clock()));
      } catch (err) {
        notPublished += 1;
        if (await park(record, err)) {
          parked += 1;
          return;
        }
        // The one place a failure becomes a batch-item failure: the processor records the rethrown error.
        throw err;
      }
    };

    /**
     * A failure retrying cannot fix (a record without the session shape, an entry EventBridge refuses for good) is
     * parked with its full record and the record succeeds, so the shard is not held for the event source's retries.
     * A transient one is returned as a batch failure for the event source to retry; its full record goes to the log,
     * because after the last retry the on-failure destination receives only the batch's sequence numbers.
     */
    async function park(record: DynamoDBRecord, err: unknown): Promise<boolean> {
      const retryable = isTransientError(err);
      const message = replayMessage(record, { reason: errorMessage(err), retryable }, clock());
      if (retryable) {
        logger.error('session change not published; the stream will retry it', replayLog(message));
        return false;
      }
      if (!hasTimeFor(budget, deps.replayQueue.worstCaseCallMs + RESPONSE_RESERVE_MS)) {
        logger.error('session change not published and no time left to park it; the stream will retry it', replayLog(message));
        return false;
      }
      try {
        await deps.replayQueue.send(message);
      } catch (parkError) {
        logger.error('session change not published and could not be parked; the stream will retry it', { ...replayLog(message), parkError: errorMessage(parkError) });
        return false;
      }
      logger.error('session change not published: parked in the replay queue', replayLog(message));
      return true;
    }

    const response = await processPartialResponse(event, recordHandler, processor, {
      ...(context === undefined ? {} : { context }),
      // A batch where every record failed is reported like any other: the event source retries from the first failed
      // record either way, and a throw would only add an error with a stack trace for a failure already logged.
      throwOnFullBatchFailure: false,
    });
    const failed = response.batchItemFailures.length;
    logger.info('session stream batch processed', { records: event.Records.length, failed, parked });
    if (deps.metrics !== undefined) {
      // Zeros too, so an alarm on SessionEventsFailed sees 0 rather than missing data while all is well.
      deps.metrics.addMetric('SessionEventsPublished', MetricUnit.Count, event.Records.length - notPublished);
      deps.metrics.addMetric('SessionEventsFailed', MetricUnit.Count, notPublished);
      deps.metrics.addMetric('SessionChangesParked', MetricUnit.Count, parked);
      deps.metrics.publishStoredMetrics();
    }
    return response;
  };
}

/** The log line's attributes: searchable by sequence number, which is what the on-failure destination's metadata names. */
function replayLog(message: ReplayMessage): Record<string, unknown> {
  return {
    sequenceNumber: message.record.dynamodb?.SequenceNumber,
    eventId: message.record.eventID,
    reason: message.reason,
    retryable: message.retryable,
    replay: message,
  };
}

let deployedHandler: SessionStreamHandler | undefined;

/**
 * The deployed entry point, traced, wired on first invocation so that importing the module needs no Lambda
 * environment. Environment: EVENT_BUS_NAME, REPLAY_QUEUE_URL (both required).
 */
export const handler = lambdaEntryPoint('session-stream', async (event: DynamoDBStreamEvent, context, observability) => {
  if (deployedHandler === undefined) {
    const deadlines = SESSION_STREAM_CALL_DEADLINES;
    deployedHandler = createHandler({
      putEvents: eventBridgePutEvents(createAwsClient(EventBridgeClient, { deadlines, observability })),
      putEventsDeadlines: deadlines,
      eventBusName: requireEnv('EVENT_BUS_NAME'),
      replayQueue: sqsReplayQueue(createAwsClient(SQSClient, { deadlines, observability }), requireEnv('REPLAY_QUEUE_URL'), deadlines),
      logger: observability.logger,
      metrics: observability.metrics,
    });
  }
  return deployedHandler(event, context);
});
