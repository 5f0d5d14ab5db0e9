/**
 * SQS FIFO event source adapter of the order processor: wires the container's clients into processOrderBatch and
 * returns the partial batch response (ReportBatchItemFailures), publishing the batch's metrics.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DbPoolManager, secretSettingsFromEnv } from '../shared/db';
import { intEnv, optionalEnv } from '../shared/env';
import { errorMessage } from '../shared/errors';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import { EventBridgePublisher, eventBridgePutEvents, type PutEventsPort } from '../shared/event-publisher';
import { lambdaEntryPoint, silentLogger, type LogPort, type Observability } from '../shared/observability';
import type { BackoffSettings } from '../shared/retry';
import { lambdaTimeBudget } from '../shared/time-budget';
import { processorSettingsFromEnv, ssmRiskLimits, type RiskLimitsSource } from './config';
import { processOrderBatch, type BatchSummary } from './process-batch';
import { PostgresOrderStore } from './order-store';
import { scheduleRedelivery, sqsChangeVisibility, type RedeliveryOptions } from './redelivery';

/** What the handler needs from Powertools Metrics (which satisfies it); tests hand in a recorder. */
export interface MetricsPort {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface OrderProcessorDeps {
  /** Writer endpoint. */
  readonly db: DbPoolManager;
  readonly putEvents: PutEventsPort;
  readonly eventBusName: string;
  readonly riskLimits: RiskLimitsSource;
  readonly largeNotionalThreshold: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default silentLogger */
  readonly logger?: LogPort;
  /** @default none (metrics are not recorded) */
  readonly metrics?: MetricsPort;
  /** @default PostgresOrderStore's defaults */
  readonly dbRetry?: BackoffSettings;
  /** @default PROCESSOR_PUBLISH_RETRY */
  readonly publishRetry?: BackoffSettings;
  /** Worst case of reading the risk limits from SSM. @default worstCaseCallMs(PROCESSOR_DEADLINES.sdk) */
  readonly riskLimitsWorstCaseMs?: number;
  /** Worst case of one PutEvents call with the client's deadlines. @default worstCaseCallMs(PROCESSOR_DEADLINES.sdk) */
  readonly publishCallWorstCaseMs?: number;
  /**
   * Shortens the wait before SQS delivers failed records again (see redelivery.ts).
   * @default none: failed records wait for the queue's visibility timeout
   */
  readonly redelivery?: Omit<RedeliveryOptions, 'logger'>;
}

export type OrderProcessorHandler = (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

export function createHandler(deps: OrderProcessorDeps): OrderProcessorHandler {
  const logger = deps.logger ?? silentLogger;
  const store = new PostgresOrderStore(deps.db, { logger, ...(deps.dbRetry === undefined ? {} : { retry: deps.dbRetry }) });
  const publisher = new EventBridgePublisher(deps.putEvents, {
    eventBusName: deps.eventBusName,
    // No later event of an account may reach the bus before an earlier one (see processOrderBatch).
    ordering: 'per-group',
    callWorstCaseMs: deps.publishCallWorstCaseMs ?? worstCaseCallMs(PROCESSOR_DEADLINES.sdk),
    retry: deps.publishRetry ?? PROCESSOR_PUBLISH_RETRY,
    logger,
    eventsName: 'order events',
  });
  const ports = {
    store,
    publisher,
    riskLimits: deps.riskLimits,
    largeNotionalThreshold: deps.largeNotionalThreshold,
    clock: deps.clock ?? (() => new Date()),
    logger,
    riskLimitsWorstCaseMs: deps.riskLimitsWorstCaseMs ?? worstCaseCallMs(PROCESSOR_DEADLINES.sdk),
  };
  return async (event, context) => {
    // Without a context (a direct call), the deployed timeout's 30 s.
    const budget = lambdaTimeBudget(context, 30_000);
    const { response, summary } = await processOrderBatch(event, ports, budget);
    const failedMaxReceiveCount =
      deps.redelivery === undefined || response.batchItemFailures.length === 0
        ? 0
        : await scheduleRedelivery(event.Records, response, budget, { ...deps.redelivery, logger });
    // Field by field rather than a spread of the summary (one per batch); `satisfies` keeps every summary field in it.
    logger.info('order batch processed', {
      batchSize: summary.batchSize,
      accepted: summary.accepted,
      rejected: summary.rejected,
      failed: summary.failed,
      duplicates: summary.duplicates,
      failedMaxReceiveCount,
    } satisfies Record<keyof BatchSummary | 'failedMaxReceiveCount', number>);
    if (deps.metrics !== undefined) recordMetrics(deps.metrics, summary, failedMaxReceiveCount);
    return response;
  };
}

function recordMetrics(metrics: MetricsPort, summary: BatchSummary, failedMaxReceiveCount: number): void {
  // Zeros too: an alarm on OrdersFailed should see 0, not missing data, while all is well.
  metrics.addMetric('OrderBatchSize', MetricUnit.Count, summary.batchSize);
  metrics.addMetric('OrdersAccepted', MetricUnit.Count, summary.accepted);
  metrics.addMetric('OrdersRejected', MetricUnit.Count, summary.rejected);
  metrics.addMetric('OrdersFailed', MetricUnit.Count, summary.failed);
  metrics.addMetric('OrdersDuplicate', MetricUnit.Count, summary.duplicates);
  // The highest receive count among this batch's failed records: one account stuck behind a failing record shows
  // here within a few redeliveries, which a sum of failures over several periods does not show.
  metrics.addMetric('FailedRecordMaxReceiveCount', MetricUnit.Count, failedMaxReceiveCount);
  metrics.publishStoredMetrics();
}

let deployedHandler: OrderProcessorHandler | undefined;

/**
 * The deployed entry point, traced, wired on first invocation (not at import, so tests can import createHandler
 * without the Lambda environment). Environment: see processorSettingsFromEnv and secretSettingsFromEnv.
 */
export const handler = lambdaEntryPoint(
  'order-processor',
  async (event: SQSEvent, context, observability) => {
    try {
      deployedHandler ??= wireFromEnvironment(observability);
      return await deployedHandler(event, context);
    } catch (err) {
      // Mostly configuration faults at cold start (processOrderBatch turns record problems into item failures). Failing
      // the invocation makes SQS retry the batch and, if it persists, dead-letter it, while the error alarm fires.
      observability.logger.error('order processor invocation failed', { error: errorMessage(err) });
      throw err;
    }
  },
  // The Environment dimension keeps stages that share an account (sandboxes) apart in the OrdersFailed alarm.
  () => ({ defaultDimensions: { Environment: optionalEnv('ENVIRONMENT_SUFFIX') ?? 'unknown' } }),
);

/**
 * Deadlines of the processor's calls, sized to its 30 s timeout: the worst cases of reading the limits (SSM, 4.5 s),
 * one database attempt (settings 4 s + connect 2 s + two statements of 3 s + 2 s client margin = 16 s, 12 s with a
 * pool) and one PutEvents call (4.5 s) fit in one invocation, and every call is checked against the time left first.
 */
export const PROCESSOR_DEADLINES = {
  sdk: { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 },
  database: { settingsTimeoutMs: 4_000, connectionTimeoutMs: 2_000, statementTimeoutMs: 3_000 },
} as const satisfies { readonly sdk: CallDeadlines; readonly database: Record<string, number> };

/**
 * Rounds for refused order events: fewer and shorter than the stream consumer's, because a record whose event is not
 * published is cheap to redo (SQS delivers it again after its redelivery backoff) and the batch has the database
 * work to fit in the same 30 s as well.
 */
export const PROCESSOR_PUBLISH_RETRY: BackoffSettings = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

function wireFromEnvironment(observability: Observability): OrderProcessorHandler {
  const settings = processorSettingsFromEnv();
  const clientOptions = { deadlines: PROCESSOR_DEADLINES.sdk, observability };
  const secrets = createAwsClient(SecretsManagerClient, clientOptions);
  const ssm = createAwsClient(SSMClient, clientOptions);
  const eventBridge = createAwsClient(EventBridgeClient, clientOptions);
  const sqs = createAwsClient(SQSClient, clientOptions);
  observability.metrics.captureColdStartMetric();
  return createHandler({
    db: new DbPoolManager({
      settings: secretSettingsFromEnv(secrets),
      logger: observability.logger,
      applicationName: 'order-processor',
      // The connection budget (lib/config/connection-budget.ts) counts on this maximum.
      max: intEnv('DB_POOL_MAX', 2, { min: 1, max: 10 }),
      ...PROCESSOR_DEADLINES.database,
    }),
    putEvents: eventBridgePutEvents(eventBridge),
    eventBusName: settings.eventBusName,
    riskLimits: ssmRiskLimits(new SSMProvider({ awsSdkV3Client: ssm }), settings),
    largeNotionalThreshold: settings.largeNotionalThreshold,
    logger: observability.logger,
    metrics: observability.metrics,
    redelivery: {
      changeVisibility: sqsChangeVisibility(sqs),
      queueUrl: settings.ordersQueueUrl,
      schedule: settings.redelivery,
      callWorstCaseMs: worstCaseCallMs(PROCESSOR_DEADLINES.sdk),
    },
  });
}
