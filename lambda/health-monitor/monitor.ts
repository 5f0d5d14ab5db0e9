/**
 * One health monitor run: the four checks in parallel, each isolated and time-bounded; then metrics and (on any
 * failure) exactly one SNS alert and one HealthCheckFailed event, in parallel; a delivery failure fails the run last.
 */
import { AppError } from '../shared/errors';
import { EventBridgePublisher } from '../shared/event-publisher';
import { silentLogger, type LogPort } from '../shared/observability';
import {
  explainError,
  probeHealthEndpoint,
  probeOrdersDlq,
  probeRoute53HealthCheck,
  probeSessionTable,
  runCheck,
  type CheckName,
  type CheckResult,
} from './checks';
import type { HealthMonitorSettings } from './config';
import { DeadlineExceededError, withDeadline } from '../shared/deadline';
import { systemClock, type Clock, type HealthMonitorPorts } from './ports';
import {
  alertMessage,
  alertSubject,
  buildMetricData,
  failureEventDetail,
  HEALTH_CHECK_FAILED_DETAIL_TYPE,
  type RunFindings,
} from './report';

export type DeliveryOutcome =
  | { readonly delivered: true; /** SNS MessageId or EventBridge EventId. */ readonly id?: string; readonly count?: number }
  | { readonly delivered: false; readonly error: string };

export type AlertOutcome =
  | { readonly required: false }
  | { readonly required: true; readonly sns: DeliveryOutcome; readonly event: DeliveryOutcome };

export interface HealthMonitorSummary {
  readonly environment: string;
  readonly checkedAt: string;
  readonly healthy: boolean;
  readonly failedChecks: readonly CheckName[];
  readonly results: Readonly<Record<CheckName, CheckResult>>;
  readonly metrics: DeliveryOutcome;
  readonly alert: AlertOutcome;
  readonly durationMs: number;
}

/**
 * The run's findings could not all be delivered (metrics, alert or event). Thrown only after every delivery was
 * attempted, so the invocation fails (the function's error alarm and async DLQ see it) without losing the others.
 */
export class HealthMonitorDeliveryError extends AppError {
  readonly retryable = true;

  constructor(readonly summary: HealthMonitorSummary) {
    super(`Health monitor run for "${summary.environment}" could not deliver: ${deliveryFailures(summary).join('; ')}`);
  }
}

function deliveryFailures(summary: HealthMonitorSummary): string[] {
  const failures: string[] = [];
  if (!summary.metrics.delivered) failures.push(`metrics (${summary.metrics.error})`);
  if (summary.alert.required) {
    if (!summary.alert.sns.delivered) failures.push(`SNS alert (${summary.alert.sns.error})`);
    if (!summary.alert.event.delivered) failures.push(`HealthCheckFailed event (${summary.alert.event.error})`);
  }
  return failures;
}

/**
 * Runs every check, publishes the metrics and, if anything failed, alerts once; returns the run's summary. Rejects only
 * with HealthMonitorDeliveryError (carrying the summary), after every delivery has been attempted.
 */
export async function runHealthMonitor(ports: HealthMonitorPorts, settings: HealthMonitorSettings): Promise<HealthMonitorSummary> {
  const clock = ports.clock ?? systemClock;
  const logger = ports.logger ?? silentLogger;
  const startedAt = clock.now();
  const started = clock.monotonicMs();

  // runCheck never rejects, so Promise.all here cannot lose a result the way a bare Promise.all over probes would.
  const [healthEndpoint, route53HealthCheck, ordersDlq, sessionTable] = await Promise.all([
    runCheck('HealthEndpoint', settings.httpTimeoutMs, clock, (signal) => probeHealthEndpoint(ports.fetch, settings.healthUrl, clock, signal)),
    runCheck('Route53HealthCheck', settings.awsTimeoutMs, clock, (signal) =>
      probeRoute53HealthCheck(ports.getHealthCheckStatus, settings.healthCheckId, signal),
    ),
    runCheck('OrdersDlq', settings.awsTimeoutMs, clock, (signal) => probeOrdersDlq(ports.getQueueAttributes, settings.ordersDlqUrl, signal)),
    runCheck('SessionTable', settings.awsTimeoutMs, clock, (signal) => probeSessionTable(ports.describeTable, settings.sessionTableName, signal)),
  ]);
  const results = [healthEndpoint, route53HealthCheck, ordersDlq, sessionTable];
  const failed = results.filter((result) => !result.healthy);
  for (const result of failed) logger.warn('health check failed', { ...result });
  const findings: RunFindings = { environment: settings.environment, checkedAt: startedAt.toISOString(), results };

  // Metrics and alerting run side by side: a CloudWatch outage must not delay or prevent the alert, and vice versa.
  const [metrics, alert] = await Promise.all([
    publishMetrics(ports, settings, findings, startedAt),
    failed.length === 0 ? Promise.resolve<AlertOutcome>({ required: false }) : sendAlert(ports, settings, findings, { clock, logger }),
  ]);

  const summary: HealthMonitorSummary = {
    environment: settings.environment,
    checkedAt: findings.checkedAt,
    healthy: failed.length === 0,
    failedChecks: failed.map((result) => result.check),
    results: { HealthEndpoint: healthEndpoint, Route53HealthCheck: route53HealthCheck, OrdersDlq: ordersDlq, SessionTable: sessionTable },
    metrics,
    alert,
    durationMs: Math.max(0, Math.round(clock.monotonicMs() - started)),
  };
  if (deliveryFailures(summary).length > 0) {
    const error = new HealthMonitorDeliveryError(summary);
    logger.error('health monitor could not deliver its findings', { error: error.message, summary });
    throw error;
  }
  logger.info('health monitor run complete', { summary });
  return summary;
}

async function publishMetrics(
  ports: HealthMonitorPorts,
  settings: HealthMonitorSettings,
  findings: RunFindings,
  timestamp: Date,
): Promise<DeliveryOutcome> {
  const metricData = buildMetricData(findings.results, settings.environment, timestamp);
  return deliver('PutMetricData', settings.awsTimeoutMs, async (signal) => {
    await ports.putMetricData({ Namespace: settings.metricsNamespace, MetricData: metricData }, signal);
    return { delivered: true, count: metricData.length };
  });
}

/** One SNS message and one event per run, whatever the number of failed checks; both channels are always attempted. */
async function sendAlert(
  ports: HealthMonitorPorts,
  settings: HealthMonitorSettings,
  findings: RunFindings,
  context: { readonly clock: Clock; readonly logger: LogPort },
): Promise<AlertOutcome> {
  const failedCount = findings.results.filter((result) => !result.healthy).length;
  const [sns, event] = await Promise.all([
    deliver('SNS Publish', settings.awsTimeoutMs, async (signal) => {
      const output = await ports.publishAlert(
        {
          TopicArn: settings.alertTopicArn,
          Subject: alertSubject(settings.environment, failedCount, findings.results.length),
          Message: alertMessage(findings),
          // Lets subscribers filter (e.g. page only for CRITICAL, or only for prod) without parsing the text.
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: 'CRITICAL' },
            environment: { DataType: 'String', StringValue: settings.environment },
          },
        },
        signal,
      );
      return output.MessageId === undefined ? { delivered: true } : { delivered: true, id: output.MessageId };
    }),
    deliver('PutEvents', settings.awsTimeoutMs, async (signal) => {
      const startedMs = context.clock.monotonicMs();
      const publisher = new EventBridgePublisher((input) => ports.putEvents(input, signal), {
        eventBusName: settings.eventBusName,
        // Every call is cut off by this delivery's own deadline (the signal), so none can outlive the run: a refused
        // entry is sent again for as long as that deadline leaves time for the backoff.
        callWorstCaseMs: 0,
        reserveMs: 0,
        logger: context.logger,
        eventsName: 'HealthCheckFailed events',
      });
      const budget = { remainingMs: () => settings.awsTimeoutMs - (context.clock.monotonicMs() - startedMs) };
      const { published, failed } = await publisher.publish(
        [{ id: ALERT_EVENT_ID, detailType: HEALTH_CHECK_FAILED_DETAIL_TYPE, detail: failureEventDetail(findings), time: new Date(findings.checkedAt) }],
        budget,
      );
      const eventId = published.get(ALERT_EVENT_ID);
      if (eventId !== undefined) return { delivered: true, id: eventId };
      const failure = failed.get(ALERT_EVENT_ID);
      // A call that failed is explained like every other delivery's; a refused entry by EventBridge's own code.
      return { delivered: false, error: failure?.cause === undefined ? (failure?.message ?? 'PutEvents: no outcome') : `PutEvents: ${explainError(failure.cause)}` };
    }),
  ]);
  return { required: true, sns, event };
}

/** The id the one HealthCheckFailed event of a run is published under. */
const ALERT_EVENT_ID = 'health-check-failed';

async function deliver(what: string, timeoutMs: number, operation: (signal: AbortSignal) => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
  try {
    return await withDeadline(what, timeoutMs, operation);
  } catch (err) {
    return { delivered: false, error: err instanceof DeadlineExceededError ? err.message : `${what}: ${explainError(err)}` };
  }
}
