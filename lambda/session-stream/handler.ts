/**
 * DynamoDB stream adapter of the session table: one SessionChanged event on the platform bus per record, through the
 * Powertools BatchProcessor, answering with a partial batch response that names the records whose event failed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { errorMessage } from '../shared/errors';
import { requireEnv } from '../shared/env';
import { createObservability, silentLogger, traced, type LogPort } from '../shared/observability';
import { eventBridgePutEvents, SessionEventPublisher, type PutEventsPort } from './publisher';
import { toSessionChangedDetail } from './session-change';

/** What the handler needs from Powertools Metrics (which satisfies it); tests may hand in a recorder. */
export interface MetricsPort {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface SessionStreamDeps {
  readonly putEvents: PutEventsPort;
  readonly eventBusName: string;
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
  return async (event, context) => {
    // Both hold one invocation's records and outcomes, so each invocation gets its own.
    const publisher = new SessionEventPublisher(deps.putEvents, deps.eventBusName);
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
      try {
        await publisher.publish(toSessionChangedDetail(record, clock()));
      } catch (err) {
        // The one place a failure becomes a batch-item failure: the processor records the rethrown error.
        logger.warn('session change not published', {
          eventId: record.eventID,
          sequenceNumber: record.dynamodb?.SequenceNumber,
          error: errorMessage(err),
        });
        throw err;
      }
    };
    const response = await processPartialResponse(event, recordHandler, processor, {
      ...(context === undefined ? {} : { context }),
      // A batch where every record failed is reported like any other: the event source retries from the first failed
      // record either way, and a throw would only add an error with a stack trace for a failure already logged.
      throwOnFullBatchFailure: false,
    });
    const failed = response.batchItemFailures.length;
    logger.info('session stream batch processed', { records: event.Records.length, failed });
    if (deps.metrics !== undefined) {
      // Zeros too, so an alarm on SessionEventsFailed sees 0 rather than missing data while all is well.
      deps.metrics.addMetric('SessionEventsPublished', MetricUnit.Count, event.Records.length - failed);
      deps.metrics.addMetric('SessionEventsFailed', MetricUnit.Count, failed);
      deps.metrics.publishStoredMetrics();
    }
    return response;
  };
}

/**
 * Standard retries with bounded attempts, and socket timeouts so a hung call is retried instead of holding the shard
 * until the function's 30 s timeout.
 */
export const EVENT_BRIDGE_CLIENT_CONFIG = {
  retryMode: 'standard',
  maxAttempts: 3,
  // Without throwOnRequestTimeout this SDK version only logs a warning when the request timeout passes.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const satisfies EventBridgeClientConfig;

let deployedHandler: SessionStreamHandler | undefined;

/**
 * The deployed entry point, wired on first invocation so that importing the module needs no Lambda environment.
 * Environment: EVENT_BUS_NAME (required).
 */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  const observability = createObservability('session-stream');
  observability.logger.addContext(context);
  deployedHandler ??= createHandler({
    putEvents: eventBridgePutEvents(traced(observability, new EventBridgeClient(EVENT_BRIDGE_CLIENT_CONFIG))),
    eventBusName: requireEnv('EVENT_BUS_NAME'),
    logger: observability.logger,
    metrics: observability.metrics,
  });
  return deployedHandler(event, context);
}
