/**
 * The health monitor's ports: one function per outside call (HTTP, Route 53, SQS, DynamoDB, CloudWatch, SNS,
 * EventBridge) plus a clock, and the adapters that build them from SDK v3 clients created once per container.
 */
import { PutMetricDataCommand, type CloudWatchClient, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, type DescribeTableCommandOutput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetHealthCheckStatusCommand, type GetHealthCheckStatusCommandOutput, type Route53Client } from '@aws-sdk/client-route-53';
import { PublishCommand, type PublishCommandInput, type PublishCommandOutput, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type GetQueueAttributesCommandOutput, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import { eventBridgePutEvents, type PutEventsPort } from '../shared/event-publisher';
import type { LogPort } from '../shared/observability';

/** What the endpoint probe sends; `globalThis.fetch` accepts it. */
export interface HttpProbeRequest {
  readonly method: 'GET';
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** A redirect is reported as what it is (a 3xx), not silently followed to some other page that answers 200. */
  readonly redirect: 'manual';
}

/** The part of a fetch Response the probe reads. */
export interface HttpProbeResponse {
  readonly status: number;
  text(): Promise<string>;
}

export type FetchPort = (url: string, request: HttpProbeRequest) => Promise<HttpProbeResponse>;

/**
 * Every AWS port takes the check's AbortSignal, so a check that runs out of time also cancels its request (and the
 * SDK's retries) instead of leaving it running behind the verdict.
 */
export type GetHealthCheckStatusPort = (
  healthCheckId: string,
  signal: AbortSignal,
) => Promise<Pick<GetHealthCheckStatusCommandOutput, 'HealthCheckObservations'>>;

export type GetQueueAttributesPort = (
  queueUrl: string,
  attributeNames: readonly QueueAttributeName[],
  signal: AbortSignal,
) => Promise<Pick<GetQueueAttributesCommandOutput, 'Attributes'>>;

export type DescribeTablePort = (tableName: string, signal: AbortSignal) => Promise<Pick<DescribeTableCommandOutput, 'Table'>>;

export type PutMetricDataPort = (input: PutMetricDataCommandInput, signal: AbortSignal) => Promise<unknown>;

export type PublishAlertPort = (input: PublishCommandInput, signal: AbortSignal) => Promise<Pick<PublishCommandOutput, 'MessageId'>>;

/** Wall time for timestamps, a monotonic clock for durations (the wall clock may step during a run). */
export interface Clock {
  now(): Date;
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};

export interface HealthMonitorPorts {
  readonly fetch: FetchPort;
  readonly getHealthCheckStatus: GetHealthCheckStatusPort;
  readonly getQueueAttributes: GetQueueAttributesPort;
  readonly describeTable: DescribeTablePort;
  readonly putMetricData: PutMetricDataPort;
  readonly publishAlert: PublishAlertPort;
  /** Called with the delivery's AbortSignal. */
  readonly putEvents: PutEventsPort;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: LogPort;
}

/** The SDK clients the monitor uses; each should carry the SDK retry strategy with bounded attempts. */
export interface HealthMonitorClients {
  readonly route53: Pick<Route53Client, 'send'>;
  readonly sqs: Pick<SQSClient, 'send'>;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly eventBridge: Pick<EventBridgeClient, 'send'>;
}

/** Ports over real SDK clients and a real fetch; both the handler and the integration tests use this. */
export function sdkPorts(clients: HealthMonitorClients, fetch: FetchPort = globalThis.fetch): Omit<HealthMonitorPorts, 'clock' | 'logger'> {
  return {
    fetch,
    getHealthCheckStatus: (healthCheckId, signal) =>
      clients.route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId }), { abortSignal: signal }),
    getQueueAttributes: (queueUrl, attributeNames, signal) =>
      clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...attributeNames] }), { abortSignal: signal }),
    describeTable: (tableName, signal) => clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal }),
    putMetricData: (input, signal) => clients.cloudwatch.send(new PutMetricDataCommand(input), { abortSignal: signal }),
    publishAlert: (input, signal) => clients.sns.send(new PublishCommand(input), { abortSignal: signal }),
    putEvents: eventBridgePutEvents(clients.eventBridge),
  };
}
