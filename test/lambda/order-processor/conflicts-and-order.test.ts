/**
 * Against the real processor, PostgreSQL and moto: every order and event carries SQS's SequenceNumber (the account's
 * order), and a clientOrderId reused for other content after SQS's deduplication window is kept and published as a
 * conflict while the original order stands, instead of vanishing in ON CONFLICT DO NOTHING.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { SQSEvent } from 'aws-lambda';
import type { OrderConflictDetail } from '../../../lambda/shared/order-events';
import { sqsFifoRecord } from '../../support/aws-contracts/lambda-events';
import type { PostgresEndpoint } from '../../support/services';
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

let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
const pools: Array<{ end(): Promise<void> }> = [];

beforeAll(async () => {
  endpoint = await migratedDatabase('order_conflicts');
  fixture = await createMotoFixture();
  await setRiskParameters(fixture, { tradingEnabled: 'true', maxOrderNotional: '1000000' });
});

beforeEach(async () => {
  await drainAllEvents(fixture);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

function processor(): ReturnType<typeof processorFor>['handler'] {
  const { handler, db } = processorFor(endpoint, fixture);
  pools.push(db);
  return handler;
}

async function conflictRows(account: string): Promise<Array<{ sqs_message_id: string; sequence_number: string | null; request_payload: unknown }>> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    const result = await client.query<{ sqs_message_id: string; sequence_number: string | null; request_payload: unknown }>(
      'SELECT sqs_message_id, sqs_sequence_number::text AS sequence_number, request_payload FROM order_conflicts WHERE account_id = $1 ORDER BY detected_at',
      [account],
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/**
 * The same (account, clientOrderId) queued again after SQS's 5-minute deduplication window. A test cannot wait the
 * window out, so the later message is built as Lambda delivers it (test/support/aws-contracts), with a higher
 * SequenceNumber in the same message group, exactly what SQS would hand the processor then.
 */
function laterMessage(order: Record<string, string>, sequenceNumber: string): SQSEvent {
  return {
    Records: [
      sqsFifoRecord({
        body: JSON.stringify(order),
        messageGroupId: order['accountId'] ?? '',
        messageDeduplicationId: order['clientOrderId'] ?? '',
        sequenceNumber,
      }),
    ],
  };
}

it('stores and publishes the SQS sequence number of every order, increasing within the account', async () => {
  const account = `SEQ-${randomBytes(3).toString('hex')}`;
  // AWS: SequenceNumber "continues to increase for a particular MessageGroupId" (SQS API reference, SendMessage).
  // moto differs: it draws a random 20-digit number per message. So the batch is built as AWS would number it.
  const base = 18_849_496_460_467_696_128n;
  const event: SQSEvent = {
    Records: ['s1', 's2', 's3'].map((clientOrderId, index) =>
      sqsFifoRecord({
        body: JSON.stringify(orderBody({ accountId: account, clientOrderId })),
        messageGroupId: account,
        messageDeduplicationId: clientOrderId,
        sequenceNumber: `${base + BigInt(index) * 65_536n}`,
      }),
    ),
  };
  await expect(processor()(event)).resolves.toEqual({ batchItemFailures: [] });

  const rows = await readOrders(endpoint, [account]);
  expect(rows.map((row) => [row.client_order_id, row.sequence_number])).toEqual([
    ['s1', `${base}`],
    ['s2', `${base + 65_536n}`],
    ['s3', `${base + 131_072n}`],
  ]);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  // EventBridge need not deliver in order; the sequence number restores it (compared as integers).
  const restored = [...published].sort((left, right) => (BigInt(left.detail.sequenceNumber ?? 0) < BigInt(right.detail.sequenceNumber ?? 0) ? -1 : 1));
  expect(restored.map((captured) => [captured.detail.clientOrderId, captured.detail.sequenceNumber])).toEqual(rows.map((row) => [row.client_order_id, row.sequence_number]));
});

it('keeps the sequence number moto assigns, whatever its form, through the real queue', async () => {
  const account = `SEQM-${randomBytes(3).toString('hex')}`;
  await sendOrders(fixture, [queued(orderBody({ accountId: account, clientOrderId: 'm1' }))]);
  const event = await receiveBatch(fixture);
  const response = await processor()(event);
  await settle(fixture, event, response);
  const [row] = await readOrders(endpoint, [account]);
  // Stored as NUMERIC, so compared as a number (moto's random numbers may start with a 0, AWS's do not).
  expect(BigInt(row?.sequence_number ?? '-1')).toBe(BigInt(event.Records[0]?.attributes.SequenceNumber ?? '-2'));
});

it('keeps the first order of a reused clientOrderId and records and publishes the conflicting one once', async () => {
  const account = `CONF-${randomBytes(3).toString('hex')}`;
  const original = orderBody({ accountId: account, clientOrderId: 'reused', quantity: '10' });
  await sendOrders(fixture, [queued(original)]);
  const first = await receiveBatch(fixture);
  const firstResponse = await processor()(first);
  await settle(fixture, first, firstResponse);
  // Canonical, as stored (moto's random sequence numbers may have a leading 0).
  const originalSequence = `${BigInt(first.Records[0]?.attributes.SequenceNumber ?? '0')}`;
  await drainAllEvents(fixture);

  const conflicting = laterMessage({ ...original, quantity: '20' }, `${BigInt(originalSequence) + 1000n}`);
  const handler = processor();
  await expect(handler(conflicting)).resolves.toEqual({ batchItemFailures: [] });

  // The original stands, untouched.
  const rows = await readOrders(endpoint, [account]);
  expect(rows.map((row) => [row.client_order_id, row.quantity, row.status, row.sequence_number])).toEqual([['reused', '10', 'ACCEPTED', originalSequence]]);
  // The conflicting request is kept whole, and the client and the audit trail get an OrderConflict event.
  const recorded = await conflictRows(account);
  expect(recorded).toEqual([
    { sqs_message_id: conflicting.Records[0]?.messageId, sequence_number: conflicting.Records[0]?.attributes.SequenceNumber, request_payload: { ...original, quantity: '20' } },
  ]);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  expect(published.map((captured) => captured['detail-type'])).toEqual(['OrderConflict']);
  const detail = published[0]?.detail as unknown as OrderConflictDetail;
  expect(detail).toMatchObject({
    orderId: `${account}.reused`,
    severity: 'WARNING',
    storedOrder: { quantity: '10', status: 'ACCEPTED', sequenceNumber: originalSequence },
    conflictingRequest: { quantity: '20', symbol: 'AAPL' },
    conflictingMessageId: conflicting.Records[0]?.messageId,
    sequenceNumber: conflicting.Records[0]?.attributes.SequenceNumber,
  });
  expect(detail.reason).toMatch(/already used for a different order; that order stands/);

  // SQS delivers the conflicting message again: still one conflict row, the event again (consumers de-duplicate).
  await expect(handler(conflicting)).resolves.toEqual({ batchItemFailures: [] });
  expect(await conflictRows(account)).toHaveLength(1);
  expect((await drainEvents(fixture, fixture.allEventsQueueUrl)).map((captured) => captured['detail-type'])).toEqual(['OrderConflict']);
});

it('treats a resend of the same order, written differently, as a duplicate and not a conflict', async () => {
  const account = `DUP-${randomBytes(3).toString('hex')}`;
  const original = orderBody({ accountId: account, clientOrderId: 'same', quantity: '10.5', limitPrice: '187.25' });
  await sendOrders(fixture, [queued(original)]);
  const first = await receiveBatch(fixture);
  await settle(fixture, first, await processor()(first));
  await drainAllEvents(fixture);

  // Trailing zeros and another key order: the same order to a trader, and so to the processor.
  const { quantity: _quantity, limitPrice: _limitPrice, ...rest } = original;
  const resend = laterMessage({ limitPrice: '187.250', quantity: '10.50', ...rest }, `${BigInt(first.Records[0]?.attributes.SequenceNumber ?? '0') + 7n}`);
  await expect(processor()(resend)).resolves.toEqual({ batchItemFailures: [] });
  expect(await conflictRows(account)).toEqual([]);
  expect((await drainEvents(fixture, fixture.allEventsQueueUrl)).map((captured) => captured['detail-type'])).toEqual(['OrderAccepted']);
});
