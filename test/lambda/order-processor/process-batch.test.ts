/**
 * processOrderBatch on its own, fast: records as the SQS FIFO event source delivers them, the real PostgresOrderStore
 * on a real PostgreSQL (one migrated database for the file), the real EventBridge publisher on a moto bus (through the
 * fault proxy that can refuse chosen entries) and the real SSM reader on moto. Every outcome is asserted as an
 * operator meets it: the batch response, the summary the metrics come from, the rows, the events sent, the log lines.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSRecord } from 'aws-lambda';
import { Client } from 'pg';
import { ssmRiskLimits } from '../../../lambda/order-processor/config';
import { PostgresOrderStore } from '../../../lambda/order-processor/order-store';
import { processOrderBatch, type OrderBatchPorts } from '../../../lambda/order-processor/process-batch';
import type { DbPoolManager } from '../../../lambda/shared/db';
import { EventBridgePublisher } from '../../../lambda/shared/event-publisher';
import { silentLogger, type LogPort } from '../../../lambda/shared/observability';
import type { TimeBudget } from '../../../lambda/shared/time-budget';
import { sqsFifoRecord } from '../../support/aws-contracts/lambda-events';
import { startRefusingEventBridge, type EntryRefusal, type RefusingEventBridge } from '../../support/faults/refusing-event-bridge';
import { awsClientConfig, type PostgresEndpoint } from '../../support/services';
import { fastBackoff, migratedDatabase, orderBody, poolFor, readOrders } from './harness';

const PROCESSED_AT = new Date('2026-03-02T10:00:00.000Z');
const SDK_DEADLINES = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 1 } as const;
const ample: TimeBudget = { remainingMs: () => 30_000 };

let endpoint: PostgresEndpoint;
let pool: DbPoolManager;
let bridge: RefusingEventBridge;
let ssm: SSMClient;
let unreachableSsm: SSMClient;
const eventBusName = `eventbus-batch-t${randomBytes(4).toString('hex')}`;
const parameterPrefix = `/trading/t${randomBytes(4).toString('hex')}/orders`;
/** Which PutEvents entries the proxy refuses; a test sets it, and the next one starts with none refused. */
let refusal: EntryRefusal = () => undefined;

/** A TCP port nothing listens on: connections to it are refused at once, like an SSM endpoint that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

beforeAll(async () => {
  endpoint = await migratedDatabase('process_batch');
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    // Rules only this database knows, each standing for a way PostgreSQL can fail one record of a batch:
    // a key it refuses even in the reduced form,
    await client.query("ALTER TABLE orders ADD CONSTRAINT test_no_refused_key CHECK (client_order_id <> 'refused-key')");
    // a message whose row it refuses, full and reduced, while another message's row of the same key is accepted,
    await client.query("ALTER TABLE orders ADD CONSTRAINT test_no_refused_message CHECK (sqs_message_id NOT LIKE '%-refused')");
    // a row that is not there when read back (a BEFORE trigger that skips the insert),
    await client.query(`CREATE FUNCTION test_skip_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
    await client.query(
      "CREATE TRIGGER test_vanishing BEFORE INSERT ON orders FOR EACH ROW WHEN (NEW.client_order_id = 'vanishing') EXECUTE FUNCTION test_skip_row()",
    );
    // and conflicts that cannot be recorded.
    await client.query(
      `CREATE FUNCTION test_refuse_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'conflicts of account % are not accepted here', NEW.account_id; END $$`,
    );
    await client.query(
      "CREATE TRIGGER test_no_conflicts BEFORE INSERT ON order_conflicts FOR EACH ROW WHEN (NEW.account_id LIKE 'NOCONF%') EXECUTE FUNCTION test_refuse_conflict()",
    );
  } finally {
    await client.end();
  }
  pool = poolFor(endpoint);
  const config = awsClientConfig();
  ssm = new SSMClient(config);
  unreachableSsm = new SSMClient({ ...config, endpoint: `http://127.0.0.1:${await closedPort()}`, maxAttempts: 1 });
  await new EventBridgeClient(config).send(new CreateEventBusCommand({ Name: eventBusName }));
  for (const [name, value] of [
    ['trading-enabled', 'true'],
    ['max-order-notional', '100000'],
  ] as const) {
    await ssm.send(new PutParameterCommand({ Name: `${parameterPrefix}/${name}`, Value: value, Type: 'String', Overwrite: true }));
  }
  bridge = await startRefusingEventBridge((ordinal, entry) => refusal(ordinal, entry), SDK_DEADLINES);
});

afterEach(() => {
  refusal = () => undefined;
  // A spy left behind by a failed expectation would otherwise carry its calls into the next test.
  jest.restoreAllMocks();
});

afterAll(async () => {
  await bridge.close();
  await pool.end();
  ssm.destroy();
  unreachableSsm.destroy();
});

interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** The LogPort processOrderBatch is given, keeping every line as an operator would read it in CloudWatch. */
function logRecorder(): LogPort & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: string, ...attributes: Record<string, unknown>[]): void => {
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) as Record<string, unknown> });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function riskLimitsFrom(client: SSMClient): OrderBatchPorts['riskLimits'] {
  return ssmRiskLimits(new SSMProvider({ awsSdkV3Client: client }), {
    tradingEnabledParameter: `${parameterPrefix}/trading-enabled`,
    maxOrderNotionalParameter: `${parameterPrefix}/max-order-notional`,
    parameterCacheSeconds: 30,
  });
}

/** The ports as the handler wires them, with this file's database, bus and parameters; only `logger` is watched. */
function portsFor(logger: LogPort, overrides: Partial<OrderBatchPorts> = {}): OrderBatchPorts {
  return {
    store: new PostgresOrderStore(pool, { logger: silentLogger, retry: fastBackoff, reserveMs: 0 }),
    publisher: new EventBridgePublisher(bridge.putEvents, {
      eventBusName,
      ordering: 'per-group',
      callWorstCaseMs: 3_000,
      retry: fastBackoff,
      reserveMs: 0,
      logger: silentLogger,
      eventsName: 'order events',
    }),
    riskLimits: riskLimitsFrom(ssm),
    largeNotionalThreshold: '50000',
    clock: () => PROCESSED_AT,
    logger,
    ...overrides,
  };
}

const tag = (): string => randomBytes(3).toString('hex').toUpperCase();

/** A record of `account`'s message group (the API sets group and deduplication id from the body). */
function recordOf(messageId: string, body: Record<string, string> | string, ids?: { account: string; clientOrderId: string }): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const account = ids?.account ?? (typeof body === 'string' ? 'none' : (body['accountId'] ?? 'none'));
  const clientOrderId = ids?.clientOrderId ?? (typeof body === 'string' ? messageId : (body['clientOrderId'] ?? messageId));
  return sqsFifoRecord({ body: text, messageId, messageGroupId: account, messageDeduplicationId: clientOrderId });
}

/** What each PutEvents call since `mark` carried, as "DetailType clientOrderId" per entry. */
function sentSince(mark: number): string[][] {
  return bridge
    .entriesOfCalls()
    .slice(mark)
    .map((entries) => entries.map((entry) => `${entry.DetailType} ${(JSON.parse(entry.Detail ?? '{}') as { clientOrderId?: string }).clientOrderId}`));
}

const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }): string[] =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);

async function conflictRows(account: string): Promise<Array<{ client_order_id: string; sqs_message_id: string }>> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    const result = await client.query<{ client_order_id: string; sqs_message_id: string }>(
      'SELECT client_order_id, sqs_message_id FROM order_conflicts WHERE account_id = $1 ORDER BY sqs_message_id',
      [account],
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

it('stores, decides and publishes a mixed batch per account in record order, logging each rejection', async () => {
  const run = tag();
  const [a, b] = [`A-${run}`, `B-${run}`];
  const records = [
    recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'a-1' })),
    recordOf(`${run}-2`, 'not json', { account: b, clientOrderId: 'b-1' }),
    recordOf(`${run}-3`, orderBody({ accountId: a, clientOrderId: 'a-2', quantity: '1000', limitPrice: '200' })),
    recordOf(`${run}-4`, orderBody({ accountId: b, clientOrderId: 'b-2', type: 'MARKET' })),
  ];
  const log = logRecorder();
  const mark = bridge.entriesOfCalls().length;
  const fifoWalk = jest.spyOn(SqsFifoPartialProcessorAsync.prototype, 'process');
  const conflictWrites = jest.spyOn(PostgresOrderStore.prototype, 'recordConflicts');

  const { response, summary } = await processOrderBatch({ Records: records }, portsFor(log), ample);

  expect(response).toEqual({ batchItemFailures: [] });
  // Nothing failed, so nothing is walked for FIFO semantics (docs/performance.md, section 1).
  expect(fifoWalk).not.toHaveBeenCalled();
  fifoWalk.mockRestore();
  // No conflict either, so the store is not asked to record any (nor is anything awaited for it).
  expect(conflictWrites).not.toHaveBeenCalled();
  conflictWrites.mockRestore();
  expect(summary).toEqual({ batchSize: 4, accepted: 2, rejected: 2, failed: 0, duplicates: 0 });
  expect(log.lines).toEqual([
    {
      level: 'info',
      message: 'order rejected',
      attributes: { messageId: `${run}-2`, accountId: b, reason: expect.stringMatching(/^Invalid order "not json": is not valid JSON: /) },
    },
    {
      level: 'info',
      message: 'order rejected',
      attributes: {
        messageId: `${run}-3`,
        accountId: a,
        reason: 'Order notional 200000 (quantity 1000 x limitPrice 200) exceeds the maximum order notional 100000',
      },
    },
  ]);
  // One event of each account per call, the next only after the previous one was accepted.
  expect(sentSince(mark)).toEqual([
    ['OrderAccepted a-1', 'OrderRejected b-1'],
    ['OrderRejected a-2', 'OrderAccepted b-2'],
  ]);
  const rows = await readOrders(endpoint, [a, b]);
  expect(rows.map((row) => [row.client_order_id, row.status, row.sqs_message_id, row.processed_at.toISOString()])).toEqual([
    ['a-1', 'ACCEPTED', `${run}-1`, PROCESSED_AT.toISOString()],
    ['a-2', 'REJECTED', `${run}-3`, PROCESSED_AT.toISOString()],
    ['b-1', 'REJECTED', `${run}-2`, PROCESSED_AT.toISOString()],
    ['b-2', 'ACCEPTED', `${run}-4`, PROCESSED_AT.toISOString()],
  ]);

  // SQS delivers the batch again (a lost response): nothing new is stored, every event goes out again.
  const again = logRecorder();
  const redelivered = await processOrderBatch({ Records: records }, portsFor(again), ample);
  expect(redelivered.response).toEqual({ batchItemFailures: [] });
  expect(redelivered.summary).toEqual({ batchSize: 4, accepted: 2, rejected: 2, failed: 0, duplicates: 4 });
  expect(sentSince(mark).slice(2)).toEqual([
    ['OrderAccepted a-1', 'OrderRejected b-1'],
    ['OrderRejected a-2', 'OrderAccepted b-2'],
  ]);
  expect(await readOrders(endpoint, [a, b])).toEqual(rows);
  expect(await conflictRows(a)).toEqual([]);
});

it('answers a reused clientOrderId with an OrderConflict event and keeps the message, while the stored order stands', async () => {
  const run = tag();
  const a = `A-${run}`;
  const first = orderBody({ accountId: a, clientOrderId: 'c-1', quantity: '10' });
  await processOrderBatch({ Records: [recordOf(`${run}-1`, first)] }, portsFor(logRecorder()), ample);
  const log = logRecorder();
  const mark = bridge.entriesOfCalls().length;
  const conflictWrites = jest.spyOn(PostgresOrderStore.prototype, 'recordConflicts');

  const { response, summary } = await processOrderBatch(
    {
      Records: [
        // A redelivery of the first (same content, whitespace aside) and a reuse of its id for another quantity.
        recordOf(`${run}-2`, `${JSON.stringify(first)}  `, { account: a, clientOrderId: 'c-1' }),
        recordOf(`${run}-3`, { ...first, quantity: '11' }),
        recordOf(`${run}-4`, orderBody({ accountId: a, clientOrderId: 'c-2' })),
      ],
    },
    portsFor(log),
    ample,
  );

  expect(response).toEqual({ batchItemFailures: [] });
  // One write of the batch's one conflict.
  expect(conflictWrites.mock.calls.map(([conflicts]) => conflicts.map((conflict) => conflict.messageId))).toEqual([[`${run}-3`]]);
  conflictWrites.mockRestore();
  // The stored order is ACCEPTED, so both messages of c-1 count as accepted duplicates.
  expect(summary).toEqual({ batchSize: 3, accepted: 3, rejected: 0, failed: 0, duplicates: 2 });
  expect(log.lines).toEqual([
    {
      level: 'warn',
      message: 'clientOrderId reused for a different order; the stored order stands',
      attributes: { messageId: `${run}-3`, accountId: a, clientOrderId: 'c-1' },
    },
  ]);
  expect(sentSince(mark)).toEqual([['OrderAccepted c-1'], ['OrderConflict c-1'], ['OrderAccepted c-2']]);
  expect(await conflictRows(a)).toEqual([{ client_order_id: 'c-1', sqs_message_id: `${run}-3` }]);
  expect((await readOrders(endpoint, [a])).map((row) => [row.client_order_id, row.quantity, row.sqs_message_id])).toEqual([
    ['c-1', '10', `${run}-1`],
    ['c-2', '10', `${run}-4`],
  ]);
});

it('tells two messages with one key in one batch apart: the first inserts, a second with other content conflicts', async () => {
  const run = tag();
  const a = `A-${run}`;
  const order = orderBody({ accountId: a, clientOrderId: 'c-1' });
  const log = logRecorder();
  const mark = bridge.entriesOfCalls().length;

  const { response, summary } = await processOrderBatch(
    {
      Records: [recordOf(`${run}-1`, order), recordOf(`${run}-2`, order), recordOf(`${run}-3`, { ...order, side: 'SELL' })],
    },
    portsFor(log),
    ample,
  );

  expect(response).toEqual({ batchItemFailures: [] });
  expect(summary).toEqual({ batchSize: 3, accepted: 3, rejected: 0, failed: 0, duplicates: 2 });
  expect(log.lines.map((line) => [line.message, line.attributes['messageId']])).toEqual([
    ['clientOrderId reused for a different order; the stored order stands', `${run}-3`],
  ]);
  expect(sentSince(mark)).toEqual([['OrderAccepted c-1'], ['OrderAccepted c-1'], ['OrderConflict c-1']]);
  expect(await conflictRows(a)).toEqual([{ client_order_id: 'c-1', sqs_message_id: `${run}-3` }]);
});

it('sees no conflict with a row stored before content hashes were recorded', async () => {
  const run = tag();
  const a = `A-${run}`;
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO orders (account_id, client_order_id, symbol, side, order_type, quantity, limit_price, time_in_force, notional, status,
                           sqs_message_id, received_at, processed_at)
       VALUES ($1, 'old', 'AAPL', 'BUY', 'LIMIT', 1, 2, 'GTC', 2, 'ACCEPTED', 'old-message', now(), now())`,
      [a],
    );
  } finally {
    await client.end();
  }
  const log = logRecorder();
  const { response, summary } = await processOrderBatch(
    { Records: [recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'old', quantity: '5' }))] },
    portsFor(log),
    ample,
  );
  expect(response).toEqual({ batchItemFailures: [] });
  expect(summary).toEqual({ batchSize: 1, accepted: 1, rejected: 0, failed: 0, duplicates: 1 });
  expect(log.lines).toEqual([]);
  expect(await conflictRows(a)).toEqual([]);
});

it('fails a conflict that cannot be recorded, and holds back the rest of its account', async () => {
  const run = tag();
  const [a, b] = [`NOCONF-${run}`, `B-${run}`];
  const order = orderBody({ accountId: a, clientOrderId: 'c-1' });
  await processOrderBatch({ Records: [recordOf(`${run}-1`, order)] }, portsFor(logRecorder()), ample);
  const log = logRecorder();
  const mark = bridge.entriesOfCalls().length;
  const fifoWalk = jest.spyOn(SqsFifoPartialProcessorAsync.prototype, 'process');

  const { response, summary } = await processOrderBatch(
    {
      Records: [
        recordOf(`${run}-2`, { ...order, quantity: '99' }),
        recordOf(`${run}-3`, orderBody({ accountId: b, clientOrderId: 'b-1' })),
        recordOf(`${run}-4`, orderBody({ accountId: a, clientOrderId: 'c-2' })),
      ],
    },
    portsFor(log),
    ample,
  );

  expect(failedIds(response)).toEqual([`${run}-2`, `${run}-4`]);
  // A failed record: Powertools' FIFO processor decides what else is held back.
  expect(fifoWalk).toHaveBeenCalledTimes(1);
  fifoWalk.mockRestore();
  expect(summary).toEqual({ batchSize: 3, accepted: 1, rejected: 0, failed: 2, duplicates: 0 });
  const refused = `conflicts of account ${a} are not accepted here`;
  expect(log.lines).toEqual([
    {
      level: 'warn',
      message: 'clientOrderId reused for a different order; the stored order stands',
      attributes: { messageId: `${run}-2`, accountId: a, clientOrderId: 'c-1' },
    },
    { level: 'error', message: 'order conflicts could not be recorded', attributes: { conflicts: 1, error: expect.stringContaining(refused) } },
    {
      level: 'warn',
      message: 'order record failed; SQS will deliver it again',
      attributes: { messageId: `${run}-2`, error: expect.stringContaining(refused) },
    },
    {
      level: 'info',
      message: 'order record held back behind a failed record of its message group',
      attributes: { messageId: `${run}-4`, messageGroupId: a },
    },
  ]);
  expect(sentSince(mark)).toEqual([['OrderAccepted b-1']]);
  expect(await conflictRows(a)).toEqual([]);
});

describe('risk limits', () => {
  const validAndPoison = (run: string): SQSRecord[] => [
    recordOf(`${run}-1`, orderBody({ accountId: `A-${run}`, clientOrderId: 'a-1' })),
    recordOf(`${run}-2`, '{"truncated', { account: `B-${run}`, clientOrderId: 'b-1' }),
  ];

  it('fails the whole batch while SSM is unreachable and a valid order needs the limits', async () => {
    const run = tag();
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;

    const { response, summary } = await processOrderBatch({ Records: validAndPoison(run) }, portsFor(log, { riskLimits: riskLimitsFrom(unreachableSsm) }), ample);

    expect(failedIds(response)).toEqual([`${run}-1`, `${run}-2`]);
    expect(summary).toEqual({ batchSize: 2, accepted: 0, rejected: 0, failed: 2, duplicates: 0 });
    const unreadable = expect.stringMatching(/^Cannot read SSM parameter \/trading\/.*: .*ECONNREFUSED/);
    expect(log.lines).toEqual([
      { level: 'error', message: 'order batch could not be stored', attributes: { batchSize: 2, error: unreadable } },
      { level: 'warn', message: 'order record failed; SQS will deliver it again', attributes: { messageId: `${run}-1`, error: unreadable } },
      { level: 'warn', message: 'order record failed; SQS will deliver it again', attributes: { messageId: `${run}-2`, error: unreadable } },
    ]);
    expect(sentSince(mark)).toEqual([]);
    expect(await readOrders(endpoint, [`A-${run}`, `B-${run}`])).toEqual([]);
  });

  it('still records a batch of only poison messages while SSM is unreachable', async () => {
    const run = tag();
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;
    const poison = [
      recordOf(`${run}-1`, '{"truncated', { account: `A-${run}`, clientOrderId: 'a-1' }),
      recordOf(`${run}-2`, JSON.stringify({ accountId: `B-${run}`, clientOrderId: 'b-1' }), { account: `B-${run}`, clientOrderId: 'b-1' }),
    ];

    const { response, summary } = await processOrderBatch({ Records: poison }, portsFor(log, { riskLimits: riskLimitsFrom(unreachableSsm) }), ample);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(summary).toEqual({ batchSize: 2, accepted: 0, rejected: 2, failed: 0, duplicates: 0 });
    expect(log.lines.map((line) => [line.level, line.message, line.attributes['messageId']])).toEqual([
      ['info', 'order rejected', `${run}-1`],
      ['info', 'order rejected', `${run}-2`],
    ]);
    expect(sentSince(mark)).toEqual([['OrderRejected a-1', 'OrderRejected b-1']]);
  });

  it('does not start reading the limits without the time the read may take', async () => {
    const run = tag();
    const log = logRecorder();
    const ports = portsFor(log, { riskLimitsWorstCaseMs: 20_000 });

    const short = await processOrderBatch({ Records: validAndPoison(run) }, ports, { remainingMs: () => 19_999 });
    expect(failedIds(short.response)).toEqual([`${run}-1`, `${run}-2`]);
    expect(log.lines[0]).toEqual({
      level: 'error',
      message: 'order batch could not be stored',
      attributes: { batchSize: 2, error: 'reading the risk limits was not started: 19999 ms left, it may take 20000 ms' },
    });

    // Exactly the worst case left is enough; and poison alone needs no limits, so the same short time does.
    const enough = await processOrderBatch({ Records: validAndPoison(run) }, ports, { remainingMs: () => 20_000 });
    expect(enough.response).toEqual({ batchItemFailures: [] });
    const poisonOnly = [recordOf(`${run}-3`, 'nope', { account: `B-${run}`, clientOrderId: 'b-2' })];
    expect((await processOrderBatch({ Records: poisonOnly }, ports, { remainingMs: () => 19_999 })).response).toEqual({ batchItemFailures: [] });
  });

  it('fails only the records the limits cannot be applied to, holding back the rest of their account', async () => {
    const run = tag();
    const [a, b] = [`A-${run}`, `B-${run}`];
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;
    // Limits that skipped validation: the max notional cannot be compared with, so every LIMIT order fails.
    const broken = portsFor(log, { riskLimits: async () => ({ tradingEnabled: true, maxOrderNotional: 'lots' }) });

    const { response, summary } = await processOrderBatch(
      {
        Records: [
          recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'a-1' })),
          recordOf(`${run}-2`, orderBody({ accountId: b, clientOrderId: 'b-1', type: 'MARKET' })),
          recordOf(`${run}-3`, orderBody({ accountId: a, clientOrderId: 'a-2', type: 'MARKET' })),
        ],
      },
      broken,
      ample,
    );

    expect(failedIds(response)).toEqual([`${run}-1`, `${run}-3`]);
    expect(summary).toEqual({ batchSize: 3, accepted: 1, rejected: 0, failed: 2, duplicates: 0 });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'order record failed; SQS will deliver it again',
        attributes: { messageId: `${run}-1`, error: expect.stringMatching(/^Invalid right operand "lots": must be a plain decimal string/) },
      },
      {
        level: 'info',
        message: 'order record held back behind a failed record of its message group',
        attributes: { messageId: `${run}-3`, messageGroupId: a },
      },
    ]);
    expect(sentSince(mark)).toEqual([['OrderAccepted b-1']]);
    // The held-back order is stored; its redelivery finds it.
    expect((await readOrders(endpoint, [a, b])).map((row) => row.client_order_id)).toEqual(['a-2', 'b-1']);
  });
});

describe('records the database fails on their own', () => {
  it('fails a record refused even in the reduced form, and holds back the rest of its account', async () => {
    const run = tag();
    const [a, b] = [`A-${run}`, `B-${run}`];
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;

    const { response, summary } = await processOrderBatch(
      {
        Records: [
          recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'a-1' })),
          recordOf(`${run}-2`, orderBody({ accountId: a, clientOrderId: 'refused-key' })),
          recordOf(`${run}-3`, orderBody({ accountId: b, clientOrderId: 'b-1' })),
          recordOf(`${run}-4`, orderBody({ accountId: a, clientOrderId: 'a-2' })),
        ],
      },
      portsFor(log),
      ample,
    );

    expect(failedIds(response)).toEqual([`${run}-2`, `${run}-4`]);
    expect(summary).toEqual({ batchSize: 4, accepted: 2, rejected: 0, failed: 2, duplicates: 0 });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'order record failed; SQS will deliver it again',
        attributes: { messageId: `${run}-2`, error: expect.stringContaining('test_no_refused_key') },
      },
      {
        level: 'info',
        message: 'order record held back behind a failed record of its message group',
        attributes: { messageId: `${run}-4`, messageGroupId: a },
      },
    ]);
    expect(sentSince(mark)).toEqual([['OrderAccepted a-1', 'OrderAccepted b-1']]);
  });

  it('records no conflict for a record that failed, even when another message stored its key with other content', async () => {
    const run = tag();
    const a = `A-${run}`;
    const log = logRecorder();

    const { response } = await processOrderBatch(
      {
        Records: [
          recordOf(`${run}-1-refused`, orderBody({ accountId: a, clientOrderId: 'k-1', side: 'SELL' })),
          recordOf(`${run}-2`, orderBody({ accountId: a, clientOrderId: 'k-1', side: 'BUY' })),
        ],
      },
      portsFor(log),
      ample,
    );

    // The refused message fails and SQS delivers it again; its conflict, if it is one, is recorded on that delivery.
    expect(failedIds(response)).toContain(`${run}-1-refused`);
    expect((await readOrders(endpoint, [a])).map((row) => [row.client_order_id, row.side])).toEqual([['k-1', 'BUY']]);
    expect(await conflictRows(a)).toEqual([]);
    expect(log.lines.map((line) => line.message)).not.toContain('clientOrderId reused for a different order; the stored order stands');
  });

  it('fails a record whose row is missing after the insert, and holds back the rest of its account', async () => {
    const run = tag();
    const [a, b] = [`A-${run}`, `B-${run}`];
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;

    const { response, summary } = await processOrderBatch(
      {
        Records: [
          recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'vanishing' })),
          recordOf(`${run}-2`, orderBody({ accountId: b, clientOrderId: 'b-1' })),
          recordOf(`${run}-3`, orderBody({ accountId: a, clientOrderId: 'a-2' })),
        ],
      },
      portsFor(log),
      ample,
    );

    expect(failedIds(response)).toEqual([`${run}-1`, `${run}-3`]);
    expect(summary).toEqual({ batchSize: 3, accepted: 1, rejected: 0, failed: 2, duplicates: 0 });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'order record failed; SQS will deliver it again',
        attributes: { messageId: `${run}-1`, error: 'the order was not found after it was stored' },
      },
      {
        level: 'info',
        message: 'order record held back behind a failed record of its message group',
        attributes: { messageId: `${run}-3`, messageGroupId: a },
      },
    ]);
    expect(sentSince(mark)).toEqual([['OrderAccepted b-1']]);
  });

  it('fails every record while the database is unreachable, storing and publishing nothing', async () => {
    const run = tag();
    const log = logRecorder();
    const mark = bridge.entriesOfCalls().length;
    const unreachable = poolFor({ ...endpoint, port: await closedPort() });
    try {
      const store = new PostgresOrderStore(unreachable, { logger: silentLogger, retry: fastBackoff, reserveMs: 0 });
      const records = [
        recordOf(`${run}-1`, orderBody({ accountId: `A-${run}`, clientOrderId: 'a-1' })),
        recordOf(`${run}-2`, orderBody({ accountId: `A-${run}`, clientOrderId: 'a-2' })),
      ];
      const { response, summary } = await processOrderBatch({ Records: records }, portsFor(log, { store }), ample);
      expect(failedIds(response)).toEqual([`${run}-1`, `${run}-2`]);
      expect(summary).toEqual({ batchSize: 2, accepted: 0, rejected: 0, failed: 2, duplicates: 0 });
      expect(log.lines.map((line) => [line.level, line.message, line.attributes['messageId'] ?? line.attributes['batchSize']])).toEqual([
        ['error', 'order batch could not be stored', 2],
        ['warn', 'order record failed; SQS will deliver it again', `${run}-1`],
        ['warn', 'order record failed; SQS will deliver it again', `${run}-2`],
      ]);
      expect(log.lines[0]?.attributes['error']).toMatch(/ECONNREFUSED/);
      expect(sentSince(mark)).toEqual([]);
    } finally {
      await unreachable.end();
    }
  });
});

it('fails the events EventBridge refuses and the later ones of their account, acknowledging the rest', async () => {
  const run = tag();
  const [a, b] = [`A-${run}`, `B-${run}`];
  const log = logRecorder();
  const mark = bridge.entriesOfCalls().length;
  // EventBridge answers per entry: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
  refusal = (_ordinal, entry) =>
    (JSON.parse(entry.Detail ?? '{}') as { clientOrderId?: string }).clientOrderId === 'a-1'
      ? { ErrorCode: 'KMSAccessDeniedException', ErrorMessage: 'not allowed to use the key' }
      : undefined;

  const { response, summary } = await processOrderBatch(
    {
      Records: [
        recordOf(`${run}-1`, orderBody({ accountId: a, clientOrderId: 'a-1' })),
        recordOf(`${run}-2`, orderBody({ accountId: b, clientOrderId: 'b-1' })),
        recordOf(`${run}-3`, orderBody({ accountId: a, clientOrderId: 'a-2' })),
      ],
    },
    portsFor(log),
    ample,
  );

  expect(failedIds(response)).toEqual([`${run}-1`, `${run}-3`]);
  // Stored but not published: SQS delivers them again, and the redelivery publishes them.
  expect(summary).toEqual({ batchSize: 3, accepted: 1, rejected: 0, failed: 2, duplicates: 0 });
  expect(log.lines).toEqual([
    {
      level: 'warn',
      message: 'order record failed; SQS will deliver it again',
      attributes: { messageId: `${run}-1`, error: expect.stringContaining('KMSAccessDeniedException') },
    },
    {
      level: 'warn',
      message: 'order record failed; SQS will deliver it again',
      attributes: { messageId: `${run}-3`, error: expect.stringMatching(/an earlier event of group A-\w+ was not accepted/) },
    },
  ]);
  expect(sentSince(mark)).toEqual([['OrderAccepted a-1', 'OrderAccepted b-1']]);
  expect((await readOrders(endpoint, [a, b])).map((row) => row.client_order_id)).toEqual(['a-1', 'a-2', 'b-1']);
});
