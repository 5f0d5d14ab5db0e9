/**
 * The sessions API handler against a real DynamoDB API (moto): round trip, optimistic locking with the current
 * version on a stale write, expiry before TTL deletes the item, sliding expiry, consistent reads, 400s that name the
 * field, data returned digit for digit, and writes whose acknowledgement a proxy in front of moto loses or delays.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { sessionSettingsFromEnv } from '../../../lambda/sessions/config';
import { createHandler, type SessionsDeps, type SessionsEvent, type SessionsHandler } from '../../../lambda/sessions/handler';
import { MAX_DATA_BYTES, MAX_DATA_DEPTH } from '../../../lambda/sessions/session-request';
import { RESPONSE_RESERVE_MS } from '../../../lambda/sessions/session-service';
import { createSessionStore, DynamoDbSessionStore, SESSION_CALL_DEADLINES } from '../../../lambda/sessions/session-store';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../../../lambda/shared/aws-clients';
import { ConfigurationError } from '../../../lambda/shared/errors';
import { fromSessionItem, type Session } from '../../../lambda/shared/session-item';
import { startSilentServer } from '../health/silent-server';
import { apiGatewayProxyEvent } from '../../support/aws-contracts/api-gateway-proxy';
import { startFaultProxy, type Fault, type FaultProxy, type ProxiedCall } from '../../support/faults/http-fault-proxy';
import { lambdaContext } from '../../support/lambda-context';
import { awsClientConfig } from '../../support/services';

const TTL_SECONDS = 3_600;
const T0 = new Date('2031-03-01T12:00:00.000Z');
const T0_EPOCH = Math.floor(T0.getTime() / 1000);

/** One SDK call as the client sent it. */
interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

let tableName: string;
let dynamodb: DynamoDBClient;
/** Every command the handler's client sent, recorded by a middleware on the real client (the calls still go to moto). */
const sent: SentCommand[] = [];
let now: Date;
let sessions: SessionsHandler;

beforeAll(async () => {
  tableName = `table-sessions-t${randomBytes(4).toString('hex')}`;
  // The deployed function's client settings (shared factory, its deadlines), pointed at moto.
  dynamodb = createAwsClient(DynamoDBClient, { deadlines: SESSION_CALL_DEADLINES, extra: { ...awsClientConfig() } });
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ name: context.commandName ?? 'unknown', input: { ...(args.input as Record<string, unknown>) } });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

beforeEach(() => {
  now = T0;
  sent.length = 0;
  sessions = createHandler({
    store: new DynamoDbSessionStore(dynamodb, tableName),
    config: sessionSettingsFromEnv({ SESSION_TABLE_NAME: tableName, SESSION_TTL_SECONDS: String(TTL_SECONDS) }),
    clock: () => now,
  });
});

afterAll(() => {
  dynamodb.destroy();
});

function advance(seconds: number): void {
  now = new Date(now.getTime() + seconds * 1000);
}

interface Call {
  readonly sessionId?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** @default a fresh one per event, as API Gateway gives every request its own */
  readonly requestId?: string;
}

function event(method: string, call: Call = {}): SessionsEvent {
  const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  return apiGatewayProxyEvent({
    method,
    resource: call.sessionId === undefined ? '/sessions' : '/sessions/{sessionId}',
    path: call.sessionId === undefined ? '/sessions' : `/sessions/${call.sessionId}`,
    ...(call.sessionId === undefined ? {} : { pathParameters: { sessionId: call.sessionId } }),
    ...(call.query === undefined ? {} : { query: call.query }),
    ...(body === undefined ? {} : { body }),
    ...(call.headers === undefined ? {} : { headers: call.headers }),
    ...(call.requestId === undefined ? {} : { requestId: call.requestId }),
  });
}

interface Answer {
  readonly statusCode: number;
  readonly headers: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  /** The body as the handler wrote it, for checks that parsing would hide (number digits). */
  readonly text: string;
}

async function send(method: string, call: Call = {}, handler: SessionsHandler = sessions, context?: Context): Promise<Answer> {
  const result = await handler(event(method, call), context);
  const body: unknown = result.body === '' ? {} : JSON.parse(result.body);
  return { statusCode: result.statusCode, headers: { ...result.headers }, body: body as Record<string, unknown>, text: result.body };
}

async function create(data: Record<string, unknown> = { cart: ['AAPL'] }, accountId = 'acct-1'): Promise<Session> {
  const answer = await send('POST', { body: { accountId, data } });
  expect(answer.statusCode).toBe(201);
  return answer.body as unknown as Session;
}

/** The stored session as decoded from the table, read directly (not through the handler). */
async function storedSession(sessionId: string): Promise<Session | undefined> {
  const response = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { sessionId: { S: sessionId } }, ConsistentRead: true }));
  return response.Item === undefined ? undefined : fromSessionItem(response.Item);
}

/** The stored session in the shape clients see (data parsed, no write token), to compare with an answer's body. */
async function storedItem(sessionId: string): Promise<Record<string, unknown> | undefined> {
  const stored = await storedSession(sessionId);
  if (stored === undefined) return undefined;
  const { writeToken: _token, data, ...rest } = stored;
  return { ...rest, data: JSON.parse(data) as unknown };
}

describe('round trip', () => {
  it('creates, reads, updates and deletes a session', async () => {
    const created = await send('POST', { body: { accountId: 'acct-1', data: { cart: ['AAPL'], step: 1 } } });
    expect(created.statusCode).toBe(201);
    const sessionId = String(created.body['sessionId']);
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.headers['Location']).toBe(`/v1/sessions/${sessionId}`);
    expect(created.headers['Cache-Control']).toBe('no-store');
    expect(created.body).toEqual({
      sessionId,
      accountId: 'acct-1',
      data: { cart: ['AAPL'], step: 1 },
      version: 1,
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      expiresAt: T0_EPOCH + TTL_SECONDS,
    });
    expect(await storedItem(sessionId)).toEqual(created.body);

    const read = await send('GET', { sessionId });
    expect(read.statusCode).toBe(200);
    expect(read.body).toEqual(created.body);

    advance(30);
    const updated = await send('PUT', { sessionId, body: { version: 1, data: { cart: ['AAPL', 'MSFT'], step: 2 } } });
    expect(updated.statusCode).toBe(200);
    expect(updated.body).toEqual({
      ...created.body,
      data: { cart: ['AAPL', 'MSFT'], step: 2 },
      version: 2,
      updatedAt: now.toISOString(),
      expiresAt: T0_EPOCH + 30 + TTL_SECONDS,
    });
    expect((await send('GET', { sessionId })).body).toEqual(updated.body);

    const deleted = await send('DELETE', { sessionId, query: { version: '2' } });
    expect(deleted.statusCode).toBe(204);
    expect(await storedItem(sessionId)).toBeUndefined();
    expect((await send('GET', { sessionId })).statusCode).toBe(404);
  });

  it('returns the JSON data exactly as sent (stored as JSON text, not a DynamoDB map)', async () => {
    const data = { price: 1.5, big: 123456789012345, nested: { deep: [null, true, ''] }, unicode: 'Zürich ✓' };
    const session = await create(data);
    expect((await send('GET', { sessionId: session.sessionId })).body['data']).toEqual(data);
  });

  it('defaults data to an empty object and accepts base64 bodies', async () => {
    const result = await sessions({
      ...event('POST'),
      body: Buffer.from(JSON.stringify({ accountId: 'acct_2' })).toString('base64'),
      isBase64Encoded: true,
    });
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(result.body)).toMatchObject({ accountId: 'acct_2', data: {}, version: 1 });
  });

  it('accepts the session id in upper case', async () => {
    const session = await create();
    expect((await send('GET', { sessionId: session.sessionId.toUpperCase() })).body['sessionId']).toBe(session.sessionId);
  });
});

describe('optimistic locking', () => {
  it('refuses a stale update with 409 and the current version, leaving the session unchanged', async () => {
    const session = await create({ step: 1 });
    expect((await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } } })).statusCode).toBe(200);

    const stale = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 'lost update' } } });
    expect(stale.statusCode).toBe(409);
    expect(stale.body['currentVersion']).toBe(2);
    expect(String(stale.body['message'])).toContain('version 2');
    expect(await storedItem(session.sessionId)).toMatchObject({ version: 2, data: { step: 2 } });
  });

  it('refuses a version from the future too', async () => {
    const session = await create();
    const ahead = await send('PUT', { sessionId: session.sessionId, body: { version: 7, data: {} } });
    expect(ahead.statusCode).toBe(409);
    expect(ahead.body['currentVersion']).toBe(1);
  });

  it('refuses a stale delete with 409 and the current version, and keeps the session', async () => {
    const session = await create();
    await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } } });
    const stale = await send('DELETE', { sessionId: session.sessionId, query: { version: '1' } });
    expect(stale.statusCode).toBe(409);
    expect(stale.body['currentVersion']).toBe(2);
    expect(await storedItem(session.sessionId)).toBeDefined();
  });

  it('answers 404 for an update or delete of a session that does not exist', async () => {
    const sessionId = '3f1b6c2e-8d4a-4c7e-9b1a-2e5f7a9c0d13';
    expect((await send('PUT', { sessionId, body: { version: 1, data: {} } })).statusCode).toBe(404);
    expect((await send('DELETE', { sessionId, query: { version: '1' } })).statusCode).toBe(404);
    expect((await send('GET', { sessionId })).statusCode).toBe(404);
  });
});

describe('expiry', () => {
  it('treats a session past expiresAt as gone although TTL has not removed the item yet', async () => {
    const session = await create();
    advance(TTL_SECONDS);

    for (const answer of [
      await send('GET', { sessionId: session.sessionId }),
      await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: {} } }),
      await send('DELETE', { sessionId: session.sessionId, query: { version: '1' } }),
    ]) {
      expect(answer.statusCode).toBe(404);
      expect(answer.body['currentVersion']).toBeUndefined();
    }
    // Still in the table, untouched: DynamoDB TTL deletes lazily and the handler wrote nothing.
    expect(await storedItem(session.sessionId)).toEqual(session);
  });

  it('is still live one second before expiresAt', async () => {
    const session = await create();
    advance(TTL_SECONDS - 1);
    expect((await send('GET', { sessionId: session.sessionId })).statusCode).toBe(200);
  });

  it('slides expiry forward on GET with a conditional update', async () => {
    const session = await create();
    advance(600);
    sent.length = 0;

    const read = await send('GET', { sessionId: session.sessionId });
    expect(read.statusCode).toBe(200);
    expect(read.body['expiresAt']).toBe(T0_EPOCH + 600 + TTL_SECONDS);
    expect(read.body['version']).toBe(1);
    expect((await storedItem(session.sessionId))?.expiresAt).toBe(T0_EPOCH + 600 + TTL_SECONDS);

    const update = sent.find((command) => command.name === 'UpdateItemCommand');
    expect(update?.input['ConditionExpression']).toEqual(expect.stringContaining('attribute_exists(#id)'));

    // Now kept alive past its original expiry.
    advance(TTL_SECONDS - 1);
    expect((await send('GET', { sessionId: session.sessionId })).statusCode).toBe(200);
  });

  it('does not write on a read that would move expiry by less than the refresh granularity', async () => {
    const session = await create();
    advance(10);
    sent.length = 0;
    const read = await send('GET', { sessionId: session.sessionId });
    expect(read.body['expiresAt']).toBe(session.expiresAt);
    expect(sent.map((command) => command.name)).toEqual(['GetItemCommand']);
  });

  it('also slides expiry on a successful update', async () => {
    const session = await create();
    advance(900);
    const updated = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } } });
    expect(updated.body['expiresAt']).toBe(T0_EPOCH + 900 + TTL_SECONDS);
  });
});

describe('consistency', () => {
  it('reads with ConsistentRead, so a write is visible to the very next read', async () => {
    const session = await create();
    sent.length = 0;
    await send('GET', { sessionId: session.sessionId });
    const reads = sent.filter((command) => command.name === 'GetItemCommand');
    expect(reads).toHaveLength(1);
    expect(reads[0]?.input['ConsistentRead']).toBe(true);
  });

  it('writes conditionally: create never overwrites, update and delete name the expected version', async () => {
    const session = await create();
    await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: {} } });
    await send('DELETE', { sessionId: session.sessionId, query: { version: '2' } });
    const byName = new Map(sent.map((command) => [command.name, command.input]));
    expect(byName.get('PutItemCommand')?.['ConditionExpression']).toBe('attribute_not_exists(#id)');
    expect(byName.get('UpdateItemCommand')?.['ConditionExpression']).toContain('#version = :expected');
    expect(byName.get('DeleteItemCommand')?.['ConditionExpression']).toContain('#version = :expected');
  });
});

describe('bad input', () => {
  const validId = '3f1b6c2e-8d4a-4c7e-9b1a-2e5f7a9c0d13';
  const cases: ReadonlyArray<{ readonly name: string; readonly method: string; readonly call: Call; readonly field: string; readonly shows?: string }> = [
    { name: 'missing body', method: 'POST', call: {}, field: 'body' },
    { name: 'invalid JSON', method: 'POST', call: { rawBody: '{"accountId": ' }, field: 'body', shows: '{\\"accountId\\": ' },
    { name: 'JSON array body', method: 'POST', call: { body: [1] }, field: 'body' },
    { name: 'missing accountId', method: 'POST', call: { body: { data: {} } }, field: 'accountId' },
    { name: 'accountId with a space', method: 'POST', call: { body: { accountId: 'bad id!' } }, field: 'accountId', shows: '"bad id!"' },
    { name: 'accountId too long', method: 'POST', call: { body: { accountId: 'a'.repeat(65) } }, field: 'accountId' },
    { name: 'accountId a number', method: 'POST', call: { body: { accountId: 42 } }, field: 'accountId', shows: '42' },
    { name: 'data an array', method: 'POST', call: { body: { accountId: 'a', data: [1, 2] } }, field: 'data', shows: '[1,2]' },
    { name: 'data a string', method: 'POST', call: { body: { accountId: 'a', data: 'x' } }, field: 'data' },
    { name: 'unknown field', method: 'POST', call: { body: { accountId: 'a', sessionId: 'mine' } }, field: 'sessionId', shows: '"mine"' },
    { name: 'malformed sessionId', method: 'GET', call: { sessionId: 'not-a-uuid' }, field: 'sessionId', shows: '"not-a-uuid"' },
    { name: 'PUT without version', method: 'PUT', call: { sessionId: validId, body: { data: {} } }, field: 'version' },
    { name: 'PUT with version as text', method: 'PUT', call: { sessionId: validId, body: { version: '1', data: {} } }, field: 'version', shows: '"1"' },
    { name: 'PUT with version 0', method: 'PUT', call: { sessionId: validId, body: { version: 0, data: {} } }, field: 'version', shows: '0' },
    { name: 'PUT with fractional version', method: 'PUT', call: { sessionId: validId, body: { version: 1.5, data: {} } }, field: 'version' },
    { name: 'PUT without data', method: 'PUT', call: { sessionId: validId, body: { version: 1 } }, field: 'data' },
    { name: 'PUT with misspelt field', method: 'PUT', call: { sessionId: validId, body: { verison: 1, data: {} } }, field: 'verison' },
    { name: 'DELETE without version', method: 'DELETE', call: { sessionId: validId }, field: 'version' },
    { name: 'DELETE with version=abc', method: 'DELETE', call: { sessionId: validId, query: { version: 'abc' } }, field: 'version', shows: '"abc"' },
    { name: 'DELETE with version=-1', method: 'DELETE', call: { sessionId: validId, query: { version: '-1' } }, field: 'version' },
  ];

  it.each(cases)('$name → 400 naming $field', async ({ method, call, field, shows }) => {
    const answer = await send(method, call);
    expect(answer.statusCode).toBe(400);
    expect(answer.body['field']).toBe(field);
    expect(String(answer.body['message'])).toContain(field);
    if (shows !== undefined) expect(String(answer.body['message'])).toContain(shows);
  });

  it('refuses data over the size bound, saying how big it was', async () => {
    const data = { blob: 'x'.repeat(MAX_DATA_BYTES) };
    const answer = await send('POST', { body: { accountId: 'a', data } });
    expect(answer.statusCode).toBe(400);
    expect(answer.body['field']).toBe('data');
    expect(String(answer.body['message'])).toContain(String(MAX_DATA_BYTES));
  });

  it('accepts data right at the size bound', async () => {
    const padding = MAX_DATA_BYTES - JSON.stringify({ blob: '' }).length;
    const answer = await send('POST', { body: { accountId: 'a', data: { blob: 'x'.repeat(padding) } } });
    expect(answer.statusCode).toBe(201);
  });

  it('refuses a huge body before parsing it', async () => {
    const answer = await send('POST', { rawBody: `{"accountId":"a","data":{"x":"${'y'.repeat(1_000_000)}"}}` });
    expect(answer.statusCode).toBe(400);
    expect(answer.body['field']).toBe('body');
  });

  it('answers 405 with Allow for methods a route does not have', async () => {
    const onCollection = await send('GET');
    expect(onCollection.statusCode).toBe(405);
    expect(onCollection.headers['Allow']).toBe('POST');
    const onSession = await send('PATCH', { sessionId: validId });
    expect(onSession.statusCode).toBe(405);
    expect(onSession.headers['Allow']).toBe('GET, PUT, DELETE');
  });
});

describe('faults', () => {
  it('answers 503 with Retry-After and no internal detail when DynamoDB hangs', async () => {
    const hung = await startSilentServer();
    const deadlines: CallDeadlines = { connectionTimeoutMs: 200, requestTimeoutMs: 200, maxAttempts: 3 };
    const store = createSessionStore(tableName, { deadlines, extra: { ...awsClientConfig(), endpoint: `http://127.0.0.1:${hung.port}` } });
    try {
      const handler = createHandler({ store, config: { ttlSeconds: TTL_SECONDS, refreshGranularitySeconds: 60 } });
      const answer = await send('POST', { body: { accountId: 'a' } }, handler);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['Retry-After']).toBe('1');
      expect(JSON.stringify(answer.body)).not.toMatch(/127\.0\.0\.1|timed? ?out|table-sessions/i);
      // The standard retry strategy's bounded attempts, each on a fresh connection.
      expect(hung.connections()).toBe(deadlines.maxAttempts);
    } finally {
      await hung.close();
    }
  });

  it('answers 500 without the table name when the table does not exist', async () => {
    const handler = createHandler({
      store: new DynamoDbSessionStore(dynamodb, 'table-that-does-not-exist'),
      config: { ttlSeconds: TTL_SECONDS, refreshGranularitySeconds: 60 },
    });
    const answer = await send('GET', { sessionId: '3f1b6c2e-8d4a-4c7e-9b1a-2e5f7a9c0d13' }, handler);
    expect(answer.statusCode).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('table-that-does-not-exist');
  });

  it('answers 500 for an item that is not a session, rather than returning it', async () => {
    const sessionId = '0e2f4a6c-8b1d-4e3f-a5c7-9d0b2e4f6a81';
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { sessionId: { S: sessionId }, note: { S: 'hand-made' } } }));
    expect((await send('GET', { sessionId })).statusCode).toBe(500);
  });
});

describe('sessionSettingsFromEnv', () => {
  it('defaults the TTL to an hour with a one-minute refresh granularity', () => {
    expect(sessionSettingsFromEnv({ SESSION_TABLE_NAME: 't' })).toEqual({ tableName: 't', ttlSeconds: 3_600, refreshGranularitySeconds: 60 });
  });

  it('scales the refresh granularity down for short lifetimes', () => {
    expect(sessionSettingsFromEnv({ SESSION_TABLE_NAME: 't', SESSION_TTL_SECONDS: '300' }).refreshGranularitySeconds).toBe(30);
  });

  it('fails loudly on a missing table or a bad TTL', () => {
    expect(() => sessionSettingsFromEnv({})).toThrow(ConfigurationError);
    expect(() => sessionSettingsFromEnv({ SESSION_TABLE_NAME: 't', SESSION_TTL_SECONDS: '1h' })).toThrow(/SESSION_TTL_SECONDS/);
    expect(() => sessionSettingsFromEnv({ SESSION_TABLE_NAME: 't', SESSION_TTL_SECONDS: '5' })).toThrow(/SESSION_TTL_SECONDS/);
  });
});

describe('data is returned exactly as sent', () => {
  // JSON.parse would make these 1.1 and 12345678901234567000; DynamoDB's own Number type stops at 38 digits.
  const precise = '{"price":1.10,"big":12345678901234567890,"exact":123456789012345678901234567890123456789012,"small":1E-400,"neg":-0.0}';

  it('keeps every number digit for digit through POST, GET and PUT (whitespace aside)', async () => {
    const created = await send('POST', { rawBody: `{ "accountId": "acct-1", "data": ${precise.replace(/,/g, ', ')} }` });
    expect(created.statusCode).toBe(201);
    expect(created.text).toContain(`"data":${precise}`);
    const sessionId = String(created.body['sessionId']);
    expect((await storedSession(sessionId))?.data).toBe(precise);
    expect((await send('GET', { sessionId })).text).toContain(`"data":${precise}`);

    const changed = '{"price":99.990,"qty":100000000000000000001}';
    const updated = await send('PUT', { sessionId, rawBody: `{"version":1,"data":${changed}}` });
    expect(updated.statusCode).toBe(200);
    expect(updated.text).toContain(`"data":${changed}`);
    expect((await send('GET', { sessionId })).text).toContain(`"data":${changed}`);
  });

  it('keeps strings as written, escapes included', async () => {
    const data = '{"note":"Z\\u00fcrich \\"quoted\\" \\/ ✓","empty":"","nested":{"list":[true,false,null,[]]}}';
    const created = await send('POST', { rawBody: `{"accountId":"acct-1","data":${data}}` });
    expect(created.text).toContain(`"data":${data}`);
    expect(created.body['data']).toEqual({ note: 'Zürich "quoted" / ✓', empty: '', nested: { list: [true, false, null, []] } });
  });

  it('answers over-deep data (5,000 nested arrays, 10 kB) with a 400 naming data, not a 500', async () => {
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    for (const answer of [
      await send('POST', { rawBody: `{"accountId":"acct-1","data":{"deep":${deep}}}` }),
      await send('PUT', { sessionId: (await create()).sessionId, rawBody: `{"version":1,"data":{"deep":${deep}}}` }),
    ]) {
      expect(answer.statusCode).toBe(400);
      expect(answer.body['field']).toBe('data');
      expect(String(answer.body['message'])).toContain(`deeper than ${MAX_DATA_DEPTH} levels`);
    }
  });

  it(`accepts data nested ${MAX_DATA_DEPTH} levels deep and refuses one level more`, async () => {
    const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    expect((await send('POST', { rawBody: `{"accountId":"a","data":${nested(MAX_DATA_DEPTH)}}` })).statusCode).toBe(201);
    const over = await send('POST', { rawBody: `{"accountId":"a","data":${nested(MAX_DATA_DEPTH + 1)}}` });
    expect(over.statusCode).toBe(400);
    expect(over.body['field']).toBe('data');
  });

  it('refuses a body that names a field twice, or holds a lone surrogate', async () => {
    const twice = await send('POST', { rawBody: '{"accountId":"a","data":{},"data":{"x":1}}' });
    expect(twice.statusCode).toBe(400);
    expect(twice.body['field']).toBe('data');
    const surrogate = await send('POST', { rawBody: '{"accountId":"a","data":{"x":"\ud800"}}' });
    expect(surrogate.statusCode).toBe(400);
    expect(surrogate.body['field']).toBe('body');
  });
});

describe('time budget', () => {
  it('answers 503 without calling DynamoDB when the invocation has less time left than a call can take', async () => {
    const store = new DynamoDbSessionStore(dynamodb, tableName);
    const context = lambdaContext('sessions', store.worstCaseCallMs + RESPONSE_RESERVE_MS - 1);
    sent.length = 0;
    const answer = await send('POST', { body: { accountId: 'a' } }, sessions, context);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['Retry-After']).toBe('1');
    expect(sent).toEqual([]);
  });

  it('serves a read without extending expiry when only one call still fits', async () => {
    const session = await create();
    advance(600);
    const oneCall = worstCaseCallMs(SESSION_CALL_DEADLINES) + RESPONSE_RESERVE_MS;
    // The first check (before GetItem) passes; by the second (before the refresh) the clock has moved on.
    const remaining = [oneCall, oneCall - 1];
    const context: Context = { ...lambdaContext('sessions', 0), getRemainingTimeInMillis: () => remaining.shift() ?? 0 };
    sent.length = 0;
    const read = await send('GET', { sessionId: session.sessionId }, sessions, context);
    expect(read.statusCode).toBe(200);
    expect(read.body['expiresAt']).toBe(session.expiresAt);
    expect(sent.map((command) => command.name)).toEqual(['GetItemCommand']);
  });
});

describe('lost acknowledgements', () => {
  /**
   * The deployed deadlines, but a shorter request timeout so the delayed-answer case stays quick. The proxy answers
   * after moto has applied the write; the SDK's standard retry strategy resends on ECONNRESET and TimeoutError alike.
   */
  const deadlines: CallDeadlines = { connectionTimeoutMs: 500, requestTimeoutMs: 400, maxAttempts: 3 };
  const PUT_ITEM = 'DynamoDB_20120810.PutItem';
  const UPDATE_ITEM = 'DynamoDB_20120810.UpdateItem';
  const DELETE_ITEM = 'DynamoDB_20120810.DeleteItem';
  let proxy: FaultProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /** A handler whose DynamoDB calls go through a proxy that applies `fault` to the first call with `target`. */
  async function handlerBehind(target: string, fault: Fault, deps: Partial<SessionsDeps> = {}): Promise<{ handler: SessionsHandler; proxy: FaultProxy }> {
    const started = await startFaultProxy(awsClientConfig().endpoint, (call: ProxiedCall) => (call.target === target && call.ordinal === 1 ? fault : { kind: 'pass' }));
    proxy = started;
    const store = createSessionStore(tableName, { deadlines, extra: { ...awsClientConfig(), endpoint: started.endpoint } });
    const handler = createHandler({ store, config: { ttlSeconds: TTL_SECONDS, refreshGranularitySeconds: 60 }, clock: () => now, ...deps });
    return { handler, proxy: started };
  }

  it('answers 201, not 409 "already taken", when the PutItem of a POST landed but its answer was lost', async () => {
    let ids = 0;
    const accountId = `acct-lost-${randomBytes(3).toString('hex')}`;
    const { handler, proxy: faults } = await handlerBehind(PUT_ITEM, { kind: 'dropAnswer' }, {
      newSessionId: () => {
        ids += 1;
        return `5a0c1e2f-3b4d-4e6f-8a1b-${randomBytes(6).toString('hex')}`;
      },
    });
    const created = await send('POST', { body: { accountId, data: { step: 1 } } }, handler);

    expect(created.statusCode).toBe(201);
    // The SDK resent the write after the reset; the resend failed its own condition and found this request's item.
    expect(faults.calls(PUT_ITEM)).toHaveLength(2);
    expect(ids).toBe(1);
    const sessionId = String(created.body['sessionId']);
    expect(await storedItem(sessionId)).toEqual(created.body);
    const items = await dynamodb.send(
      new ScanCommand({ TableName: tableName, FilterExpression: 'accountId = :a', ExpressionAttributeValues: { ':a': { S: accountId } }, ConsistentRead: true }),
    );
    expect(items.Count).toBe(1);
  });

  it('answers 200, not 409, when the UpdateItem of a PUT landed but its answer was lost, and applies it once', async () => {
    const session = await create({ step: 1 });
    const { handler, proxy: faults } = await handlerBehind(UPDATE_ITEM, { kind: 'dropAnswer' });
    advance(30);
    const updated = await send('PUT', { sessionId: session.sessionId, rawBody: '{"version":1,"data":{"step":2,"price":1.10}}' }, handler);

    expect(updated.statusCode).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, updatedAt: now.toISOString() });
    expect(updated.text).toContain('"data":{"step":2,"price":1.10}');
    expect(faults.calls(UPDATE_ITEM)).toHaveLength(2);
    // Version 2, not 3: the resend was refused by the version condition, so the change is in the table once.
    expect(await storedItem(session.sessionId)).toEqual(updated.body);
  });

  it('answers 200 when the UpdateItem answer comes back after the request timeout', async () => {
    const session = await create({ step: 1 });
    const { handler, proxy: faults } = await handlerBehind(UPDATE_ITEM, { kind: 'delayAnswer', ms: deadlines.requestTimeoutMs * 3 });
    const updated = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } } }, handler);
    expect(updated.statusCode).toBe(200);
    expect(updated.body['version']).toBe(2);
    expect(faults.calls(UPDATE_ITEM)).toHaveLength(2);
    expect((await storedSession(session.sessionId))?.version).toBe(2);
  });

  it('answers 204, not 404, when the DeleteItem landed but its answer was lost', async () => {
    const session = await create();
    const { handler, proxy: faults } = await handlerBehind(DELETE_ITEM, { kind: 'dropAnswer' });
    const deleted = await send('DELETE', { sessionId: session.sessionId, query: { version: '1' } }, handler);
    expect(deleted.statusCode).toBe(204);
    expect(faults.calls(DELETE_ITEM)).toHaveLength(2);
    expect(await storedItem(session.sessionId)).toBeUndefined();
  });

  it('still answers 404 when the first DeleteItem attempt finds no session', async () => {
    const { handler } = await handlerBehind(DELETE_ITEM, { kind: 'pass' });
    const answer = await send('DELETE', { sessionId: '3f1b6c2e-8d4a-4c7e-9b1a-2e5f7a9c0d13', query: { version: '1' } }, handler);
    expect(answer.statusCode).toBe(404);
  });

  it('stores the write token in the same write as the version, and never shows it to clients', async () => {
    const created = await send('POST', { body: { accountId: 'a' }, requestId: 'req-create-1' });
    const sessionId = String(created.body['sessionId']);
    expect((await storedSession(sessionId))?.writeToken).toBe('req:req-create-1');
    const updated = await send('PUT', { sessionId, body: { version: 1, data: {} }, headers: { 'idempotency-key': '"0b9f3c1e-7d2a-4f5b-9c8e-1a2b3c4d5e6f"' } });
    expect((await storedSession(sessionId))?.writeToken).toBe('key:0b9f3c1e-7d2a-4f5b-9c8e-1a2b3c4d5e6f');
    expect(Object.keys(updated.body)).not.toContain('writeToken');
    expect(updated.text).not.toContain('0b9f3c1e');
  });
});

describe('client retries with an Idempotency-Key', () => {
  const key = '9d7c5b3a-1e2f-4a6b-8c0d-2e4f6a8b0c1d';

  it('answers a repeated PUT with the same key and body as the success it was, not 409', async () => {
    const session = await create({ step: 1 });
    const first = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } }, headers: { 'Idempotency-Key': key } });
    // The client never saw `first` (its HTTP answer was lost) and sends the same request again: a new API Gateway request.
    const again = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } }, headers: { 'Idempotency-Key': key } });
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await storedSession(session.sessionId))?.version).toBe(2);
  });

  it('still answers 409 to a repeat without a key, or with the key but another body', async () => {
    const session = await create({ step: 1 });
    await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } }, headers: { 'Idempotency-Key': key } });
    const withoutKey = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 2 } } });
    expect(withoutKey.statusCode).toBe(409);
    expect(withoutKey.body['currentVersion']).toBe(2);
    const otherBody = await send('PUT', { sessionId: session.sessionId, body: { version: 1, data: { step: 3 } }, headers: { 'Idempotency-Key': key } });
    expect(otherBody.statusCode).toBe(409);
    expect(await storedItem(session.sessionId)).toMatchObject({ version: 2, data: { step: 2 } });
  });

  it.each(['', 'has space', 'a"b', 'x'.repeat(256)])('refuses the key %j with a 400 naming the header', async (bad) => {
    const answer = await send('POST', { body: { accountId: 'a' }, headers: { 'Idempotency-Key': bad } });
    expect(answer.statusCode).toBe(400);
    expect(answer.body['field']).toBe('Idempotency-Key');
  });
});
