/**
 * Order processor throughput and batch latency against a real local PostgreSQL (migrated with the shipped migrations)
 * and moto, side by side with a raw pg multi-row INSERT ... ON CONFLICT DO NOTHING of the same rows in the same run.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { Pool, type PoolClient } from 'pg';
import { ssmRiskLimits } from '../lambda/order-processor/config';
import { createHandler, PROCESSOR_DEADLINES, type OrderProcessorHandler } from '../lambda/order-processor/handler';
import { eventBridgePutEvents, type PutEventsPort } from '../lambda/shared/event-publisher';
import { DbPoolManager, toClientConfig, type WithClientOptions } from '../lambda/shared/db';
import { STORED_ORDER_COLUMNS } from '../lambda/shared/order-records';
import { notional } from '../lambda/shared/decimal';
import { migratedDatabase } from '../test/lambda/order-processor/harness';
import { awsClientConfig, toDbSettings, type PostgresEndpoint } from '../test/support/services';
import { summarise, throughputPerSecond, type LatencySummary } from './stats';

/**
 * How many batches of each size are timed; sized so each series takes seconds, not minutes, on 2 cores. Until
 * 2026-12-02 they were 200, 100 and 30, and the ratio moved by 0.08 between back-to-back runs: a batch of one takes
 * well under a millisecond, so a few GC pauses or slow commits decided the mean.
 */
export const ORDER_SERIES: readonly { readonly batchSize: number; readonly batches: number }[] = [
  { batchSize: 1, batches: 1_000 },
  { batchSize: 10, batches: 300 },
  { batchSize: 100, batches: 60 },
];

/** Untimed batches first: pool connections, SSM cache, JIT and the SDK's lazy loading are cold-start costs, not throughput. */
const WARM_UP_BATCHES = 5;

/**
 * One way of storing a batch: the processor (with two publisher ports), the raw insert of the same rows (the baseline),
 * and the raw insert that also returns the stored columns, as the processor's store does (it publishes each event
 * from the row that won; only keys that already existed, on a redelivery, are read back with a second statement).
 */
export type OrderPath = 'processor' | 'processorNoPublish' | 'raw' | 'rawReturning';
export const ORDER_PATHS: readonly OrderPath[] = ['processor', 'processorNoPublish', 'raw', 'rawReturning'];

/** Timed in this order, each group interleaved within itself: the ratio's paths together, the moto path alone. */
const INTERLEAVED_GROUPS: readonly (readonly OrderPath[])[] = [['processorNoPublish', 'raw', 'rawReturning'], ['processor']];

function byPath<T>(value: (path: OrderPath) => T): Record<OrderPath, T> {
  return {
    processor: value('processor'),
    processorNoPublish: value('processorNoPublish'),
    raw: value('raw'),
    rawReturning: value('rawReturning'),
  };
}

/** Where a processor batch spent its time, per batch: the two ports it waits on, and everything else. */
export interface ProcessorParts {
  /** Pool checkout and the INSERT ... RETURNING (the store's one withClient call; no read-back while every key is new). */
  readonly database: LatencySummary;
  /** PutEvents calls, one per 10 events, sequential. */
  readonly publish: LatencySummary;
  /** The rest: parsing, schema validation, risk checks, building events, the Powertools FIFO report when a record failed. */
  readonly other: LatencySummary;
}

type ProcessorPath = Extract<OrderPath, 'processor' | 'processorNoPublish'>;

export interface OrderSeriesResult {
  readonly batchSize: number;
  readonly latency: Readonly<Record<OrderPath, LatencySummary>>;
  readonly ordersPerSecond: Readonly<Record<OrderPath, number>>;
  readonly parts: Readonly<Record<ProcessorPath, ProcessorParts>>;
}

/**
 * The production pool manager, timing the time spent inside it (the store is its only caller). The timing wrappers are
 * not async and add one settled promise each: the instrument is charged to the processor's figures, so it costs as
 * little as it can (until 2026-12-03 each was an async function with try/finally, two promises and an await more).
 */
class TimedDbPoolManager extends DbPoolManager {
  spentMs = 0;

  override withClient<T>(fn: (client: PoolClient) => Promise<T>, options?: WithClientOptions): Promise<T> {
    return timedCall(() => super.withClient(fn, options), (ms) => {
      this.spentMs += ms;
    });
  }
}

/** A PutEvents port timing the calls made through it; not async, as TimedDbPoolManager. */
function timedPutEvents(port: PutEventsPort): PutEventsPort & { spentMs: number } {
  const timedPort = Object.assign(
    (input: Parameters<PutEventsPort>[0]) =>
      timedCall(() => port(input), (ms) => {
        timedPort.spentMs += ms;
      }),
    { spentMs: 0 },
  );
  return timedPort;
}

/** Settles as `call()` does (a synchronous throw as a rejection) and hands `spent` the time until then: one promise beside the call's own. */
function timedCall<T>(call: () => Promise<T>, spent: (ms: number) => void): Promise<T> {
  const started = process.hrtime.bigint();
  const stop = (): void => spent(Number(process.hrtime.bigint() - started) / 1e6);
  let calling: Promise<T>;
  try {
    calling = call();
  } catch (err) {
    stop();
    return Promise.reject(err);
  }
  return calling.then(
    (result) => {
      stop();
      return result;
    },
    (err: unknown) => {
      stop();
      throw err;
    },
  );
}

/** One order as a client posts it, plus the SQS ids the API's integration gives it. */
interface BenchOrder {
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly quantity: string;
  readonly limitPrice: string;
  readonly body: string;
}

const SYMBOLS = ['AAPL', 'MSFT', 'AMZN', 'NVDA', 'GOOG'] as const;

/** Valid LIMIT orders well under the notional limit: every one is ACCEPTED, the common path. Fresh ids every call. */
function newOrders(count: number, runId: string, sequence: { next: number }): BenchOrder[] {
  return Array.from({ length: count }, (_, index) => {
    sequence.next += 1;
    const fields = {
      clientOrderId: `bench-${runId}-${sequence.next}`,
      // Ten accounts, so a batch spans several FIFO message groups as real traffic does.
      accountId: `ACC-BENCH-${index % 10}`,
      symbol: SYMBOLS[sequence.next % SYMBOLS.length] ?? 'AAPL',
      side: sequence.next % 2 === 0 ? ('BUY' as const) : ('SELL' as const),
      type: 'LIMIT',
      quantity: String(1 + (sequence.next % 50)),
      limitPrice: '187.25',
      timeInForce: 'GTC',
    };
    return { ...fields, body: JSON.stringify(fields) };
  });
}

/** Shaped as the Lambda SQS event source delivers a FIFO message. */
function sqsRecord(order: BenchOrder, sentAt: number): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body: order.body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAt),
      SenderId: 'BENCH',
      ApproximateFirstReceiveTimestamp: String(sentAt),
      MessageGroupId: order.accountId,
      MessageDeduplicationId: order.clientOrderId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:sqs-orders-bench.fifo',
    awsRegion: 'us-east-1',
  };
}

/**
 * Every column the processor writes for an accepted order, with the same values: the baseline stores the same rows,
 * so the ratio measures the processor's own work, not a difference in what is stored. (Until 2026-12-02 the baseline
 * left out reject_reason, request_payload, sqs_sequence_number and content_hash, 4 of the 17 columns.)
 */
const RAW_COLUMNS = [
  'account_id',
  'client_order_id',
  'symbol',
  'side',
  'order_type',
  'quantity',
  'limit_price',
  'time_in_force',
  'notional',
  'status',
  'reject_reason',
  'request_payload',
  'sqs_message_id',
  'received_at',
  'processed_at',
  'sqs_sequence_number',
  'content_hash',
] as const;

type RawMode = Extract<OrderPath, 'raw' | 'rawReturning'>;

/** The rows the processor would store, as one hand-written multi-row INSERT: `raw` is the baseline and nothing else. */
async function rawInsert(pool: Pool, orders: readonly BenchOrder[], mode: RawMode): Promise<void> {
  const values: unknown[] = [];
  const now = new Date();
  const tuples = orders.map((order) => {
    const row = [
      order.accountId,
      order.clientOrderId,
      order.symbol,
      order.side,
      'LIMIT',
      order.quantity,
      order.limitPrice,
      'GTC',
      notional(order.quantity, order.limitPrice),
      'ACCEPTED',
      null,
      null,
      randomUUID(),
      now,
      now,
      null,
      createHash('sha256').update(order.body).digest('hex'),
    ];
    const placeholders = row.map((value) => {
      values.push(value);
      return `$${values.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  const insert = `INSERT INTO orders (${RAW_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (account_id, client_order_id) DO NOTHING`;
  if (mode === 'raw') {
    await pool.query(insert, values);
    return;
  }
  // Every key is new here, so RETURNING yields every stored row and no SELECT is needed.
  const stored = (await pool.query(`${insert} RETURNING ${STORED_ORDER_COLUMNS}`, values)).rowCount ?? 0;
  // A miscount would mean the variant did not do the work it is timed for.
  if (stored !== orders.length) throw new Error(`${mode} got ${stored} of ${orders.length} stored rows back`);
}

/** PutEvents answered in-process: isolates the processor's own work (parse, decide, insert ... RETURNING, FIFO report) from moto. */
const acceptEverything: PutEventsPort = async (input) => ({
  FailedEntryCount: 0,
  Entries: (input.Entries ?? []).map((_, index) => ({ EventId: `bench-${index}` })),
});

interface Fixture {
  readonly endpoint: PostgresEndpoint;
  readonly eventBridge: EventBridgeClient;
  readonly ssm: SSMClient;
  readonly eventBusName: string;
  readonly tradingEnabledParameter: string;
  readonly maxOrderNotionalParameter: string;
}

/** A migrated database, an event bus WITHOUT rules (moto delivers to rule targets synchronously, slowly) and the SSM limits. */
async function createFixture(): Promise<Fixture> {
  const endpoint = await migratedDatabase('bench_orders');
  // Production SDK settings (handler.ts): standard retry mode, 3 attempts.
  const aws = { ...awsClientConfig(), maxAttempts: 3, retryMode: 'standard' };
  const eventBridge = new EventBridgeClient(aws);
  const ssm = new SSMClient(aws);
  const suffix = randomBytes(4).toString('hex');
  const eventBusName = `eventbus-trading-us-east-1-b${suffix}`;
  await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  const tradingEnabledParameter = `/trading/b${suffix}/orders/trading-enabled`;
  const maxOrderNotionalParameter = `/trading/b${suffix}/orders/max-order-notional`;
  await ssm.send(new PutParameterCommand({ Name: tradingEnabledParameter, Value: 'true', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: maxOrderNotionalParameter, Value: '250000.00', Type: 'String' }));
  return { endpoint, eventBridge, ssm, eventBusName, tradingEnabledParameter, maxOrderNotionalParameter };
}

/** The handler exactly as wireFromEnvironment builds it, except the clients point at the local services. */
function processorHandler(fixture: Fixture, db: DbPoolManager, putEvents: PutEventsPort): OrderProcessorHandler {
  return createHandler({
    db,
    putEvents,
    eventBusName: fixture.eventBusName,
    riskLimits: ssmRiskLimits(new SSMProvider({ awsSdkV3Client: fixture.ssm }), {
      tradingEnabledParameter: fixture.tradingEnabledParameter,
      maxOrderNotionalParameter: fixture.maxOrderNotionalParameter,
      // As deployed (lib/constructs/order-processing.ts): SSM is read once per 30 s, not per batch.
      parameterCacheSeconds: 30,
    }),
    largeNotionalThreshold: '50000',
    // The production logger and EMF metrics write JSON lines to stdout (CloudWatch's job to ship); left out here.
  });
}

async function timed(action: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function measureOrderThroughput(progress: (line: string) => void): Promise<OrderSeriesResult[]> {
  const fixture = await createFixture();
  const settings = async (): Promise<ReturnType<typeof toDbSettings>> => toDbSettings(fixture.endpoint);
  // Each path gets its own pool with the production defaults (2 connections, same timeouts), as separate containers would.
  const ports = {
    // The deployed pool settings (PROCESSOR_DEADLINES): with them one attempt's worst case fits the time budget.
    processor: { db: new TimedDbPoolManager({ settings, applicationName: 'order-processor', ...PROCESSOR_DEADLINES.database }), putEvents: timedPutEvents(eventBridgePutEvents(fixture.eventBridge)) },
    processorNoPublish: { db: new TimedDbPoolManager({ settings, applicationName: 'order-processor', ...PROCESSOR_DEADLINES.database }), putEvents: timedPutEvents(acceptEverything) },
  };
  const rawPool = new Pool({ ...toClientConfig(toDbSettings(fixture.endpoint)), max: 2 });
  const handlers: Readonly<Record<ProcessorPath, OrderProcessorHandler>> = {
    processor: processorHandler(fixture, ports.processor.db, ports.processor.putEvents),
    processorNoPublish: processorHandler(fixture, ports.processorNoPublish.db, ports.processorNoPublish.putEvents),
  };
  type PartSamples = { database: number[]; publish: number[]; other: number[] };
  const newParts = (): Record<ProcessorPath, PartSamples> => ({
    processor: { database: [], publish: [], other: [] },
    processorNoPublish: { database: [], publish: [], other: [] },
  });
  let parts = newParts();
  const runId = randomBytes(3).toString('hex');
  const sequence = { next: 0 };
  let expectedRows = 0;

  const runBatch = async (path: OrderPath, batchSize: number): Promise<number> => {
    const orders = newOrders(batchSize, runId, sequence);
    expectedRows += orders.length;
    if (path === 'raw' || path === 'rawReturning') return timed(() => rawInsert(rawPool, orders, path));
    const sentAt = Date.now();
    const event: SQSEvent = { Records: orders.map((order) => sqsRecord(order, sentAt)) };
    let failures = 0;
    const { db, putEvents } = ports[path];
    db.spentMs = 0;
    putEvents.spentMs = 0;
    const ms = await timed(async () => {
      failures = (await handlers[path](event)).batchItemFailures.length;
    });
    parts[path].database.push(db.spentMs);
    parts[path].publish.push(putEvents.spentMs);
    parts[path].other.push(ms - db.spentMs - putEvents.spentMs);
    // A timing of failed batches would measure the error path; stop instead of printing a misleading figure.
    if (failures > 0) throw new Error(`order processor (${path}) failed ${failures} of ${batchSize} records; see the processor's log`);
    return ms;
  };

  try {
    const results: OrderSeriesResult[] = [];
    for (const { batchSize, batches } of ORDER_SERIES) {
      progress(`orders: ${batches} batches of ${batchSize} per path`);
      const paths = ORDER_PATHS;
      for (let warmUp = 0; warmUp < WARM_UP_BATCHES; warmUp += 1) {
        for (const path of paths) await runBatch(path, batchSize);
      }
      const samples = byPath((): number[] => []);
      parts = newParts();
      // The ratio's paths are interleaved only with each other, rotating who goes first, so drift (autovacuum, GC, the
      // other processes on the 2 cores) hits them alike. The path that publishes to moto runs in a loop of its own:
      // moto's Python server keeps a core busy after it has answered, and until 2026-12-02, when that path was in
      // the same rotation, the in-process processor ran right after a moto call in 3 of every 4 rounds and the raw
      // INSERT in 1, so the ratio carried moto's tail rather than the processor's own work.
      for (const group of INTERLEAVED_GROUPS) {
        for (let batch = 0; batch < batches; batch += 1) {
          for (let offset = 0; offset < group.length; offset += 1) {
            const path = group[(batch + offset) % group.length] ?? 'raw';
            samples[path].push(await runBatch(path, batchSize));
          }
        }
      }
      const latency = byPath((path) => summarise(samples[path]));
      const rate = (path: OrderPath): number => throughputPerSecond(batches * batchSize, latency[path].totalMs);
      results.push({
        batchSize,
        latency,
        ordersPerSecond: byPath(rate),
        parts: {
          processor: { database: summarise(parts.processor.database), publish: summarise(parts.processor.publish), other: summarise(parts.processor.other) },
          processorNoPublish: {
            database: summarise(parts.processorNoPublish.database),
            publish: summarise(parts.processorNoPublish.publish),
            other: summarise(parts.processorNoPublish.other),
          },
        },
      });
    }
    // Proof that every path really wrote every order (ON CONFLICT would silently hide a key collision).
    const stored = await rawPool.query<{ count: string }>('SELECT count(*)::text AS count FROM orders');
    if (Number(stored.rows[0]?.count) !== expectedRows) {
      throw new Error(`expected ${expectedRows} stored orders after the run, found ${stored.rows[0]?.count ?? 'none'}`);
    }
    return results;
  } finally {
    await Promise.allSettled([ports.processor.db.end(), ports.processorNoPublish.db.end(), rawPool.end()]);
    fixture.eventBridge.destroy();
    fixture.ssm.destroy();
  }
}
