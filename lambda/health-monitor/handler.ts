/**
 * EventBridge Scheduler adapter of the hourly health monitor (runs outside the VPC): wires the container's SDK clients
 * and global fetch into runHealthMonitor once, returns the run's summary, and fails the invocation when delivery failed.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../shared/errors';
import { createAwsClient } from '../shared/aws-clients';
import { lambdaEntryPoint, type Observability } from '../shared/observability';
import { healthMonitorSettingsFromEnv } from './config';
import { runHealthMonitor, type HealthMonitorSummary } from './monitor';
import { sdkPorts } from './ports';

type MonitorRun = () => Promise<HealthMonitorSummary>;

let deployedRun: MonitorRun | undefined;

/** The deployed entry point, traced. The scheduled event carries nothing the run needs, so it is ignored. */
export const handler = lambdaEntryPoint('health-monitor', async (_event: unknown, _context, observability): Promise<HealthMonitorSummary> => {
  try {
    deployedRun ??= wireFromEnvironment(observability);
    return await deployedRun();
  } catch (err) {
    // Failed checks do not get here (they are findings, alerted on); only configuration faults and undeliverable
    // findings do, and failing the invocation is what lets the error alarm and the async DLQ see them.
    observability.logger.error('health monitor run failed', { error: errorMessage(err) });
    throw err;
  }
});

function wireFromEnvironment(observability: Observability): MonitorRun {
  const settings = healthMonitorSettingsFromEnv();
  // Bounded SDK retries with short socket timeouts: a blip is absorbed, while a dead endpoint fails well within the
  // per-call deadline instead of consuming it on one hung connection.
  const options = { deadlines: { connectionTimeoutMs: 2_000, requestTimeoutMs: 4_000, maxAttempts: 3 }, observability } as const;
  const ports = sdkPorts({
    route53: createAwsClient(Route53Client, options),
    sqs: createAwsClient(SQSClient, options),
    dynamodb: createAwsClient(DynamoDBClient, options),
    cloudwatch: createAwsClient(CloudWatchClient, options),
    sns: createAwsClient(SNSClient, options),
    eventBridge: createAwsClient(EventBridgeClient, options),
  });
  return () => runHealthMonitor({ ...ports, logger: observability.logger }, settings);
}
