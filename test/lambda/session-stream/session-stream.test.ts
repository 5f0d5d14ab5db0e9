/**
 * The session stream consumer against a real EventBridge API (moto): one SessionChanged event per record, read back
 * from an SQS queue behind a rule on the bus; no session data in them; failed records as batch item failures.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createHandler, EVENT_BRIDGE_CLIENT_CONFIG } from '../../../lambda/session-stream/handler';
import { eventBridgePutEvents, MAX_ENTRIES_PER_CALL, PLATFORM_EVENT_SOURCE, type PutEventsPort } from '../../../lambda/session-stream/publisher';
import { TTL_PRINCIPAL as CODE_TTL_PRINCIPAL, type SessionChangeKind, type SessionChangedDetail } from '../../../lambda/session-stream/session-change';
import { dynamoDbStreamRecord, TTL_PRINCIPAL } from '../../support/aws-contracts/lambda-events';
import { ORDER_EVENT_SOURCE } from '../../../lambda/shared/order-events';
import { jsonObjectText } from '../../../lambda/shared/json-text';
import type { Session } from '../../../lambda/shared/session-item';
import { awsClientConfig } from '../../support/services';

/** Marks the session data, so a leak anywhere in an event is visible. */
const SECRET = 'card-4111-1111-1111-1111';
const CHANGED_AT = 1_900_000_000;

let eventBridge: EventBridgeClient;
let sqs: SQSClient;
let eventBusName: string;
let queueUrl: string;
/** PutEvents calls the handler made (names of commands sent by the real client, recorded by a middleware). */
let putEventsCalls = 0;

beforeAll(async () => {
  const config = awsClientConfig();
  eventBridge = new EventBridgeClient({
    ...config,
    ...EVENT_BRIDGE_CLIENT_CONFIG,
    // moto delivers each event to its SQS target in about 250 ms, one call at a time: far slower than EventBridge,
    // so the production request timeout would cut off its larger batches.
    requestHandler: { ...EVENT_BRIDGE_CLIENT_CONFIG.requestHandler, requestTimeout: 30_000 },
  });
  eventBridge.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutEventsCommand') putEventsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countPutEvents' },
  );
  sqs = new SQSClient(config);
  const suffix = randomBytes(4).toString('hex');
  eventBusName = `eventbus-trading-t${suffix}`;
  await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `session-events-t${suffix}` }));
  queueUrl = required(queue.QueueUrl);
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  // The pattern the platform's audit rule uses: everything from the platform source.
  await eventBridge.send(
    new PutRuleCommand({ Name: `rule-sessions-t${suffix}`, EventBusName: eventBusName, EventPattern: JSON.stringify({ source: [PLATFORM_EVENT_SOURCE] }) }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: `rule-sessions-t${suffix}`,
      EventBusName: eventBusName,
      Targets: [{ Id: 'capture', Arn: required(attributes.Attributes?.['QueueArn']) }],
    }),
  );
});

beforeEach(async () => {
  putEventsCalls = 0;
  await receiveEvents(Number.MAX_SAFE_INTEGER, 0);
});

afterAll(() => {
  eventBridge.destroy();
  sqs.destroy();
});

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('moto returned no value');
  return value;
}

/** An event as the capture queue receives it from the bus, with the raw text kept for leak checks. */
interface CapturedEvent {
  readonly raw: string;
  readonly source: string;
  readonly detailType: string;
  readonly time: string;
  readonly detail: SessionChangedDetail;
}

/** Reads (and deletes) events until `count` arrived or the queue stays empty for `idleRounds` receives. */
async function receiveEvents(count: number, idleRounds = 2): Promise<CapturedEvent[]> {
  const events: CapturedEvent[] = [];
  let idle = 0;
  while (events.length < count && idle <= idleRounds) {
    const response = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: idleRounds === 0 ? 0 : 1 }));
    const messages = response.Messages ?? [];
    if (messages.length === 0) {
      idle += 1;
      continue;
    }
    for (const message of messages) {
      const raw = required(message.Body);
      const parsed = JSON.parse(raw) as { source: string; 'detail-type': string; time: string; detail: SessionChangedDetail };
      events.push({ raw, source: parsed.source, detailType: parsed['detail-type'], time: parsed.time, detail: parsed.detail });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: required(message.ReceiptHandle) })),
      }),
    );
  }
  return events;
}

function session(overrides: Partial<Session> = {}): Session {
  return {
    sessionId: `7c9e6679-7425-40de-944b-${randomBytes(6).toString('hex')}`,
    accountId: 'acct-1',
    data: jsonObjectText(JSON.stringify({ card: SECRET })),
    version: 1,
    createdAt: '2030-03-17T17:46:40.000Z',
    updatedAt: '2030-03-17T17:46:40.000Z',
    expiresAt: CHANGED_AT + 3_600,
    ...overrides,
  };
}

/** A stream image as DynamoDB writes it for an item the sessions API stored (data as JSON text). */
function image(value: Session): Record<string, AttributeValue> {
  return {
    sessionId: { S: value.sessionId },
    accountId: { S: value.accountId },
    data: { S: value.data },
    version: { N: String(value.version) },
    createdAt: { S: value.createdAt },
    updatedAt: { S: value.updatedAt },
    expiresAt: { N: String(value.expiresAt) },
  };
}

let sequence = 100;

/** A stream record in the shape Lambda delivers for a NEW_AND_OLD_IMAGES stream (test/support/aws-contracts). */
function record(change: SessionChangeKind, before: Session | undefined, after: Session | undefined, options: { ttl?: boolean } = {}): DynamoDBRecord {
  sequence += 1;
  const sessionId = required(after?.sessionId ?? before?.sessionId);
  return dynamoDbStreamRecord({
    eventName: change,
    keys: { sessionId: { S: sessionId } },
    ...(after === undefined ? {} : { newImage: image(after) }),
    ...(before === undefined ? {} : { oldImage: image(before) }),
    approximateCreationDateTime: CHANGED_AT,
    sequenceNumber: `${sequence}000000000000000000001`,
    byTimeToLive: options.ttl === true,
  });
}

function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

function sequenceOf(value: DynamoDBRecord): string {
  return required(value.dynamodb?.SequenceNumber);
}

const consumer = (putEvents: PutEventsPort = eventBridgePutEvents(eventBridge), busName = eventBusName) =>
  createHandler({ putEvents, eventBusName: busName, clock: () => new Date('2031-01-01T00:00:00Z') });

describe('publishing', () => {
  it('recognises TTL deletions by the principal AWS documents for them', () => {
    expect(CODE_TTL_PRINCIPAL).toBe(TTL_PRINCIPAL);
  });

  it('puts one SessionChanged event per record, with what changed and never the session data', async () => {
    const created = session();
    const updated = { ...created, version: 2, data: jsonObjectText(JSON.stringify({ card: SECRET, step: 2 })) };
    const deletedByClient = session({ accountId: 'acct-2', version: 3 });
    const expiredByTtl = session({ accountId: 'acct-3', version: 5 });
    const records = [
      record('INSERT', undefined, created),
      record('MODIFY', created, updated),
      record('REMOVE', deletedByClient, undefined),
      record('REMOVE', expiredByTtl, undefined, { ttl: true }),
    ];

    const response = await consumer()(streamEvent(records));
    expect(response.batchItemFailures).toEqual([]);

    const events = await receiveEvents(records.length);
    expect(events).toHaveLength(records.length);
    for (const event of events) {
      expect(event.source).toBe('trading.platform');
      expect(event.detailType).toBe('SessionChanged');
      // Privacy: neither the data attribute nor anything in it leaves the table.
      expect(event.raw).not.toContain(SECRET);
      expect(Object.keys(event.detail)).not.toContain('data');
    }
    const occurredAt = new Date(CHANGED_AT * 1000).toISOString();
    const byEventId = new Map(events.map((event) => [event.detail.streamEventId, event.detail]));
    expect(byEventId.get(required(records[0]?.eventID))).toEqual({
      sessionId: created.sessionId,
      accountId: 'acct-1',
      change: 'INSERT',
      version: 1,
      expired: false,
      severity: 'INFO',
      occurredAt,
      streamEventId: records[0]?.eventID,
    });
    expect(byEventId.get(required(records[1]?.eventID))).toMatchObject({ change: 'MODIFY', version: 2, expired: false });
    expect(byEventId.get(required(records[2]?.eventID))).toMatchObject({
      sessionId: deletedByClient.sessionId,
      accountId: 'acct-2',
      change: 'REMOVE',
      version: 3,
      expired: false,
    });
    expect(byEventId.get(required(records[3]?.eventID))).toMatchObject({ accountId: 'acct-3', change: 'REMOVE', version: 5, expired: true });
  });

  it('dates each event by the change, not by the publish', async () => {
    await consumer()(streamEvent([record('INSERT', undefined, session())]));
    const [event] = await receiveEvents(1);
    expect(event?.detail.occurredAt).toBe('2030-03-17T17:46:40.000Z');
    expect(new Date(required(event?.time)).getTime()).toBe(CHANGED_AT * 1000);
  });

  it('falls back to the clock when the record has no creation time', async () => {
    const withoutTime = record('INSERT', undefined, session());
    delete withoutTime.dynamodb?.ApproximateCreationDateTime;
    await consumer()(streamEvent([withoutTime]));
    const [event] = await receiveEvents(1);
    expect(event?.detail.occurredAt).toBe('2031-01-01T00:00:00.000Z');
  });

  it('sends at most 10 entries per PutEvents call', async () => {
    const records = Array.from({ length: 2 * MAX_ENTRIES_PER_CALL + 1 }, () => record('INSERT', undefined, session()));
    const response = await consumer()(streamEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    expect(putEventsCalls).toBe(Math.ceil(records.length / MAX_ENTRIES_PER_CALL));
    const events = await receiveEvents(records.length);
    expect(new Set(events.map((event) => event.detail.streamEventId))).toEqual(new Set(records.map((value) => value.eventID)));
  });

  it('uses the same source as the order events, which the bus rules match', () => {
    expect(PLATFORM_EVENT_SOURCE).toBe(ORDER_EVENT_SOURCE);
  });
});

describe('failures', () => {
  it('reports every record as a batch item failure when the bus does not exist', async () => {
    const records = [record('INSERT', undefined, session()), record('MODIFY', session(), session({ version: 2 }))];
    const totals = new Map<string, number>();
    const handler = createHandler({
      putEvents: eventBridgePutEvents(eventBridge),
      eventBusName: `eventbus-missing-${randomBytes(4).toString('hex')}`,
      metrics: { addMetric: (name: string, _unit: unknown, value: number) => void totals.set(name, value), publishStoredMetrics: () => undefined },
    });
    const response = await handler(streamEvent(records));
    expect(response.batchItemFailures).toEqual(records.map((value) => ({ itemIdentifier: sequenceOf(value) })));
    expect(Object.fromEntries(totals)).toEqual({ SessionEventsPublished: 0, SessionEventsFailed: 2 });
  });

  it('fails only the records whose entries EventBridge refused, matching results to entries by position', async () => {
    const records = [0, 1, 2].map(() => record('INSERT', undefined, session()));
    // moto itself refuses an entry without a DetailType; the second entry is sent without one.
    const dropSecondDetailType: PutEventsPort = (input: PutEventsCommandInput) =>
      eventBridgePutEvents(eventBridge)({
        Entries: (input.Entries ?? []).map((entry, index) => (index === 1 ? { ...entry, DetailType: undefined } : entry)),
      });
    const response = await consumer(dropSecondDetailType)(streamEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(required(records[1])) }]);
    const events = await receiveEvents(2);
    expect(events.map((event) => event.detail.streamEventId).sort()).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
  });

  it('fails a record that is not a session change and publishes the rest', async () => {
    const good = record('INSERT', undefined, session());
    const noImage = record('MODIFY', session(), session({ version: 2 }));
    delete noImage.dynamodb?.NewImage;
    const notASession = record('INSERT', undefined, session());
    delete notASession.dynamodb?.NewImage?.['accountId'];
    const response = await consumer()(streamEvent([good, noImage, notASession]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(noImage) }, { itemIdentifier: sequenceOf(notASession) }]);
    const events = await receiveEvents(1);
    expect(events.map((event) => event.detail.streamEventId)).toEqual([good.eventID]);
  });
});
