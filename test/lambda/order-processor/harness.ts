/**
 * Shared fixtures for the order function tests: a migrated database per file, and in moto the orders FIFO queue, the
 * event bus with rules like the platform's (each routed to an SQS queue the test reads), and the SSM risk parameters.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Client } from 'pg';
import { applyMigrations, loadMigrations } from '../../../lambda/db-migrate/migrate';
import { DbPoolManager } from '../../../lambda/shared/db';
import type { OrderEventDetail } from '../../../lambda/shared/order-events';
import { ssmRiskLimits } from '../../../lambda/order-processor/config';
import { createHandler, PROCESSOR_DEADLINES, type MetricsPort, type OrderProcessorDeps, type OrderProcessorHandler } from '../../../lambda/order-processor/handler';
import { eventBridgePutEvents } from '../../../lambda/shared/event-publisher';
import { sqsRecordFromMessage } from '../../support/aws-contracts/lambda-events';
import { awsClientConfig, createTestDatabase, toDbSettings, type PostgresEndpoint } from '../../support/services';

const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', 'lambda', 'db-migrate', 'migrations');

/** A new database with the shipped migrations applied, as the migration custom resource leaves it. */
export async function migratedDatabase(prefix: string): Promise<PostgresEndpoint> {
  return migrate(await createTestDatabase(prefix));
}

/** Applies the shipped migrations to a database that exists already (e.g. a private outage server's). */
export async function migrate(endpoint: PostgresEndpoint): Promise<PostgresEndpoint> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    await applyMigrations(client, await loadMigrations(MIGRATIONS_DIR));
  } finally {
    await client.end();
  }
  return endpoint;
}

/** Fast, deterministic backoff for tests: full jitter's random pinned, real (short) sleeps. */
export const fastBackoff = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, random: () => 0.5 } as const;

export function poolFor(endpoint: PostgresEndpoint): DbPoolManager {
  return new DbPoolManager({
    settings: async () => toDbSettings(endpoint),
    connectionTimeoutMs: 1_000,
    // The deployed statement timeout: with it one attempt's worst case fits the processor's time budget.
    statementTimeoutMs: PROCESSOR_DEADLINES.database.statementTimeoutMs,
    settingsTimeoutMs: 1_000,
    retry: fastBackoff,
  });
}

/** A PostgreSQL row of `orders`, as a test reads it back. */
export interface OrderRow {
  readonly account_id: string;
  readonly client_order_id: string;
  readonly symbol: string | null;
  readonly side: string | null;
  readonly order_type: string | null;
  readonly quantity: string | null;
  readonly limit_price: string | null;
  readonly notional: string | null;
  readonly time_in_force: string | null;
  readonly status: string;
  readonly reject_reason: string | null;
  readonly request_payload: unknown;
  readonly sqs_message_id: string | null;
  readonly received_at: Date;
  readonly processed_at: Date;
  readonly sequence_number: string | null;
  readonly content_hash: string | null;
}

/** The stored orders of `accountIds` (each test uses its own accounts), in key order. */
export async function readOrders(endpoint: PostgresEndpoint, accountIds: readonly string[]): Promise<OrderRow[]> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    const result = await client.query<OrderRow>(
      `SELECT account_id, client_order_id, symbol, side, order_type, trim_scale(quantity)::text AS quantity,
              trim_scale(limit_price)::text AS limit_price, trim_scale(notional)::text AS notional, time_in_force,
              status, reject_reason, request_payload, sqs_message_id, received_at, processed_at,
              sqs_sequence_number::text AS sequence_number, content_hash
         FROM orders WHERE account_id = ANY($1::text[]) ORDER BY account_id, client_order_id`,
      [accountIds],
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/** An event as the capture queue receives it from the bus. */
export interface CapturedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: OrderEventDetail;
}

export interface MotoFixture {
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
  readonly ordersQueueUrl: string;
  /** Every platform event. */
  readonly allEventsQueueUrl: string;
  /** Queues behind rules with the platform's content filters. */
  readonly largeNotionalQueueUrl: string;
  readonly criticalQueueUrl: string;
  readonly rejectedQueueUrl: string;
  readonly tradingEnabledParameter: string;
  readonly maxOrderNotionalParameter: string;
}

/** A fresh set of moto resources with unique names, so test files cannot see each other's events. */
export async function createMotoFixture(): Promise<MotoFixture> {
  const config = awsClientConfig();
  const sqs = new SQSClient(config);
  const ssm = new SSMClient(config);
  const eventBridge = new EventBridgeClient(config);
  const suffix = randomBytes(4).toString('hex');
  const eventBusName = `eventbus-trading-us-east-1-t${suffix}`;
  await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));

  const ordersQueue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `sqs-orders-t${suffix}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '30' },
    }),
  );
  const routed = async (purpose: string, pattern: Record<string, unknown>): Promise<string> => {
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: `events-${purpose}-t${suffix}` }));
    const queueUrl = required(queue.QueueUrl, 'QueueUrl');
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const ruleName = `rule-${purpose}-t${suffix}`;
    await eventBridge.send(new PutRuleCommand({ Name: ruleName, EventBusName: eventBusName, EventPattern: JSON.stringify(pattern) }));
    await eventBridge.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: eventBusName,
        Targets: [{ Id: 'capture', Arn: required(attributes.Attributes?.['QueueArn'], 'QueueArn') }],
      }),
    );
    return queueUrl;
  };
  // The same patterns as the platform's rules in lib/constructs/trading-event-bus.ts.
  const source = ['trading.platform'];
  const fixture: MotoFixture = {
    sqs,
    ssm,
    eventBridge,
    eventBusName,
    ordersQueueUrl: required(ordersQueue.QueueUrl, 'QueueUrl'),
    allEventsQueueUrl: await routed('all', { source }),
    largeNotionalQueueUrl: await routed('large', { source, 'detail-type': ['OrderAccepted'], detail: { largeNotional: [true] } }),
    criticalQueueUrl: await routed('critical', { source, detail: { severity: ['CRITICAL'] } }),
    rejectedQueueUrl: await routed('rejected', { source, 'detail-type': ['OrderRejected'] }),
    tradingEnabledParameter: `/trading/t${suffix}/orders/trading-enabled`,
    maxOrderNotionalParameter: `/trading/t${suffix}/orders/max-order-notional`,
  };
  await setRiskParameters(fixture, { tradingEnabled: 'true', maxOrderNotional: '1000000' });
  return fixture;
}

export async function setRiskParameters(
  fixture: MotoFixture,
  values: { readonly tradingEnabled?: string; readonly maxOrderNotional?: string },
): Promise<void> {
  if (values.tradingEnabled !== undefined) {
    await fixture.ssm.send(
      new PutParameterCommand({ Name: fixture.tradingEnabledParameter, Value: values.tradingEnabled, Type: 'String', Overwrite: true }),
    );
  }
  if (values.maxOrderNotional !== undefined) {
    await fixture.ssm.send(
      new PutParameterCommand({ Name: fixture.maxOrderNotionalParameter, Value: values.maxOrderNotional, Type: 'String', Overwrite: true }),
    );
  }
}

/** What metrics the handler recorded, summed by name. */
export interface MetricsRecorder extends MetricsPort {
  readonly totals: Map<string, number>;
}

export function metricsRecorder(): MetricsRecorder {
  const totals = new Map<string, number>();
  return {
    totals,
    addMetric: (name: string, _unit: unknown, value: number) => {
      totals.set(name, (totals.get(name) ?? 0) + value);
    },
    publishStoredMetrics: () => undefined,
  };
}

export const LARGE_NOTIONAL_THRESHOLD = '50000';

/**
 * The processor wired as in production, against the test database and moto: a fresh SSMProvider, so each handler
 * is a fresh container with its own parameter cache.
 */
export function processorFor(
  endpoint: PostgresEndpoint,
  fixture: MotoFixture,
  overrides: Partial<OrderProcessorDeps> & { readonly parameterCacheSeconds?: number } = {},
): { readonly handler: OrderProcessorHandler; readonly db: DbPoolManager; readonly metrics: MetricsRecorder } {
  const { parameterCacheSeconds, ...deps } = overrides;
  const db = deps.db ?? poolFor(endpoint);
  const metrics = metricsRecorder();
  const handler = createHandler({
    db,
    putEvents: eventBridgePutEvents(fixture.eventBridge),
    eventBusName: fixture.eventBusName,
    riskLimits: ssmRiskLimits(new SSMProvider({ awsSdkV3Client: fixture.ssm }), {
      tradingEnabledParameter: fixture.tradingEnabledParameter,
      maxOrderNotionalParameter: fixture.maxOrderNotionalParameter,
      parameterCacheSeconds: parameterCacheSeconds ?? 30,
    }),
    largeNotionalThreshold: LARGE_NOTIONAL_THRESHOLD,
    metrics,
    dbRetry: fastBackoff,
    publishRetry: fastBackoff,
    ...deps,
  });
  return { handler, db, metrics };
}

/** A message as the API's SQS integration sends it. */
export interface OutgoingOrder {
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
}

/** An order body as a client would POST it; `fields` override or (as undefined) remove fields. */
export function orderBody(fields: Record<string, string | undefined> = {}): Record<string, string> {
  const order: Record<string, string | undefined> = {
    clientOrderId: `c-${randomBytes(4).toString('hex')}`,
    accountId: 'ACC-1',
    symbol: 'AAPL',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '10',
    limitPrice: '187.25',
    timeInForce: 'GTC',
    ...fields,
  };
  if (order['type'] === 'MARKET' && !Object.hasOwn(fields, 'limitPrice')) delete order['limitPrice'];
  return Object.fromEntries(Object.entries(order).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** A queued order whose group and deduplication ids come from the body, as the API sets them. */
export function queued(order: Record<string, string>): OutgoingOrder {
  return {
    body: JSON.stringify(order),
    groupId: required(order['accountId'], 'accountId'),
    deduplicationId: required(order['clientOrderId'], 'clientOrderId'),
  };
}

export async function sendOrders(fixture: MotoFixture, orders: readonly OutgoingOrder[]): Promise<void> {
  // One at a time, so that the queue's order is the order given.
  for (const order of orders) {
    await fixture.sqs.send(
      new SendMessageCommand({
        QueueUrl: fixture.ordersQueueUrl,
        MessageBody: order.body,
        MessageGroupId: order.groupId,
        MessageDeduplicationId: order.deduplicationId,
      }),
    );
  }
}

/** The queue ARN the records name (the event source mapping's queue). */
const ORDERS_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:sqs-orders-us-east-1-dev.fifo';

/** Receives up to 10 messages and shapes them as the Lambda SQS event source does. */
export async function receiveBatch(fixture: MotoFixture): Promise<SQSEvent> {
  const received = await fixture.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: fixture.ordersQueueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 0,
    }),
  );
  const records: SQSRecord[] = (received.Messages ?? []).map((message) => sqsRecordFromMessage(message, ORDERS_QUEUE_ARN));
  return { Records: records };
}

/**
 * What the event source mapping does with the response: deletes the acknowledged messages and makes the failed ones
 * visible again at once (instead of after the visibility timeout), so the test can receive them again.
 */
export async function settle(fixture: MotoFixture, event: SQSEvent, response: SQSBatchResponse): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const acknowledged = event.Records.filter((record) => !failed.has(record.messageId));
  const retried = event.Records.filter((record) => failed.has(record.messageId));
  if (acknowledged.length > 0) {
    await fixture.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fixture.ordersQueueUrl,
        Entries: acknowledged.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
  }
  if (retried.length > 0) {
    await fixture.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: fixture.ordersQueueUrl,
        Entries: retried.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** Reads and deletes every message in a capture queue; the bus delivers synchronously in moto, so none is in flight. */
export async function drainEvents(fixture: MotoFixture, queueUrl: string): Promise<CapturedEvent[]> {
  const events: CapturedEvent[] = [];
  for (;;) {
    const received = await fixture.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = received.Messages ?? [];
    if (messages.length === 0) return events;
    for (const message of messages) events.push(JSON.parse(message.Body ?? '{}') as CapturedEvent);
    await fixture.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: required(message.ReceiptHandle, 'ReceiptHandle') })),
      }),
    );
  }
}

/** Empties every capture queue, so a test sees only its own events. */
export async function drainAllEvents(fixture: MotoFixture): Promise<void> {
  for (const queueUrl of [fixture.allEventsQueueUrl, fixture.largeNotionalQueueUrl, fixture.criticalQueueUrl, fixture.rejectedQueueUrl]) {
    await drainEvents(fixture, queueUrl);
  }
}

/** The event detail a stored row must produce, for comparing published events with the database. */
export function expectedDetail(row: OrderRow): Record<string, unknown> {
  return {
    orderId: `${row.account_id}.${row.client_order_id}`,
    accountId: row.account_id,
    clientOrderId: row.client_order_id,
    symbol: row.symbol,
    side: row.side,
    type: row.order_type,
    quantity: row.quantity,
    limitPrice: row.limit_price,
    notional: row.notional,
    timeInForce: row.time_in_force,
    status: row.status,
    rejectReason: row.reject_reason,
    receivedAt: row.received_at.toISOString(),
    processedAt: row.processed_at.toISOString(),
    sequenceNumber: row.sequence_number,
  };
}

export function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`moto returned no ${what}`);
  return value;
}
