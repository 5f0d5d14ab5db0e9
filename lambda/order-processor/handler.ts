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
import { optionalEnv } from '../shared/env';
import { errorMessage } from '../shared/errors';
import { createObservability, silentLogger, traced, type LogPort } from '../shared/observability';
import { processorSettingsFromEnv, ssmRiskLimits, type RiskLimitsSource } from './config';
import { processOrderBatch, type BatchSummary } from './process-batch';
import { PostgresOrderStore } from './order-store';
import { EventBridgeOrderPublisher, eventBridgePutEvents, type PutEventsPort } from './publisher';
import { lambdaTimeBudget, type BackoffSettings } from './time-budget';

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
  /** @default EventBridgeOrderPublisher's defaults */
  readonly publishRetry?: BackoffSettings;
}

export type OrderProcessorHandler = (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

export function createHandler(deps: OrderProcessorDeps): OrderProcessorHandler {
  const logger = deps.logger ?? silentLogger;
  const store = new PostgresOrderStore(deps.db, { logger, ...(deps.dbRetry === undefined ? {} : { retry: deps.dbRetry }) });
  const publisher = new EventBridgeOrderPublisher(deps.putEvents, {
    eventBusName: deps.eventBusName,
    logger,
    ...(deps.publishRetry === undefined ? {} : { retry: deps.publishRetry }),
  });
  const ports = {
    store,
    publisher,
    riskLimits: deps.riskLimits,
    largeNotionalThreshold: deps.largeNotionalThreshold,
    clock: deps.clock ?? (() => new Date()),
    logger,
  };
  return async (event, context) => {
    const { response, summary } = await processOrderBatch(event, ports, lambdaTimeBudget(context));
    logger.info('order batch processed', { ...summary });
    if (deps.metrics !== undefined) recordMetrics(deps.metrics, summary);
    return response;
  };
}

function recordMetrics(metrics: MetricsPort, summary: BatchSummary): void {
  // Zeros too: an alarm on OrdersFailed should see 0, not missing data, while all is well.
  metrics.addMetric('OrderBatchSize', MetricUnit.Count, summary.batchSize);
  metrics.addMetric('OrdersAccepted', MetricUnit.Count, summary.accepted);
  metrics.addMetric('OrdersRejected', MetricUnit.Count, summary.rejected);
  metrics.addMetric('OrdersFailed', MetricUnit.Count, summary.failed);
  metrics.addMetric('OrdersDuplicate', MetricUnit.Count, summary.duplicates);
  metrics.publishStoredMetrics();
}

let deployedHandler: OrderProcessorHandler | undefined;

/**
 * The deployed entry point, wired on first invocation (not at import, so tests can import createHandler without the
 * Lambda environment). Environment: see processorSettingsFromEnv and secretSettingsFromEnv.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // The Environment dimension keeps stages that share an account (sandboxes) apart in the OrdersFailed alarm.
  const observability = createObservability('order-processor', { defaultDimensions: { Environment: optionalEnv('ENVIRONMENT_SUFFIX') ?? 'unknown' } });
  observability.logger.addContext(context);
  try {
    deployedHandler ??= wireFromEnvironment(observability);
    return await deployedHandler(event, context);
  } catch (err) {
    // Mostly configuration faults at cold start (processOrderBatch turns record problems into item failures). Failing
    // the invocation makes SQS retry the batch and, if it persists, dead-letter it, while the error alarm fires.
    observability.logger.error('order processor invocation failed', { error: errorMessage(err) });
    throw err;
  }
}

function wireFromEnvironment(observability: ReturnType<typeof createObservability>): OrderProcessorHandler {
  const settings = processorSettingsFromEnv();
  // Standard retry mode with few attempts: the SDK absorbs a blip, our backoff and SQS redelivery handle the rest.
  const sdkConfig = { maxAttempts: 3, retryMode: 'standard' } as const;
  const secrets = traced(observability, new SecretsManagerClient(sdkConfig));
  const ssm = traced(observability, new SSMClient(sdkConfig));
  const eventBridge = traced(observability, new EventBridgeClient(sdkConfig));
  observability.metrics.captureColdStartMetric();
  return createHandler({
    db: new DbPoolManager({ settings: secretSettingsFromEnv(secrets), logger: observability.logger, applicationName: 'order-processor' }),
    putEvents: eventBridgePutEvents(eventBridge),
    eventBusName: settings.eventBusName,
    riskLimits: ssmRiskLimits(new SSMProvider({ awsSdkV3Client: ssm }), settings),
    largeNotionalThreshold: settings.largeNotionalThreshold,
    logger: observability.logger,
    metrics: observability.metrics,
  });
}
