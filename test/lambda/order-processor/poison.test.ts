/**
 * Poison messages against the real processor, PostgreSQL and moto: whatever a message holds, it ends as its own
 * REJECTED row (or its own failure), and the other records of its batch, other accounts' orders included, are
 * stored and published as if it were not there.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
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
  type OutgoingOrder,
} from './harness';

let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
const pools: Array<{ end(): Promise<void> }> = [];

beforeAll(async () => {
  endpoint = await migratedDatabase('order_poison');
  // A rule only the database knows: the processor validates nothing like it, so such a row reaches the INSERT and
  // is refused there (23514), which is what any value only PostgreSQL refuses does to a multi-row INSERT.
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    await client.query("ALTER TABLE orders ADD CONSTRAINT test_no_poison_symbol CHECK (symbol IS DISTINCT FROM 'POISON')");
    // Refused even in the reduced form (the key itself): the one way a record still fails on its own.
    await client.query("ALTER TABLE orders ADD CONSTRAINT test_no_refused_key CHECK (client_order_id <> 'refused-key')");
  } finally {
    await client.end();
  }
  fixture = await createMotoFixture();
  await setRiskParameters(fixture, { tradingEnabled: 'true', maxOrderNotional: '1000000' });
});

beforeEach(async () => {
  await drainAllEvents(fixture);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

const tag = (): string => randomBytes(3).toString('hex');

/** A message whose body is `text` as it stands (JSON escapes included), queued under `account` / `clientOrderId`. */
function raw(account: string, clientOrderId: string, text: string): OutgoingOrder {
  return { body: text, groupId: account, deduplicationId: clientOrderId };
}

/** A valid order's JSON with `extra` spliced in as raw JSON text before the closing brace. */
function withRawField(account: string, clientOrderId: string, name: string, rawJson: string): OutgoingOrder {
  const base = JSON.stringify(orderBody({ accountId: account, clientOrderId }));
  return raw(account, clientOrderId, `${base.slice(0, -1)},"${name}":${rawJson}}`);
}

it('stores every record of a batch holding each kind of poison, and fails none', async () => {
  const run = tag();
  const good = `GOOD-${run}`;
  const deep = `DEEP-${run}`;
  const nul = `NUL-${run}`;
  const surrogate = `SUR-${run}`;
  const brackets = `BRK-${run}`;
  const refused = `REF-${run}`;
  const messages: OutgoingOrder[] = [
    queued(orderBody({ accountId: good, clientOrderId: 'first' })),
    // 5,000 nested arrays (10 kB): JSON.parse takes it, JSON.stringify and recursive walkers overflow the stack.
    withRawField(deep, 'deep-1', 'extra', `${'['.repeat(5_000)}${']'.repeat(5_000)}`),
    // JSON escapes that JSON.parse accepts and jsonb refuses: NUL, and a lone low surrogate.
    raw(nul, 'nul-1', JSON.stringify(orderBody({ accountId: nul, clientOrderId: 'nul-1' })).replace('"AAPL"', '"AA\\u0000PL"')),
    withRawField(surrogate, 'sur-1', 'note', '"\\udc00 lone"'),
    // Brackets inside a string are not nesting: the payload is an ordinary object and is stored as one.
    withRawField(brackets, 'brk-1', 'note', JSON.stringify(`${'['.repeat(2_000)}"\\"${'{'.repeat(100)}`)),
    // Valid to the processor, refused by the database.
    queued(orderBody({ accountId: refused, clientOrderId: 'ref-1', symbol: 'POISON' })),
    queued(orderBody({ accountId: good, clientOrderId: 'second' })),
  ];
  await sendOrders(fixture, messages);
  const { handler, db } = processorFor(endpoint, fixture);
  pools.push(db);
  const event = await receiveBatch(fixture);
  expect(event.Records).toHaveLength(messages.length);

  const response = await handler(event);
  expect(response).toEqual({ batchItemFailures: [] });
  await settle(fixture, event, response);

  const rows = await readOrders(endpoint, [good, deep, nul, surrogate, brackets, refused]);
  const byAccount = (account: string) => rows.filter((row) => row.account_id === account);
  expect(byAccount(good).map((row) => [row.client_order_id, row.status])).toEqual([
    ['first', 'ACCEPTED'],
    ['second', 'ACCEPTED'],
  ]);

  const [deepRow] = byAccount(deep);
  expect(deepRow).toMatchObject({ status: 'REJECTED', client_order_id: 'deep-1' });
  expect(deepRow?.reject_reason).toMatch(/nests deeper than 64 levels/);
  // Too deep for jsonb to be trusted with: the body is kept whole, as a JSON string.
  expect(typeof deepRow?.request_payload).toBe('string');
  expect(String(deepRow?.request_payload)).toContain('[[[[');

  const [nulRow] = byAccount(nul);
  expect(nulRow?.status).toBe('REJECTED');
  expect(nulRow?.reject_reason).toMatch(/symbol/);
  expect(typeof nulRow?.request_payload).toBe('string');

  const [surrogateRow] = byAccount(surrogate);
  expect(surrogateRow?.status).toBe('REJECTED');
  // Kept as the raw body text, escape and all: as a jsonb string it cannot be refused.
  expect(typeof surrogateRow?.request_payload).toBe('string');
  expect(String(surrogateRow?.request_payload)).toContain('"note":"\\udc00 lone"');

  const [bracketRow] = byAccount(brackets);
  expect(bracketRow?.status).toBe('REJECTED');
  expect(bracketRow?.request_payload).toMatchObject({ accountId: brackets, note: expect.stringContaining('[[[[') });

  const [refusedRow] = byAccount(refused);
  expect(refusedRow).toMatchObject({ status: 'REJECTED', symbol: null, quantity: null });
  expect(refusedRow?.reject_reason).toMatch(/The database refused the order's values \(SQLSTATE 23514/);
  expect(JSON.parse(String(refusedRow?.request_payload))).toMatchObject({ symbol: 'POISON', accountId: refused });

  const events = await drainEvents(fixture, fixture.allEventsQueueUrl);
  const detailTypes = events.map((published) => `${published.detail.accountId}:${published['detail-type']}`).sort();
  expect(detailTypes).toEqual(
    [
      `${good}:OrderAccepted`,
      `${good}:OrderAccepted`,
      `${deep}:OrderRejected`,
      `${nul}:OrderRejected`,
      `${surrogate}:OrderRejected`,
      `${brackets}:OrderRejected`,
      `${refused}:OrderRejected`,
    ].sort(),
  );
});

it('records a batch made only of poison while the risk limits are unreadable', async () => {
  const account = `ONLY-${tag()}`;
  await sendOrders(fixture, [
    withRawField(account, 'p-1', 'extra', `${'['.repeat(5_000)}${']'.repeat(5_000)}`),
    raw(account, 'p-2', '{"accountId":'),
  ]);
  // No valid order needs the limits, so a dead SSM parameter cannot hold these rejections back.
  const { handler, db } = processorFor(endpoint, fixture, {
    riskLimits: async () => {
      throw new Error('SSM unreachable');
    },
  });
  pools.push(db);
  const event = await receiveBatch(fixture);
  const response = await handler(event);
  expect(response).toEqual({ batchItemFailures: [] });
  await settle(fixture, event, response);
  expect((await readOrders(endpoint, [account])).map((row) => [row.client_order_id, row.status])).toEqual([
    ['p-1', 'REJECTED'],
    ['p-2', 'REJECTED'],
  ]);
});

it('fails a record the database refuses outright on its own, and publishes nothing of its account after it', async () => {
  const account = `KEY-${tag()}`;
  const other = `OK-${tag()}`;
  await sendOrders(fixture, [
    queued(orderBody({ accountId: account, clientOrderId: 'before' })),
    queued(orderBody({ accountId: account, clientOrderId: 'refused-key' })),
    queued(orderBody({ accountId: account, clientOrderId: 'after' })),
    queued(orderBody({ accountId: other, clientOrderId: 'neighbour' })),
  ]);
  const { handler, db } = processorFor(endpoint, fixture);
  pools.push(db);
  const event = await receiveBatch(fixture);
  const idOf = (clientOrderId: string): string =>
    event.Records.find((record) => (JSON.parse(record.body) as { clientOrderId: string }).clientOrderId === clientOrderId)?.messageId ?? '';
  const response = await handler(event);
  // The refused record and the one behind it in its account fail (FIFO); the other account is untouched.
  expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([idOf('refused-key'), idOf('after')].sort());
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  // "after" is stored, but its event must not reach the bus before the refused record's: only "before" and the neighbour.
  expect(published.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['before', 'neighbour']);
  await settle(fixture, event, response);
});
