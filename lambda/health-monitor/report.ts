/**
 * Turns one run's check results into what leaves the function: CloudWatch metric data, the SNS alert (subject and
 * body) and the HealthCheckFailed event detail. Pure functions, so the wording and limits are tested without AWS.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { CheckMeasurements, CheckName, CheckOutcome, CheckResult } from './checks';

export const METRIC_NAMES = {
  /** 1 or 0 per check (dimensions Check, Environment). */
  checkSucceeded: 'HealthCheckSucceeded',
  /** Milliseconds until the health endpoint's body was read, when it answered at all. */
  endpointLatency: 'HealthEndpointLatency',
  ordersDlqDepth: 'OrdersDlqDepth',
  /** 1 per run; the heartbeat alarm treats missing data as breaching, so a monitor that stops running pages someone. */
  heartbeat: 'HealthMonitorHeartbeat',
} as const;

export const HEALTH_CHECK_FAILED_DETAIL_TYPE = 'HealthCheckFailed';

/** SNS rejects a subject of 100 characters or more. */
export const MAX_SUBJECT_LENGTH = 99;

/** One run's results as both the alert and the event describe them. */
export interface RunFindings {
  readonly environment: string;
  /** ISO 8601 start of the run. */
  readonly checkedAt: string;
  readonly results: readonly CheckResult[];
}

export function buildMetricData(results: readonly CheckResult[], environment: string, timestamp: Date): MetricDatum[] {
  const environmentDimension = { Name: 'Environment', Value: environment };
  const data: MetricDatum[] = results.map((result) => ({
    MetricName: METRIC_NAMES.checkSucceeded,
    Dimensions: [{ Name: 'Check', Value: result.check }, environmentDimension],
    Value: result.healthy ? 1 : 0,
    Unit: 'Count',
    Timestamp: timestamp,
  }));
  const measured = (key: keyof CheckMeasurements): number | undefined => {
    for (const result of results) {
      const value = result.measurements[key];
      if (typeof value === 'number') return value;
    }
    return undefined;
  };
  // Latency only when the endpoint answered: a timeout has no latency, and HealthCheckSucceeded = 0 already says so.
  const latencyMs = measured('latencyMs');
  if (latencyMs !== undefined) {
    data.push({ MetricName: METRIC_NAMES.endpointLatency, Dimensions: [environmentDimension], Value: latencyMs, Unit: 'Milliseconds', Timestamp: timestamp });
  }
  const dlqDepth = measured('dlqDepth');
  if (dlqDepth !== undefined) {
    data.push({ MetricName: METRIC_NAMES.ordersDlqDepth, Dimensions: [environmentDimension], Value: dlqDepth, Unit: 'Count', Timestamp: timestamp });
  }
  data.push({ MetricName: METRIC_NAMES.heartbeat, Dimensions: [environmentDimension], Value: 1, Unit: 'Count', Timestamp: timestamp });
  return data;
}

/**
 * `CRITICAL trading-platform [stg]: 2 of 4 health checks failed`, under SNS's limit. The environment is reduced to
 * printable ASCII (SNS rejects control characters and line breaks) and shortened only if the whole would not fit.
 */
export function alertSubject(environment: string, failedCount: number, totalCount: number): string {
  const prefix = 'CRITICAL trading-platform [';
  const suffix = `]: ${failedCount} of ${totalCount} health checks failed`;
  const safeEnvironment = environment.replace(/[^\x20-\x7e]/g, '?');
  const room = MAX_SUBJECT_LENGTH - prefix.length - suffix.length;
  const shown = safeEnvironment.length <= room ? safeEnvironment : `${safeEnvironment.slice(0, Math.max(0, room - 3))}...`;
  return `${prefix}${shown}${suffix}`;
}

/** The alert's body: every failed check with its reason first, then the checks that passed, for context. */
export function alertMessage(findings: RunFindings): string {
  const failed = findings.results.filter((result) => !result.healthy);
  const passed = findings.results.filter((result) => result.healthy);
  const lines = [
    `CRITICAL: ${failed.length} of ${findings.results.length} health checks of trading-platform environment "${findings.environment}" ` +
      `failed in the run started at ${findings.checkedAt}.`,
    '',
    'Failed checks:',
    ...failed.map((result) => `- ${result.check} (${result.outcome === 'error' ? 'could not be checked' : 'unhealthy'}): ${result.reason}`),
  ];
  if (passed.length > 0) {
    lines.push('', 'Passed checks:', ...passed.map((result) => `- ${result.check}: ${result.reason}`));
  }
  lines.push('', 'The same findings are on the event bus as a HealthCheckFailed event (severity CRITICAL).');
  return lines.join('\n');
}

export interface CheckReport extends CheckMeasurements {
  readonly healthy: boolean;
  readonly outcome: CheckOutcome;
  readonly reason: string;
  readonly durationMs: number;
}

export interface HealthCheckFailedDetail {
  readonly environment: string;
  readonly failedChecks: readonly CheckName[];
  readonly results: Readonly<Partial<Record<CheckName, CheckReport>>>;
  readonly severity: 'CRITICAL';
  readonly checkedAt: string;
}

export function failureEventDetail(findings: RunFindings): HealthCheckFailedDetail {
  const results: Partial<Record<CheckName, CheckReport>> = {};
  for (const result of findings.results) {
    results[result.check] = {
      healthy: result.healthy,
      outcome: result.outcome,
      reason: result.reason,
      durationMs: result.durationMs,
      ...result.measurements,
    };
  }
  return {
    environment: findings.environment,
    failedChecks: findings.results.filter((result) => !result.healthy).map((result) => result.check),
    results,
    severity: 'CRITICAL',
    checkedAt: findings.checkedAt,
  };
}
