/**
 * The health monitor's settings, read and validated once at cold start from the environment the CDK construct sets,
 * so a wrong value fails the first run with a ConfigurationError naming the variable instead of a vague check failure.
 */
import { ConfigurationError, describeValue } from '../shared/errors';
import { intEnv, optionalEnv, requireEnv, type EnvSource } from '../shared/env';
import { METRICS_NAMESPACE } from '../shared/observability';

export interface HealthMonitorSettings {
  /** https URL of the API's `/v1/health`. */
  readonly healthUrl: string;
  /** Route 53 health check id (not ARN). */
  readonly healthCheckId: string;
  readonly ordersDlqUrl: string;
  readonly sessionTableName: string;
  readonly alertTopicArn: string;
  readonly eventBusName: string;
  readonly metricsNamespace: string;
  /** The stage's suffix (dev, stg, prod): the Environment dimension and the alert's subject. */
  readonly environment: string;
  /** Time allowed for the health endpoint, body included. */
  readonly httpTimeoutMs: number;
  /** Time allowed for each AWS call (a check, the metrics, each alert channel), SDK retries included. */
  readonly awsTimeoutMs: number;
}

/**
 * Each AWS call gets 10 s, SDK retries included. Checks run in parallel, then metrics and alerts in parallel, so a run
 * takes at most about max(HTTP_TIMEOUT_MS, 10 s) + 10 s: well inside the function's 60 s timeout even when every
 * dependency hangs. Not an environment variable: nobody should need to tune it, and fewer knobs means fewer mistakes.
 */
export const AWS_CALL_TIMEOUT_MS = 10_000;

export function healthMonitorSettingsFromEnv(source: EnvSource = process.env): HealthMonitorSettings {
  return {
    healthUrl: httpsUrl('HEALTH_URL', requireEnv('HEALTH_URL', source)),
    healthCheckId: requireEnv('HEALTH_CHECK_ID', source).trim(),
    ordersDlqUrl: httpsUrl('ORDERS_DLQ_URL', requireEnv('ORDERS_DLQ_URL', source)),
    sessionTableName: requireEnv('SESSION_TABLE_NAME', source).trim(),
    alertTopicArn: snsTopicArn(requireEnv('ALERT_TOPIC_ARN', source)),
    eventBusName: requireEnv('EVENT_BUS_NAME', source).trim(),
    metricsNamespace: optionalEnv('METRICS_NAMESPACE', source)?.trim() ?? METRICS_NAMESPACE,
    environment: requireEnv('ENVIRONMENT_SUFFIX', source).trim(),
    // Above 30 s the check would outlive a sane health endpoint's own timeouts and eat the function's time budget.
    httpTimeoutMs: intEnv('HTTP_TIMEOUT_MS', 5_000, { min: 100, max: 30_000, source }),
    awsTimeoutMs: AWS_CALL_TIMEOUT_MS,
  };
}

/**
 * Both URLs must be https: over plain http anything on the path could fake a healthy answer, and the SQS client sends
 * its requests to the queue URL's own host (useQueueUrlAsEndpoint), so an http queue URL would mean plaintext calls.
 */
function httpsUrl(name: string, value: string): string {
  const url = new URL(absoluteUrl(name, value));
  if (url.protocol !== 'https:') {
    throw new ConfigurationError(`Environment variable ${name} must be an https URL, got ${describeValue(value)}`);
  }
  return url.toString();
}

function absoluteUrl(name: string, value: string): string {
  try {
    return new URL(value.trim()).toString();
  } catch {
    throw new ConfigurationError(`Environment variable ${name} must be an absolute URL, got ${describeValue(value)}`);
  }
}

function snsTopicArn(value: string): string {
  const trimmed = value.trim();
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(trimmed)) {
    throw new ConfigurationError(`Environment variable ALERT_TOPIC_ARN must be an SNS topic ARN, got ${describeValue(value)}`);
  }
  return trimmed;
}
