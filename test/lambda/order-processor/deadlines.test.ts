/**
 * The processor's calls are bounded by the invocation's time: a hung EventBridge (a black-holing TCP proxy in front
 * of moto) or a hung PostgreSQL (the same in front of the server) fails the affected records with a partial batch
 * response before the Lambda deadline, instead of the whole invocation timing out.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createAwsClient, worstCaseCallMs } from '../../../lambda/shared/aws-clients';
import { DbPoolManager } from '../../../lambda/shared/db';
import { PROCESSOR_DEADLINES } from '../../../lambda/order-processor/handler';
import { eventBridgePutEvents } from '../../../lambda/shared/event-publisher';
import { BLACKHOLE, startTcpProxy, type TcpProxy } from '../../support/faults/tcp-proxy';
import { awsClientConfig, toDbSettings, type PostgresEndpoint } from '../../support/services';
import {
  createMotoFixture,
  drainAllEvents,
  drainEvents,
  migratedDatabase,
  orderBody,
  processorFor,
  queued,
  readOrders,
  receiveBatch,
  sendOrders,
  setRiskParameters,
  settle,
  type MotoFixture,
} from './harness';
import { randomBytes } from 'node:crypto';

let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  endpoint = await migratedDatabase('order_deadlines');
  fixture = await createMotoFixture();
  await setRiskParameters(fixture, { tradingEnabled: 'true', maxOrderNotional: '1000000' });
});

beforeEach(async () => {
  await drainAllEvents(fixture);
});

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A Lambda context whose deadline is `ms` from now, as the runtime's getRemainingTimeInMillis counts it. */
function deadlineIn(ms: number): { readonly getRemainingTimeInMillis: () => number; readonly deadline: number } {
  const deadline = Date.now() + ms;
  return { deadline, getRemainingTimeInMillis: () => deadline - Date.now() };
}

async function proxyTo(port: number): Promise<TcpProxy> {
  const proxy = await startTcpProxy(port, '127.0.0.1', BLACKHOLE);
  cleanups.push(() => proxy.close());
  return proxy;
}

it('answers before the deadline with every record failed when PutEvents hangs, and stores each order once', async () => {
  const account = `HUNG-EB-${randomBytes(3).toString('hex')}`;
  const orders = [orderBody({ accountId: account, clientOrderId: 'e1' }), orderBody({ accountId: account, clientOrderId: 'e2' })];
  await sendOrders(fixture, orders.map(queued));
  const hung = await proxyTo(Number(new URL(awsClientConfig().endpoint).port));
  // The deployed client configuration (deadlines that abort), pointed at an EventBridge that never answers.
  const eventBridge = createAwsClient(EventBridgeClient, { deadlines: PROCESSOR_DEADLINES.sdk, extra: { ...awsClientConfig(), endpoint: hung.url } });
  cleanups.push(async () => eventBridge.destroy());
  const logs: string[] = [];
  const record = (message: string, ...attributes: Record<string, unknown>[]): void => {
    logs.push(`${message} ${JSON.stringify(attributes)}`);
  };
  const logger = { debug: record, info: record, warn: record, error: record };
  const { handler, db } = processorFor(endpoint, fixture, { putEvents: eventBridgePutEvents(eventBridge), logger });
  cleanups.push(() => db.end());

  // Enough for the store (its worst case plus reserve, 18 s) and then some calls to the hung bus, not for all.
  const context = deadlineIn(22_000);
  const event = await receiveBatch(fixture);
  const response = await handler(event, context);
  const finishedAt = Date.now();

  // Returned in time: a partial batch response, not a Lambda timeout of the whole batch.
  expect(finishedAt).toBeLessThan(context.deadline);
  expect(hung.connections()).toBeGreaterThan(0);
  // Each call was cut off by the client's own request deadline (the SDK reports a TimeoutError), not by Lambda.
  expect(logs.some((line) => line.includes('request has exceeded the configured') || line.includes('TimeoutError') || line.includes('timed out'))).toBe(true);
  expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(event.Records.map((record) => record.messageId).sort());
  // The orders were stored before publishing; the redelivery publishes them from the stored rows.
  expect((await readOrders(endpoint, [account])).map((row) => row.status)).toEqual(['ACCEPTED', 'ACCEPTED']);
  await settle(fixture, event, response);
  const healthy = processorFor(endpoint, fixture);
  cleanups.push(() => healthy.db.end());
  const redelivered = await receiveBatch(fixture);
  await expect(healthy.handler(redelivered)).resolves.toEqual({ batchItemFailures: [] });
  expect((await drainEvents(fixture, fixture.allEventsQueueUrl)).map((captured) => captured.detail.clientOrderId).sort()).toEqual(['e1', 'e2']);
  expect(await readOrders(endpoint, [account])).toHaveLength(2);
});

it('answers before the deadline when PostgreSQL accepts connections and never answers', async () => {
  const account = `HUNG-PG-${randomBytes(3).toString('hex')}`;
  await sendOrders(fixture, [queued(orderBody({ accountId: account, clientOrderId: 'p1' }))]);
  const hung = await proxyTo(endpoint.port);
  const db = new DbPoolManager({
    settings: async () => ({ ...toDbSettings(endpoint), port: hung.port }),
    connectionTimeoutMs: 1_000,
    statementTimeoutMs: 1_000,
    settingsTimeoutMs: 1_000,
  });
  cleanups.push(() => db.end());
  const { handler } = processorFor(endpoint, fixture, { db, dbRetry: { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 400 } });

  // One attempt may take 1 s settings + 1 s connect + 2 x (1 s + 2 s) = 8 s, the store keeps 6 s: 20 s allow one
  // attempt and maybe a second, never one that could run past the deadline.
  const context = deadlineIn(20_000);
  const event = await receiveBatch(fixture);
  const response = await handler(event, context);
  expect(Date.now()).toBeLessThan(context.deadline);
  expect(hung.connections()).toBeGreaterThan(0);
  expect(response.batchItemFailures).toHaveLength(1);
  await settle(fixture, event, response);
  // Drain: the message goes back for the next test run's isolation.
  const again = await receiveBatch(fixture);
  const healthy = processorFor(endpoint, fixture);
  cleanups.push(() => healthy.db.end());
  await expect(healthy.handler(again)).resolves.toEqual({ batchItemFailures: [] });
});

it('refuses to start publishing with less time left than a call can take', () => {
  // The figure every budget check of the processor's publisher uses: 2 attempts x (0.5 s + 1.5 s) + 0.5 s backoff.
  expect(worstCaseCallMs(PROCESSOR_DEADLINES.sdk)).toBe(4_500);
});

it('does not start reading the risk limits with less time left than the read can take', async () => {
  const account = `LATE-${randomBytes(3).toString('hex')}`;
  await sendOrders(fixture, [queued(orderBody({ accountId: account, clientOrderId: 'l1' }))]);
  let reads = 0;
  const { handler, db } = processorFor(endpoint, fixture, {
    riskLimits: async () => {
      reads += 1;
      return { tradingEnabled: true, maxOrderNotional: '1000000' };
    },
  });
  cleanups.push(() => db.end());
  const event = await receiveBatch(fixture);
  // 3 s left; an SSM read may take 4.5 s with the processor's deadlines.
  const response = await handler(event, deadlineIn(3_000));
  expect(reads).toBe(0);
  expect(response.batchItemFailures).toHaveLength(1);
  expect(await readOrders(endpoint, [account])).toEqual([]);
  await settle(fixture, event, response);
  const again = await receiveBatch(fixture);
  await expect(handler(again)).resolves.toEqual({ batchItemFailures: [] });
});
