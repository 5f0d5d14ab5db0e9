/**
 * Fixtures for the health monitor tests: per-test AWS resources in moto (Route 53 health check, FIFO DLQ, session table,
 * alert topic and event bus, each observed through an SQS queue), a local health endpoint, and metric read-back.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CloudWatchClient, GetMetricDataCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateHealthCheckCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { HealthMonitorSettings } from '../../../lambda/health-monitor/config';
import { awsClientConfig } from '../../support/services';

/** The retry settings the deployed handler uses, so tests exercise the same SDK behaviour. */
export const SDK_RETRY = { maxAttempts: 3, retryMode: 'standard' } as const;

/** Concrete SDK clients (tests also create resources and read results with them); they fit HealthMonitorClients. */
export interface MotoClients {
  readonly route53: Route53Client;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
}

export function mockedClients(): MotoClients {
  const config = { ...awsClientConfig(), ...SDK_RETRY };
  return {
    route53: new Route53Client(config),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
    cloudwatch: new CloudWatchClient(config),
    sns: new SNSClient(config),
    eventBridge: new EventBridgeClient(config),
  };
}

export function destroyClients(clients: MotoClients): void {
  for (const client of Object.values(clients)) client.destroy();
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Everything one monitor run looks at, created fresh per test so no test sees another's messages or metrics. */
export interface MonitoredWorld {
  readonly healthCheckId: string;
  readonly ordersDlqUrl: string;
  readonly sessionTableName: string;
  readonly alertTopicArn: string;
  readonly eventBusName: string;
  /** Receives the SNS alerts (standard SNS envelope). */
  readonly alertObserverUrl: string;
  /** Receives the bus's HealthCheckFailed events. */
  readonly eventObserverUrl: string;
  readonly environment: string;
}

export async function createWorld(clients: MotoClients): Promise<MonitoredWorld> {
  const name = uniqueName('hm');
  const healthCheck = await clients.route53.send(
    new CreateHealthCheckCommand({
      CallerReference: name,
      HealthCheckConfig: {
        Type: 'HTTPS_STR_MATCH',
        FullyQualifiedDomainName: 'api.example.com',
        ResourcePath: '/v1/health',
        SearchString: '"status":"ok"',
        RequestInterval: 30,
        FailureThreshold: 3,
      },
    }),
  );
  // The real orders DLQ is FIFO (its source queue is), so the fixture is too.
  const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: `${name}-sessions`,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
    }),
  );
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: `${name}-alerts` }));
  const alertObserverUrl = await createQueue(clients.sqs, `${name}-alert-observer`);
  await clients.sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: await queueArn(clients.sqs, alertObserverUrl) }));
  const eventBusName = `${name}-bus`;
  await clients.eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  const eventObserverUrl = await createQueue(clients.sqs, `${name}-event-observer`);
  await clients.eventBridge.send(
    new PutRuleCommand({
      Name: `${name}-failed`,
      EventBusName: eventBusName,
      // Like the platform's critical-severity rule.
      EventPattern: JSON.stringify({ source: ['trading.platform'], detail: { severity: ['CRITICAL'] } }),
    }),
  );
  await clients.eventBridge.send(
    new PutTargetsCommand({
      Rule: `${name}-failed`,
      EventBusName: eventBusName,
      Targets: [{ Id: 'observer', Arn: await queueArn(clients.sqs, eventObserverUrl) }],
    }),
  );
  if (healthCheck.HealthCheck?.Id === undefined || dlq.QueueUrl === undefined || topic.TopicArn === undefined) {
    throw new Error('moto did not return the ids of the created resources');
  }
  return {
    healthCheckId: healthCheck.HealthCheck.Id,
    ordersDlqUrl: dlq.QueueUrl,
    sessionTableName: `${name}-sessions`,
    alertTopicArn: topic.TopicArn,
    eventBusName,
    alertObserverUrl,
    eventObserverUrl,
    environment: name,
  };
}

async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (created.QueueUrl === undefined) throw new Error(`moto returned no URL for queue ${name}`);
  return created.QueueUrl;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = attributes.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`moto returned no ARN for ${queueUrl}`);
  return arn;
}

export async function deadLetterOrders(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ clientOrderId: `dead-${index}` }),
        MessageGroupId: 'acct-1',
        MessageDeduplicationId: `dead-${index}`,
      }),
    );
  }
}

/**
 * Every message now in the queue. moto fans SNS and EventBridge out synchronously inside Publish/PutEvents and its short
 * poll returns everything there is, so one empty short poll means the queue is drained (against real SQS it would not).
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = received.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const message of messages) bodies.push(message.Body ?? '');
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

export interface SnsEnvelope {
  readonly Subject: string;
  readonly Message: string;
  readonly TopicArn: string;
}

export function parseSnsEnvelope(body: string): SnsEnvelope {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== 'object' || parsed === null || !('Subject' in parsed) || !('Message' in parsed) || !('TopicArn' in parsed)) {
    throw new Error(`not an SNS envelope: ${body}`);
  }
  const { Subject, Message, TopicArn } = parsed;
  if (typeof Subject !== 'string' || typeof Message !== 'string' || typeof TopicArn !== 'string') throw new Error(`not an SNS envelope: ${body}`);
  return { Subject, Message, TopicArn };
}

export interface BusEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: {
    readonly environment: string;
    readonly failedChecks: readonly string[];
    readonly results: Readonly<Record<string, { readonly healthy: boolean; readonly outcome: string; readonly reason: string }>>;
    readonly severity: string;
    readonly checkedAt: string;
  };
}

export function parseBusEvent(body: string): BusEvent {
  // The shape is what the monitor wrote; the assertions on it are the test.
  return JSON.parse(body) as BusEvent;
}

/** The Sum of a metric over the last hour (and a few minutes ahead, for clock skew); undefined when never published. */
export async function metricSum(
  cloudwatch: CloudWatchClient,
  namespace: string,
  metricName: string,
  dimensions: readonly Dimension[],
): Promise<number | undefined> {
  const now = Date.now();
  const output = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 60 * 60 * 1000),
      EndTime: new Date(now + 5 * 60 * 1000),
      MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: [...dimensions] }, Period: 60, Stat: 'Sum' } }],
    }),
  );
  const values = output.MetricDataResults?.[0]?.Values ?? [];
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

export function settingsFor(world: MonitoredWorld, healthUrl: string, overrides: Partial<HealthMonitorSettings> = {}): HealthMonitorSettings {
  return {
    healthUrl,
    healthCheckId: world.healthCheckId,
    ordersDlqUrl: world.ordersDlqUrl,
    sessionTableName: world.sessionTableName,
    alertTopicArn: world.alertTopicArn,
    eventBusName: world.eventBusName,
    metricsNamespace: METRICS_TEST_NAMESPACE,
    environment: world.environment,
    httpTimeoutMs: 2_000,
    awsTimeoutMs: 5_000,
    ...overrides,
  };
}

/** Its own namespace, so reading metrics back cannot pick up another suite's data. */
export const METRICS_TEST_NAMESPACE = 'TradingPlatformHealthMonitorTest';

export type Responder = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP server on loopback whose behaviour a test switches between runs. */
export class LocalServer {
  responder: Responder;
  readonly requests: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
    responder: Responder,
  ) {
    this.responder = responder;
  }

  static async start(responder: Responder, path = '/v1/health'): Promise<LocalServer> {
    let instance: LocalServer | undefined;
    const server = createServer((request, response) => {
      instance?.requests.push(`${request.method ?? '?'} ${request.url ?? '?'}`);
      instance?.responder(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the local server has no TCP address');
    instance = new LocalServer(server, `http://127.0.0.1:${address.port}${path}`, responder);
    return instance;
  }

  /** Also drops connections a hanging responder left open, or close() would wait for them forever. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function json(status: number, body: unknown): Responder {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}

/** Accepts the request and never answers: what a stuck load balancer or a hung Lambda looks like to a client. */
export const hang: Responder = () => undefined;
