/**
 * The order processor against a real PostgreSQL (migrated like production) and moto (FIFO queue, event bus with the
 * platform's rules, SSM): idempotent storage, rejection instead of loss, FIFO failure semantics, risk checks, events.
 */
import { randomBytes } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import type { PostgresEndpoint } from '../../support/services';
import type { PutEventsPort } from '../../../lambda/shared/event-publisher';
import { eventBridgePutEvents } from '../../../lambda/shared/event-publisher';
import {
  createMotoFixture,
  drainAllEvents,
  drainEvents,
  expectedDetail,
  LARGE_NOTIONAL_THRESHOLD,
  migratedDatabase,
  orderBody,
  processorFor,
  queued,
  readOrders,
  receiveBatch,
  sendOrders,
  setRiskParameters,
  settle,
  type CapturedEvent,
  type MotoFixture,
  type OrderRow,
} from './harness';

let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
const pools: Array<{ end(): Promise<void> }> = [];

beforeAll(async () => {
  endpoint = await migratedDatabase('order_processor');
  fixture = await createMotoFixture();
});

beforeEach(async () => {
  await setRiskParameters(fixture, { tradingEnabled: 'true', maxOrderNotional: '1000000' });
  await drainAllEvents(fixture);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

/** A processor as a fresh Lambda container would have it (own pool, own parameter cache). */
function newProcessor(...args: Parameters<typeof processorFor> extends [unknown, unknown, ...infer Rest] ? Rest : never): ReturnType<typeof processorFor> {
  const processor = processorFor(endpoint, fixture, ...args);
  pools.push(processor.db);
  return processor;
}

/** Account ids unique to one test, so tests never see each other's rows. */
function account(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

/** Every message currently on the orders queue, in one event as the event source would batch them. */
async function nextBatch(expectedSize: number): Promise<SQSEvent> {
  const event = await receiveBatch(fixture);
  expect(event.Records).toHaveLength(expectedSize);
  return event;
}

function byClientOrderId(events: readonly CapturedEvent[]): Map<string, CapturedEvent> {
  return new Map(events.map((event) => [event.detail.clientOrderId, event]));
}

/** Every published event carries exactly the stored row, with the flags it implies. */
function expectEventsMatchRows(events: readonly CapturedEvent[], rows: readonly OrderRow[]): void {
  const published = byClientOrderId(events);
  for (const row of rows) {
    const event = published.get(row.client_order_id);
    expect(event).toBeDefined();
    expect(event?.source).toBe('trading.platform');
    expect(event?.['detail-type']).toBe(row.status === 'ACCEPTED' ? 'OrderAccepted' : 'OrderRejected');
    expect(event?.detail).toMatchObject(expectedDetail(row));
  }
}

/** Fails the events of the given client order ids the way EventBridge reports a throttled entry, `times` times each. */
function throttling(real: PutEventsPort, clientOrderIds: readonly string[], times = Number.POSITIVE_INFINITY): PutEventsPort {
  const failures = new Map<string, number>();
  return async (input) => {
    const entries = input.Entries ?? [];
    const doomed = entries.map((entry) => {
      const id: unknown = JSON.parse(entry.Detail ?? '{}').clientOrderId;
      if (typeof id !== 'string' || !clientOrderIds.includes(id)) return false;
      const count = failures.get(id) ?? 0;
      failures.set(id, count + 1);
      return count < times;
    });
    const passing = entries.filter((_, index) => !doomed[index]);
    const output = passing.length > 0 ? await real({ ...input, Entries: passing }) : { Entries: [], FailedEntryCount: 0 };
    const results = [...(output.Entries ?? [])];
    return {
      FailedEntryCount: (output.FailedEntryCount ?? 0) + doomed.filter(Boolean).length,
      Entries: doomed.map((failed) => (failed ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : results.shift() ?? {})),
    };
  };
}

describe('a batch of valid orders', () => {
  it('lands once; the same batch delivered again changes nothing and publishes the stored rows again', async () => {
    const [first, second] = [account('ACC-A'), account('ACC-B')];
    const limit = orderBody({ accountId: first, quantity: '3', limitPrice: '100.12345678' });
    const market = orderBody({ accountId: first, type: 'MARKET', quantity: '0.5', side: 'SELL', timeInForce: 'IOC' });
    const padded = orderBody({ accountId: second, quantity: '10.50', limitPrice: '2.000', timeInForce: 'DAY' });
    await sendOrders(fixture, [limit, market, padded].map(queued));
    const { handler, metrics } = newProcessor();

    const event = await nextBatch(3);
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    await settle(fixture, event, { batchItemFailures: [] });

    const rows = await readOrders(endpoint, [first, second]);
    expect(rows.map(({ client_order_id, status, symbol, side, order_type, quantity, limit_price, notional, time_in_force, reject_reason }) => ({
      client_order_id, status, symbol, side, order_type, quantity, limit_price, notional, time_in_force, reject_reason,
    }))).toEqual(
      expect.arrayContaining([
        {
          client_order_id: limit['clientOrderId'], status: 'ACCEPTED', symbol: 'AAPL', side: 'BUY', order_type: 'LIMIT',
          quantity: '3', limit_price: '100.12345678', notional: '300.37037034', time_in_force: 'GTC', reject_reason: null,
        },
        {
          // No price, so no notional: the max-notional check does not apply to MARKET orders.
          client_order_id: market['clientOrderId'], status: 'ACCEPTED', symbol: 'AAPL', side: 'SELL', order_type: 'MARKET',
          quantity: '0.5', limit_price: null, notional: null, time_in_force: 'IOC', reject_reason: null,
        },
        {
          client_order_id: padded['clientOrderId'], status: 'ACCEPTED', symbol: 'AAPL', side: 'BUY', order_type: 'LIMIT',
          quantity: '10.5', limit_price: '2', notional: '21', time_in_force: 'DAY', reject_reason: null,
        },
      ]),
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      // Accepted orders are stored typed; the raw payload is only kept for orders that could not be.
      expect(row.request_payload).toBeNull();
      expect(event.Records.map((record) => record.messageId)).toContain(row.sqs_message_id);
    }

    const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(published).toHaveLength(3);
    expectEventsMatchRows(published, rows);
    for (const { detail } of published) expect(detail).toMatchObject({ largeNotional: false, severity: 'INFO' });
    expect(Object.fromEntries(metrics.totals)).toMatchObject({ OrderBatchSize: 3, OrdersAccepted: 3, OrdersRejected: 0, OrdersFailed: 0, OrdersDuplicate: 0 });

    // At-least-once delivery: Lambda may hand the same batch over again, even after it succeeded.
    const { handler: secondContainer, metrics: secondMetrics } = newProcessor();
    await expect(secondContainer(event)).resolves.toEqual({ batchItemFailures: [] });
    expect(await readOrders(endpoint, [first, second])).toEqual(rows);
    const republished = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(republished).toHaveLength(3);
    expectEventsMatchRows(republished, rows);
    expect(Object.fromEntries(secondMetrics.totals)).toMatchObject({ OrdersAccepted: 3, OrdersDuplicate: 3 });
  });
});

describe('a mixed batch', () => {
  it('stores invalid and poison records as REJECTED and fails only the transiently failing record and those behind it in its group', async () => {
    const [groupA, groupB, groupC] = [account('ACC-A'), account('ACC-B'), account('ACC-C')];
    const a1 = orderBody({ accountId: groupA, clientOrderId: 'a1' });
    const a2 = orderBody({ accountId: groupA, clientOrderId: 'a2' });
    const a3 = orderBody({ accountId: groupA, clientOrderId: 'a3' });
    const a4 = orderBody({ accountId: groupA, clientOrderId: 'a4', quantity: '-1' });
    const b1 = orderBody({ accountId: groupB, clientOrderId: 'b1', quantity: 'abc' });
    const b3 = orderBody({ accountId: groupB, clientOrderId: 'b3' });
    const b4 = orderBody({ accountId: groupB, clientOrderId: 'b4', symbol: 'NUL\u0000' });
    const c1 = orderBody({ accountId: undefined, clientOrderId: 'c1' });
    await sendOrders(fixture, [
      queued(a1),
      queued(b1),
      queued(a2),
      { body: 'not json{', groupId: groupB, deduplicationId: 'b2' },
      { body: JSON.stringify(c1), groupId: groupC, deduplicationId: 'c1' },
      queued(a3),
      queued(b3),
      queued(a4),
      queued(b4),
    ]);
    // a2's event is throttled on every attempt: a transient failure that outlasts the invocation's retries.
    const { handler, metrics } = newProcessor({ putEvents: throttling(eventBridgePutEvents(fixture.eventBridge), ['a2']) });

    const event = await nextBatch(9);
    const messageIdOf = (group: string, dedup: string): string => {
      const record = event.Records.find((candidate) => candidate.attributes.MessageGroupId === group && candidate.attributes.MessageDeduplicationId === dedup);
      if (record === undefined) throw new Error(`no record ${group}/${dedup}`);
      return record.messageId;
    };
    const response = await handler(event);
    // a2 failed; a3 and a4 come after it in group A, so they must not be acknowledged before it (FIFO); B and C carry on.
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [messageIdOf(groupA, 'a2'), messageIdOf(groupA, 'a3'), messageIdOf(groupA, 'a4')].sort(),
    );
    expect(Object.fromEntries(metrics.totals)).toMatchObject({ OrderBatchSize: 9, OrdersAccepted: 2, OrdersRejected: 4, OrdersFailed: 3 });

    // Every record was stored, the failed ones included: the insert is per batch, only publishing failed.
    const rows = await readOrders(endpoint, [groupA, groupB, groupC]);
    const row = (clientOrderId: string): OrderRow => {
      const found = rows.find((candidate) => candidate.client_order_id === clientOrderId);
      if (found === undefined) throw new Error(`no row for ${clientOrderId}`);
      return found;
    };
    expect(rows.map((stored) => [stored.client_order_id, stored.status])).toEqual([
      ['a1', 'ACCEPTED'],
      ['a2', 'ACCEPTED'],
      ['a3', 'ACCEPTED'],
      ['a4', 'REJECTED'],
      ['b1', 'REJECTED'],
      ['b2', 'REJECTED'],
      ['b3', 'ACCEPTED'],
      ['b4', 'REJECTED'],
      ['c1', 'REJECTED'],
    ]);
    expect(row('a4').reject_reason).toMatch(/^Invalid quantity "-1": /);
    expect(row('b1').reject_reason).toMatch(/^Invalid quantity "abc": /);
    expect(row('b2').reject_reason).toMatch(/^Invalid order "not json\{": is not valid JSON/);
    expect(row('b4').reject_reason).toMatch(/^Invalid symbol "NUL<U\+0000>"/);
    expect(row('c1').reject_reason).toBe('Invalid accountId undefined: is required');
    // The key of a body without an account comes from the queue's message group, as the API set it.
    expect(row('c1').account_id).toBe(groupC);
    // Rejected before validation succeeded: nothing typed, the request kept as it came.
    expect(row('b1')).toMatchObject({ symbol: null, quantity: null, order_type: null, request_payload: b1 });
    expect(row('b2').request_payload).toBe('not json{');
    expect(row('c1').request_payload).toEqual(c1);
    // jsonb cannot hold \u0000: the body is kept as text instead of breaking the whole batch's insert.
    expect(row('b4').request_payload).toBe(JSON.stringify(b4));

    // Events for everything before a2 in group A and for the other groups: an account's later events (a3, a4) never
    // reach the bus before an earlier one. The validation failures are CRITICAL (they got past the API's validation).
    const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(published.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['a1', 'b1', 'b2', 'b3', 'b4', 'c1']);
    expectEventsMatchRows(published, rows.filter((stored) => !['a2', 'a3', 'a4'].includes(stored.client_order_id)));
    const critical = await drainEvents(fixture, fixture.criticalQueueUrl);
    expect(critical.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['b1', 'b2', 'b4', 'c1']);
    const rejected = await drainEvents(fixture, fixture.rejectedQueueUrl);
    expect(rejected.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['b1', 'b2', 'b4', 'c1']);

    // Redelivery once EventBridge recovers: the held-back records complete, and nothing stored changes.
    await settle(fixture, event, response);
    const redelivered = await nextBatch(3);
    const { handler: recovered } = newProcessor();
    const retryResponse = await recovered(redelivered);
    expect(retryResponse).toEqual({ batchItemFailures: [] });
    await settle(fixture, redelivered, retryResponse);
    expect(await readOrders(endpoint, [groupA, groupB, groupC])).toEqual(rows);
    const republished = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(republished.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['a2', 'a3', 'a4']);
    expectEventsMatchRows(republished, rows.filter((stored) => stored.account_id === groupA && stored.client_order_id !== 'a1'));
    expect((await receiveBatch(fixture)).Records).toHaveLength(0);
  });

  it('retries a throttled event within the invocation and then acknowledges the record', async () => {
    const accountId = account('ACC-T');
    const order = orderBody({ accountId, clientOrderId: 'retried' });
    await sendOrders(fixture, [queued(order)]);
    const { handler } = newProcessor({ putEvents: throttling(eventBridgePutEvents(fixture.eventBridge), ['retried'], 2) });
    const event = await nextBatch(1);
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    await settle(fixture, event, { batchItemFailures: [] });
    const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(published.map((captured) => captured.detail.clientOrderId)).toEqual(['retried']);
  });

  it('rejects an order whose body names another account than its message group', async () => {
    const [queuedUnder, named] = [account('ACC-Q'), account('ACC-N')];
    const order = orderBody({ accountId: named, clientOrderId: 'mismatch' });
    await sendOrders(fixture, [{ body: JSON.stringify(order), groupId: queuedUnder, deduplicationId: 'mismatch' }]);
    const { handler } = newProcessor();
    const event = await nextBatch(1);
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    await settle(fixture, event, { batchItemFailures: [] });
    const [stored] = await readOrders(endpoint, [queuedUnder, named]);
    expect(stored).toMatchObject({
      account_id: queuedUnder,
      status: 'REJECTED',
      reject_reason: `Invalid accountId "${named}": does not match the SQS message group "${queuedUnder}" it was queued under`,
    });
  });
});

describe('risk checks from SSM', () => {
  it('rejects every order with the reason while the kill switch is off', async () => {
    await setRiskParameters(fixture, { tradingEnabled: 'false' });
    const accountId = account('ACC-K');
    const orders = [
      orderBody({ accountId, clientOrderId: 'k-limit' }),
      orderBody({ accountId, clientOrderId: 'k-market', type: 'MARKET' }),
    ];
    await sendOrders(fixture, orders.map(queued));
    const { handler, metrics } = newProcessor();
    const event = await nextBatch(2);
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    await settle(fixture, event, { batchItemFailures: [] });

    const rows = await readOrders(endpoint, [accountId]);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'REJECTED',
        reject_reason: 'Trading is disabled by the operator kill switch: no orders are accepted',
        // A valid order rejected by a risk rule keeps its typed values.
        symbol: 'AAPL',
        quantity: '10',
        request_payload: null,
      });
    }
    expect(Object.fromEntries(metrics.totals)).toMatchObject({ OrdersAccepted: 0, OrdersRejected: 2 });
    const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expectEventsMatchRows(published, rows);
    // An operator's decision, not an incident: no page per order.
    for (const { detail } of published) expect(detail.severity).toBe('WARNING');
    expect(await drainEvents(fixture, fixture.criticalQueueUrl)).toEqual([]);
  });

  it('caches the SSM values per container for PARAMETER_CACHE_SECONDS', async () => {
    const accountId = account('ACC-S');
    const { handler: warm } = newProcessor({ parameterCacheSeconds: 30 });
    await sendOrders(fixture, [queued(orderBody({ accountId, clientOrderId: 's1' }))]);
    const first = await nextBatch(1);
    await warm(first);
    await settle(fixture, first, { batchItemFailures: [] });

    await setRiskParameters(fixture, { tradingEnabled: 'false' });
    await sendOrders(fixture, [queued(orderBody({ accountId, clientOrderId: 's2' }))]);
    const second = await nextBatch(1);
    await warm(second);
    // A new container reads the switch afresh.
    const { handler: cold } = newProcessor({ parameterCacheSeconds: 30 });
    await sendOrders(fixture, [queued(orderBody({ accountId, clientOrderId: 's3' }))]);
    await settle(fixture, second, { batchItemFailures: [] });
    const third = await nextBatch(1);
    await cold(third);
    await settle(fixture, third, { batchItemFailures: [] });

    const rows = await readOrders(endpoint, [accountId]);
    expect(rows.map((row) => [row.client_order_id, row.status])).toEqual([
      ['s1', 'ACCEPTED'],
      ['s2', 'ACCEPTED'],
      ['s3', 'REJECTED'],
    ]);
  });

  it('rejects a LIMIT order above the max notional and flags large notionals, leaving MARKET orders to later controls', async () => {
    await setRiskParameters(fixture, { maxOrderNotional: '100000' });
    const accountId = account('ACC-N');
    const orders = [
      orderBody({ accountId, clientOrderId: 'over', quantity: '1000', limitPrice: '150.5' }),
      orderBody({ accountId, clientOrderId: 'at-max', quantity: '1000', limitPrice: '100' }),
      orderBody({ accountId, clientOrderId: 'large', quantity: '400', limitPrice: '150' }),
      orderBody({ accountId, clientOrderId: 'small', quantity: '100', limitPrice: '100' }),
      orderBody({ accountId, clientOrderId: 'market', type: 'MARKET', quantity: '1000000' }),
    ];
    await sendOrders(fixture, orders.map(queued));
    const { handler } = newProcessor();
    const event = await nextBatch(5);
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    await settle(fixture, event, { batchItemFailures: [] });

    const rows = await readOrders(endpoint, [accountId]);
    expect(Object.fromEntries(rows.map((row) => [row.client_order_id, [row.status, row.notional, row.reject_reason]]))).toEqual({
      over: ['REJECTED', '150500', 'Order notional 150500 (quantity 1000 x limitPrice 150.5) exceeds the maximum order notional 100000'],
      'at-max': ['ACCEPTED', '100000', null],
      large: ['ACCEPTED', '60000', null],
      small: ['ACCEPTED', '10000', null],
      market: ['ACCEPTED', null, null],
    });

    const published = byClientOrderId(await drainEvents(fixture, fixture.allEventsQueueUrl));
    expectEventsMatchRows([...published.values()], rows);
    expect(LARGE_NOTIONAL_THRESHOLD).toBe('50000');
    expect(published.get('large')?.detail).toMatchObject({ largeNotional: true, severity: 'WARNING' });
    expect(published.get('at-max')?.detail).toMatchObject({ largeNotional: true, severity: 'WARNING' });
    expect(published.get('over')?.detail).toMatchObject({ largeNotional: true, severity: 'WARNING', status: 'REJECTED' });
    expect(published.get('small')?.detail).toMatchObject({ largeNotional: false, severity: 'INFO' });
    expect(published.get('market')?.detail).toMatchObject({ largeNotional: false, notional: null, limitPrice: null });
    // The platform's large-notional rule (accepted orders with largeNotional = true) sees exactly the two.
    const large = await drainEvents(fixture, fixture.largeNotionalQueueUrl);
    expect(large.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['at-max', 'large']);
  });

  it('fails the records instead of deciding them when a risk parameter cannot be read', async () => {
    const accountId = account('ACC-M');
    await sendOrders(fixture, [queued(orderBody({ accountId, clientOrderId: 'm1' })), queued(orderBody({ accountId, clientOrderId: 'm2' }))]);
    const { handler, db } = processorFor(endpoint, { ...fixture, maxOrderNotionalParameter: '/trading/missing/orders/max-order-notional' });
    pools.push(db);
    const event = await nextBatch(2);
    const response = await handler(event);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(event.Records.map((record) => record.messageId).sort());
    await settle(fixture, event, { batchItemFailures: [] });
    expect(await readOrders(endpoint, [accountId])).toEqual([]);
  });
});
