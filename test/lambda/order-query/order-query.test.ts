/**
 * GET /v1/orders/{orderId} against a real PostgreSQL holding orders the real processor stored: exact decimal strings
 * and timestamps, 404 for unknown ids, 400 naming a malformed id, and no internal detail in any error body.
 */
import { randomBytes } from 'node:crypto';
import { DbPoolManager } from '../../../lambda/shared/db';
import { PostgresOrderReader } from '../../../lambda/order-query/get-order';
import { createHandler, type OrderQueryHandler } from '../../../lambda/order-query/handler';
import { apiGatewayProxyEvent } from '../../support/aws-contracts/api-gateway-proxy';
import { findFreePort } from '../../support/services/process-utils';
import { createTestDatabase, toDbSettings, type PostgresEndpoint } from '../../support/services';
import {
  createMotoFixture,
  fastBackoff,
  migratedDatabase,
  orderBody,
  poolFor,
  processorFor,
  readOrders,
  receiveBatch,
  sendOrders,
  settle,
  queued,
  type MotoFixture,
} from '../order-processor/harness';

let endpoint: PostgresEndpoint;
let fixture: MotoFixture;
let readerPool: DbPoolManager;
let query: OrderQueryHandler;
const pools: Array<{ end(): Promise<void> }> = [];
const accountId = `ACC-Q-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  endpoint = await migratedDatabase('order_query');
  fixture = await createMotoFixture();
  // Stored by the real processor, so the query reads exactly what production would.
  await sendOrders(fixture, [
    queued(orderBody({ accountId, clientOrderId: 'limit-1', quantity: '3', limitPrice: '100.12345678' })),
    queued(orderBody({ accountId, clientOrderId: 'market-1', type: 'MARKET', side: 'SELL', quantity: '10.50', timeInForce: 'DAY' })),
    { body: '{"accountId":', groupId: accountId, deduplicationId: 'broken-1' },
  ]);
  const { handler, db } = processorFor(endpoint, fixture);
  pools.push(db);
  const event = await receiveBatch(fixture);
  const response = await handler(event);
  expect(response).toEqual({ batchItemFailures: [] });
  await settle(fixture, event, response);

  // In production a second pool on the reader endpoint; here the same server.
  readerPool = poolFor(endpoint);
  pools.push(readerPool);
  query = createHandler({ reader: new PostgresOrderReader(readerPool) });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

/** GET /v1/orders/{orderId} as API Gateway's proxy integration delivers it (no orderId: the route's parameter missing). */
function orderEvent(orderId: string | undefined, requestId: string): ReturnType<typeof apiGatewayProxyEvent> {
  return apiGatewayProxyEvent({
    method: 'GET',
    resource: '/orders/{orderId}',
    path: `/orders/${orderId ?? ''}`,
    ...(orderId === undefined ? {} : { pathParameters: { orderId } }),
    requestId,
  });
}

function get(orderId: string | undefined): ReturnType<OrderQueryHandler> {
  return query(orderEvent(orderId, 'req-1'));
}

function body(result: { body: string }): Record<string, unknown> {
  const parsed: unknown = JSON.parse(result.body);
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`not a JSON object: ${result.body}`);
  return { ...parsed };
}

it('returns a stored LIMIT order with exact decimal strings and ISO timestamps', async () => {
  const [stored] = (await readOrders(endpoint, [accountId])).filter((row) => row.client_order_id === 'limit-1');
  const result = await get(`${accountId}.limit-1`);
  expect(result.statusCode).toBe(200);
  expect(result.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  expect(body(result)).toEqual({
    orderId: `${accountId}.limit-1`,
    accountId,
    clientOrderId: 'limit-1',
    symbol: 'AAPL',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '3',
    limitPrice: '100.12345678',
    notional: '300.37037034',
    timeInForce: 'GTC',
    status: 'ACCEPTED',
    rejectReason: null,
    receivedAt: stored?.received_at.toISOString(),
    processedAt: stored?.processed_at.toISOString(),
    // SQS's SequenceNumber of the message: the account's order (it increases within the message group).
    sequenceNumber: stored?.sequence_number,
  });
  expect(body(result)['sequenceNumber']).toMatch(/^\d{10,40}$/);
  expect(body(result)['receivedAt']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});

it('returns a MARKET order without price or notional, and the quantity as the number sent', async () => {
  const result = await get(`${accountId}.market-1`);
  expect(result.statusCode).toBe(200);
  expect(body(result)).toMatchObject({ type: 'MARKET', side: 'SELL', quantity: '10.5', limitPrice: null, notional: null, timeInForce: 'DAY' });
});

it('returns a rejected order with its reason', async () => {
  const result = await get(`${accountId}.broken-1`);
  expect(result.statusCode).toBe(200);
  expect(body(result)).toMatchObject({
    status: 'REJECTED',
    rejectReason: expect.stringMatching(/^Invalid order "\{\\"accountId\\":": is not valid JSON/),
    symbol: null,
    quantity: null,
  });
});

it('answers 404 for an unknown order', async () => {
  const result = await get(`${accountId}.no-such-order`);
  expect(result.statusCode).toBe(404);
  expect(body(result)).toEqual({ message: `Order "${accountId}.no-such-order" not found`, requestId: 'req-1' });
});

it.each([
  ['without a separator', 'ACC-1'],
  ['with two separators', 'ACC-1.c-1.x'],
  ['with an empty account', '.c-1'],
  ['with a space', 'ACC-1.c 1'],
  ['with a too long client order id', `ACC-1.${'x'.repeat(65)}`],
  ['empty', ''],
])('answers 400 naming the value for an id %s', async (_case, orderId) => {
  const result = await get(orderId);
  expect(result.statusCode).toBe(400);
  const { message } = body(result);
  expect(message).toEqual(expect.stringContaining(`Invalid orderId ${JSON.stringify(orderId).slice(0, 40)}`));
  expect(message).toEqual(expect.stringContaining('must be <accountId>.<clientOrderId>'));
});

it('answers 400 when the path parameter is missing', async () => {
  const result = await get(undefined);
  expect(result.statusCode).toBe(400);
  expect(body(result)['message']).toBe('Invalid orderId undefined: is required in the path /v1/orders/{orderId}');
});

it('answers 503 without internal detail when the database cannot be reached after retries', async () => {
  // A port nobody listens on behaves like a reader endpoint during failover: connections are refused.
  const deadPort = await findFreePort();
  const unreachable = new DbPoolManager({
    settings: async () => ({ ...toDbSettings(endpoint), port: deadPort }),
    connectionTimeoutMs: 500,
    retry: fastBackoff,
  });
  pools.push(unreachable);
  const result = await createHandler({ reader: new PostgresOrderReader(unreachable) })(orderEvent(`${accountId}.limit-1`, 'req-2'));
  expect(result.statusCode).toBe(503);
  expect(result.headers).toMatchObject({ 'Retry-After': '1' });
  expect(body(result)).toEqual({ message: 'The order store is temporarily unavailable; retry shortly', requestId: 'req-2' });
  expect(result.body).not.toContain(String(deadPort));
  expect(result.body).not.toContain('127.0.0.1');
});

it('answers 500 without SQL detail on an unexpected database error', async () => {
  // A database without the orders table: a non-transient error whose message names SQL objects.
  const empty = await createTestDatabase('order_query_empty');
  const broken = poolFor(empty);
  pools.push(broken);
  const result = await createHandler({ reader: new PostgresOrderReader(broken) })(orderEvent(`${accountId}.limit-1`, 'req-3'));
  expect(result.statusCode).toBe(500);
  expect(body(result)).toEqual({ message: 'Internal error', requestId: 'req-3' });
});
