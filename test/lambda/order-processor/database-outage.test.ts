/**
 * The processor while its PostgreSQL is stopped (a server of this file's own, so any jest worker count is safe): a restart during the backoff is
 * ridden out; a longer outage fails every record, and redelivery then stores each order exactly once.
 */
import { randomBytes } from 'node:crypto';
import type { LogPort } from '../../../lambda/shared/observability';
import { startOutagePostgres, type PostgresEndpoint } from '../../support/services';
import {
  createMotoFixture,
  drainAllEvents,
  drainEvents,
  expectedDetail,
  migrate,
  orderBody,
  processorFor,
  queued,
  readOrders,
  receiveBatch,
  sendOrders,
  settle,
  type MotoFixture,
} from './harness';

let outage: Awaited<ReturnType<typeof startOutagePostgres>>;
let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
const pools: Array<{ end(): Promise<void> }> = [];

beforeAll(async () => {
  outage = await startOutagePostgres();
  endpoint = await migrate(outage.endpoint);
  fixture = await createMotoFixture();
});

beforeEach(async () => {
  await drainAllEvents(fixture);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await outage.close();
});

/** Keeps messages, and failures with their error, so that a failed expectation shows what went wrong. */
function recordingLogger(): LogPort & { readonly messages: string[]; readonly failures: string[] } {
  const messages: string[] = [];
  const failures: string[] = [];
  const record = (message: string, ...attributes: Record<string, unknown>[]): void => {
    messages.push(message);
    if (message.includes('failed')) failures.push(`${message}: ${JSON.stringify(attributes)}`);
  };
  return { messages, failures, debug: record, info: record, warn: record, error: record };
}

function accounts(): [string, string] {
  const tag = randomBytes(3).toString('hex');
  return [`ACC-X-${tag}`, `ACC-Y-${tag}`];
}

it('rides out a database restart while the batch is backing off, storing every order once', async () => {
  const [first, second] = accounts();
  const orders = [
    orderBody({ accountId: first, clientOrderId: 'r1' }),
    orderBody({ accountId: second, clientOrderId: 'r2' }),
    orderBody({ accountId: first, clientOrderId: 'r3', type: 'MARKET' }),
  ];
  await sendOrders(fixture, orders.map(queued));
  const logger = recordingLogger();
  const { handler, db } = processorFor(endpoint, fixture, {
    logger,
    // Up to ~10 s of backoff in total, plenty for a local restart; jitter pinned to the full window.
    dbRetry: { maxAttempts: 40, baseDelayMs: 50, maxDelayMs: 250, random: () => 1 },
  });
  pools.push(db);
  // A warm container: its pool holds a connection that the stop will terminate (57P01, as in a failover).
  await db.query('select 1');
  const event = await receiveBatch(fixture);
  expect(event.Records).toHaveLength(3);

  // 'fast', not 'immediate': the test server runs without durable commits (fsync and synchronous_commit off), so a
  // crash-stop can lose the migrations committed just before it, which Aurora never would.
  await outage.stop('fast');
  const restart = new Promise<void>((resolve, reject) => {
    setTimeout(() => outage.start().then(resolve, reject), 1_000);
  });
  let response;
  try {
    response = await handler(event);
  } finally {
    await restart;
  }
  expect(logger.messages).toContain('storing the order batch failed, retrying');
  expect(logger.failures.filter((line) => !line.startsWith('storing the order batch failed, retrying'))).toEqual([]);
  expect(response).toEqual({ batchItemFailures: [] });
  await settle(fixture, event, response);

  const rows = await readOrders(endpoint, [first, second]);
  expect(rows.map((row) => [row.client_order_id, row.status])).toEqual([
    ['r1', 'ACCEPTED'],
    ['r3', 'ACCEPTED'],
    ['r2', 'ACCEPTED'],
  ]);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  expect(published).toHaveLength(3);
  for (const row of rows) {
    expect(published.find((captured) => captured.detail.clientOrderId === row.client_order_id)?.detail).toMatchObject(expectedDetail(row));
  }
});

it('fails every record while the database stays down past the time budget, and redelivery stores each order exactly once', async () => {
  const [first, second] = accounts();
  const orders = [
    orderBody({ accountId: first, clientOrderId: 'd1' }),
    orderBody({ accountId: first, clientOrderId: 'd2' }),
    orderBody({ accountId: second, clientOrderId: 'd3' }),
    orderBody({ accountId: second, clientOrderId: 'd4', quantity: 'not-a-number' }),
  ];
  await sendOrders(fixture, orders.map(queued));
  const logger = recordingLogger();
  const { handler, db, metrics } = processorFor(endpoint, fixture, {
    logger,
    // Many attempts allowed: it is the Lambda's remaining time that must stop the retries here.
    dbRetry: { maxAttempts: 50, baseDelayMs: 50, maxDelayMs: 400, random: () => 1 },
  });
  pools.push(db);
  // An attempt needs its worst case (settings 1 s + connect 1 s + two statements of 3 s + 2 s = 12 s) plus the
  // store's 6 s reserve: 18.15 s left allows the 50 ms and 100 ms waits and refuses the 200 ms one.
  const nearlyOutOfTime = { getRemainingTimeInMillis: () => 18_150 };

  const event = await receiveBatch(fixture);
  expect(event.Records).toHaveLength(4);
  await outage.stop('fast');
  let outageResponse;
  try {
    outageResponse = await handler(event, nearlyOutOfTime);
  } finally {
    await outage.start();
  }
  // Every record failed, the invalid one too: nothing of the batch is known to be stored.
  expect(outageResponse.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
    event.Records.map((record) => record.messageId).sort(),
  );
  expect(logger.messages.filter((message) => message === 'storing the order batch failed, retrying')).toHaveLength(2);
  expect(logger.messages).toContain('storing the order batch failed and there is no time left to retry');
  expect(Object.fromEntries(metrics.totals)).toMatchObject({ OrdersFailed: 4, OrdersAccepted: 0, OrdersRejected: 0 });
  expect(await drainEvents(fixture, fixture.allEventsQueueUrl)).toEqual([]);
  await settle(fixture, event, outageResponse);

  // SQS delivers the same messages again once the database is back.
  const redelivered = await receiveBatch(fixture);
  expect(redelivered.Records.map((record) => record.messageId).sort()).toEqual(event.Records.map((record) => record.messageId).sort());
  logger.failures.length = 0;
  const response = await handler(redelivered);
  expect(logger.failures).toEqual([]);
  expect(response).toEqual({ batchItemFailures: [] });
  await settle(fixture, redelivered, response);
  expect((await receiveBatch(fixture)).Records).toHaveLength(0);

  const rows = await readOrders(endpoint, [first, second]);
  expect(rows.map((row) => [row.client_order_id, row.status])).toEqual([
    ['d1', 'ACCEPTED'],
    ['d2', 'ACCEPTED'],
    ['d3', 'ACCEPTED'],
    ['d4', 'REJECTED'],
  ]);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  expect(published.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['d1', 'd2', 'd3', 'd4']);
  for (const row of rows) {
    expect(published.find((captured) => captured.detail.clientOrderId === row.client_order_id)?.detail).toMatchObject(expectedDetail(row));
  }
});
