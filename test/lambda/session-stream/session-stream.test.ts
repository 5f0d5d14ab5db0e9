/**
 * The session stream consumer against a real EventBridge and SQS API (moto): one SessionChanged event per record,
 * read back from an SQS queue behind a rule on the bus; no session data in them; a record still throttled after the
 * publisher's rounds (a proxy in front of moto gives AWS's throttled answer) returned for the stream to retry; changes
 * that cannot be published kept whole.
 */
import { randomBytes } from 'node:crypto';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, type PutEventsCommandInput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AttributeValue, Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createHandler, SESSION_STREAM_CALL_DEADLINES, type SessionStreamDeps } from '../../../lambda/session-stream/handler';
import { REPLAY_MESSAGE_KIND, sqsReplayQueue, type ReplayMessage, type ReplayQueuePort } from '../../../lambda/session-stream/replay';
import { TTL_PRINCIPAL as CODE_TTL_PRINCIPAL, type SessionChangeKind, type SessionChangedDetail } from '../../../lambda/session-stream/session-change';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../../../lambda/shared/aws-clients';
import { eventBridgePutEvents, MAX_ENTRIES_PER_CALL, type PutEventsPort } from '../../../lambda/shared/event-publisher';
import { jsonObjectText } from '../../../lambda/shared/json-text';
import type { LogPort } from '../../../lambda/shared/observability';
import { PLATFORM_EVENT_SOURCE } from '../../../lambda/shared/platform-events';
import type { Session } from '../../../lambda/shared/session-item';
import { throttledPutEventsEntry } from '../../support/aws-contracts/eventbridge';
import { dynamoDbStreamRecord, TTL_PRINCIPAL } from '../../support/aws-contracts/lambda-events';
import { startRefusingEventBridge, type RefusingEventBridge } from '../../support/faults/refusing-event-bridge';
import { lambdaContext } from '../../support/lambda-context';
import { awsClientConfig } from '../../support/services';

/** Marks the session data, so a leak anywhere in an event is visible. */
const SECRET = 'card-4111-1111-1111-1111';
const CHANGED_AT = 1_900_000_000;

let eventBridge: EventBridgeClient;
let sqs: SQSClient;
let eventBusName: string;
let queueUrl: string;
let replayQueueUrl: string;
let replayQueue: ReplayQueuePort;
/** PutEvents calls the handler made (names of commands sent by the real client, recorded by a middleware). */
let putEventsCalls = 0;

/**
 * moto delivers each event to its SQS target in about 250 ms, one call at a time: far slower than EventBridge, so the
 * deployed 2 s request timeout would cut off its larger batches. The handler reserves this client's worst case.
 */
const MOTO_DEADLINES: CallDeadlines = { ...SESSION_STREAM_CALL_DEADLINES, requestTimeoutMs: 30_000 };
/** An invocation with time for the worst case of that client, several times over. */
const ROOMY_CONTEXT = lambdaContext('session-stream', 10 * worstCaseCallMs(MOTO_DEADLINES));

beforeAll(async () => {
  const config = awsClientConfig();
  eventBridge = createAwsClient(EventBridgeClient, { deadlines: MOTO_DEADLINES, extra: { ...config } });
  eventBridge.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutEventsCommand') putEventsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countPutEvents' },
  );
  sqs = createAwsClient(SQSClient, { deadlines: SESSION_STREAM_CALL_DEADLINES, extra: { ...config } });
  const suffix = randomBytes(4).toString('hex');
  eventBusName = `eventbus-trading-t${suffix}`;
  await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `session-events-t${suffix}` }));
  queueUrl = required(queue.QueueUrl);
  const replay = await sqs.send(new CreateQueueCommand({ QueueName: `session-stream-failures-t${suffix}` }));
  replayQueueUrl = required(replay.QueueUrl);
  replayQueue = sqsReplayQueue(sqs, replayQueueUrl, SESSION_STREAM_CALL_DEADLINES);
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
  await receiveReplays(0);
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

/** Reads (and deletes) message bodies from `url` until `count` arrived or the queue stays empty for `idleRounds` receives. */
async function receiveBodies(url: string, count: number, idleRounds: number): Promise<string[]> {
  const bodies: string[] = [];
  let idle = 0;
  while (bodies.length < count && idle <= idleRounds) {
    const response = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: idleRounds === 0 ? 0 : 1 }));
    const messages = response.Messages ?? [];
    if (messages.length === 0) {
      idle += 1;
      continue;
    }
    bodies.push(...messages.map((message) => required(message.Body)));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: required(message.ReceiptHandle) })),
      }),
    );
  }
  return bodies;
}

async function receiveEvents(count: number, idleRounds = 2): Promise<CapturedEvent[]> {
  return (await receiveBodies(queueUrl, count, idleRounds)).map((raw) => {
    const parsed = JSON.parse(raw) as { source: string; 'detail-type': string; time: string; detail: SessionChangedDetail };
    return { raw, source: parsed.source, detailType: parsed['detail-type'], time: parsed.time, detail: parsed.detail };
  });
}

/** Parked changes, with the raw text kept for leak checks. SQS delivers immediately, so no waiting rounds are needed. */
async function receiveReplays(idleRounds = 0): Promise<Array<{ raw: string; message: ReplayMessage }>> {
  return (await receiveBodies(replayQueueUrl, Number.MAX_SAFE_INTEGER, idleRounds)).map((raw) => ({ raw, message: JSON.parse(raw) as ReplayMessage }));
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
    ...(value.writeToken === undefined ? {} : { writeToken: { S: value.writeToken } }),
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

/** A log that keeps its lines, to read what the handler logged about a failure. */
function recordingLogger(): LogPort & { readonly lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, ...attributes: Record<string, unknown>[]) => void lines.push({ level, message, attributes: Object.assign({}, ...attributes) as Record<string, unknown> });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** No real waiting between rounds: the tests prove the rounds happen, not how long they wait. */
const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000, sleep: async () => undefined, random: () => 0.5 } as const;

/** The consumer against moto; `context` defaults to an invocation with plenty of time. */
function consumer(deps: Partial<SessionStreamDeps> = {}, context: Context = ROOMY_CONTEXT): (event: DynamoDBStreamEvent) => ReturnType<ReturnType<typeof createHandler>> {
  const handler = createHandler({
    putEvents: eventBridgePutEvents(eventBridge),
    putEventsDeadlines: MOTO_DEADLINES,
    eventBusName,
    replayQueue,
    retry: FAST_RETRY,
    clock: () => new Date('2031-01-01T00:00:00Z'),
    ...deps,
  });
  return (event) => handler(event, context);
}

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

  it('publishes a stream batch together: 21 records in 3 calls of at most 10', async () => {
    const records = Array.from({ length: 2 * MAX_ENTRIES_PER_CALL + 1 }, () => record('INSERT', undefined, session()));
    const response = await consumer()(streamEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    expect(putEventsCalls).toBe(Math.ceil(records.length / MAX_ENTRIES_PER_CALL));
    const events = await receiveEvents(records.length);
    expect(new Set(events.map((event) => event.detail.streamEventId))).toEqual(new Set(records.map((value) => value.eventID)));
  });
});

describe('throttled entries', () => {
  let bus: RefusingEventBridge | undefined;

  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  /** The stream record an entry was made from. */
  const streamEventIdOf = (entry: PutEventsRequestEntry): string => (JSON.parse(required(entry.Detail)) as SessionChangedDetail).streamEventId;

  /** EventBridge answering ThrottlingException for the entries `throttle` picks (the publisher's own retries are in event-publisher.test.ts). */
  async function throttlingEventBridge(throttle: (callOrdinal: number, streamEventId: string) => boolean): Promise<RefusingEventBridge> {
    bus = await startRefusingEventBridge((ordinal, entry) => (throttle(ordinal, streamEventIdOf(entry)) ? throttledPutEventsEntry() : undefined), MOTO_DEADLINES);
    return bus;
  }

  it('returns a record still throttled after the last round as a batch failure, and logs its full change (no data)', async () => {
    const records = [record('INSERT', undefined, session()), record('MODIFY', session(), session({ version: 2 }))];
    const logger = recordingLogger();
    const throttling = await throttlingEventBridge((_ordinal, id) => id === records[1]?.eventID);
    const response = await consumer({ putEvents: throttling.putEvents, logger, retry: { ...FAST_RETRY, maxAttempts: 3 } })(streamEvent(records));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(required(records[1])) }]);
    expect(throttling.entriesOfCalls()).toHaveLength(3);
    // Transient: left to the event source's retries, not parked (the failure queue would alarm on a blip).
    expect(await receiveReplays()).toEqual([]);
    const line = logger.lines.find((entry) => entry.level === 'error');
    expect(line?.message).toMatch(/not published/);
    expect(line?.attributes['sequenceNumber']).toBe(sequenceOf(required(records[1])));
    const replay = line?.attributes['replay'] as ReplayMessage;
    expect(replay).toMatchObject({ kind: REPLAY_MESSAGE_KIND, retryable: true, omittedAttributes: ['data'] });
    expect(replay.reason).toContain('ThrottlingException');
    expect(replay.record.dynamodb).toMatchObject({ Keys: records[1]?.dynamodb?.Keys, SequenceNumber: sequenceOf(required(records[1])) });
    expect(replay.record.dynamodb?.NewImage).toEqual({ ...records[1]?.dynamodb?.NewImage, data: undefined });
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
  });

  it("bounds the publisher's rounds by the invocation's own time and the handler's reserve", async () => {
    const records = [record('INSERT', undefined, session()), record('INSERT', undefined, session())];
    const throttling = await throttlingEventBridge((_ordinal, id) => id === records[0]?.eventID);
    // Exactly one call's worst case plus the handler's reserve: the first round starts, a backoff would not fit.
    const context = lambdaContext('session-stream', worstCaseCallMs(MOTO_DEADLINES) + 500);
    const response = await consumer({ putEvents: throttling.putEvents }, context)(streamEvent(records));
    expect(throttling.entriesOfCalls()).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(required(records[0])) }]);
    await receiveEvents(1);
  });
});

describe('changes that cannot be published', () => {
  it('parks every record with its full change when EventBridge refuses it for good (the bus does not exist)', async () => {
    const records = [record('INSERT', undefined, session()), record('MODIFY', session(), session({ version: 2 }))];
    const totals = new Map<string, number>();
    const response = await consumer({
      eventBusName: `eventbus-missing-${randomBytes(4).toString('hex')}`,
      metrics: { addMetric: (name: string, _unit: unknown, value: number) => void totals.set(name, value), publishStoredMetrics: () => undefined },
    })(streamEvent(records));
    // Parked, so the shard moves on instead of holding these records for five retries that cannot succeed.
    expect(response.batchItemFailures).toEqual([]);
    const replays = await receiveReplays();
    expect(replays.map(({ message }) => message.record.dynamodb?.SequenceNumber).sort()).toEqual(records.map(sequenceOf).sort());
    expect(Object.fromEntries(totals)).toEqual({ SessionEventsPublished: 0, SessionEventsFailed: 2, SessionChangesParked: 2 });
  });

  it('parks only the records whose entries EventBridge refused, matching results to entries by position', async () => {
    const records = [0, 1, 2].map(() => record('INSERT', undefined, session()));
    // moto itself refuses an entry without a DetailType; the second entry is sent without one.
    const dropSecondDetailType: PutEventsPort = (input: PutEventsCommandInput) =>
      eventBridgePutEvents(eventBridge)({
        Entries: (input.Entries ?? []).map((entry, index) => (index === 1 ? { ...entry, DetailType: undefined } : entry)),
      });
    const response = await consumer({ putEvents: dropSecondDetailType })(streamEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    const events = await receiveEvents(2);
    expect(events.map((event) => event.detail.streamEventId).sort()).toEqual([records[0]?.eventID, records[2]?.eventID].sort());
    const replays = await receiveReplays();
    expect(replays.map(({ message }) => message.record.eventID)).toEqual([records[1]?.eventID]);
    expect(replays[0]?.message.retryable).toBe(false);
  });

  it('parks a record that is not a session change and publishes the rest', async () => {
    const good = record('INSERT', undefined, session());
    const noImage = record('MODIFY', session(), session({ version: 2 }));
    delete noImage.dynamodb?.NewImage;
    const notASession = record('INSERT', undefined, session());
    delete notASession.dynamodb?.NewImage?.['accountId'];
    const response = await consumer()(streamEvent([good, noImage, notASession]));
    expect(response.batchItemFailures).toEqual([]);
    const events = await receiveEvents(1);
    expect(events.map((event) => event.detail.streamEventId)).toEqual([good.eventID]);
    const reasons = new Map((await receiveReplays()).map(({ message }) => [message.record.eventID, message.reason]));
    expect(reasons.get(noImage.eventID)).toContain('dynamodb.NewImage');
    expect(reasons.get(notASession.eventID)).toContain('accountId');
  });

  it('keeps everything a replay needs and no session data; invoking the consumer with the parked record publishes it', async () => {
    const expired = session({ accountId: 'acct-ttl', version: 4, writeToken: 'req:abc' });
    const ttlRecord = record('REMOVE', expired, undefined, { ttl: true });
    const withExtra = { ...required(ttlRecord.dynamodb?.OldImage), note: { S: 'hand-made' } };
    const parkedRecord: DynamoDBRecord = { ...ttlRecord, dynamodb: { ...ttlRecord.dynamodb, OldImage: withExtra } };
    const refuseAll: PutEventsPort = async (input) => ({
      FailedEntryCount: input.Entries?.length ?? 0,
      Entries: (input.Entries ?? []).map(() => ({ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' })),
    });
    expect((await consumer({ putEvents: refuseAll })(streamEvent([parkedRecord]))).batchItemFailures).toEqual([]);

    const [parked] = await receiveReplays();
    expect(parked?.raw).not.toContain(SECRET);
    expect(parked?.message).toMatchObject({ kind: REPLAY_MESSAGE_KIND, formatVersion: 1, retryable: false, omittedAttributes: ['data', 'note'], failedAt: '2031-01-01T00:00:00.000Z' });
    expect(parked?.message.reason).toContain('AccessDeniedException');
    const kept = required(parked?.message.record);
    expect(kept).toMatchObject({
      eventID: ttlRecord.eventID,
      eventName: 'REMOVE',
      eventSourceARN: ttlRecord.eventSourceARN,
      userIdentity: { type: 'Service', principalId: TTL_PRINCIPAL },
      dynamodb: { Keys: ttlRecord.dynamodb?.Keys, SequenceNumber: sequenceOf(ttlRecord), ApproximateCreationDateTime: CHANGED_AT, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    expect(Object.keys(kept.dynamodb?.OldImage ?? {}).sort()).toEqual(['accountId', 'createdAt', 'expiresAt', 'sessionId', 'updatedAt', 'version', 'writeToken']);

    // The replay an operator runs once the cause is fixed: the same event, with the same id to de-duplicate on.
    expect((await consumer()(streamEvent([kept]))).batchItemFailures).toEqual([]);
    const [event] = await receiveEvents(1);
    expect(event?.detail).toMatchObject({ streamEventId: ttlRecord.eventID, sessionId: expired.sessionId, change: 'REMOVE', version: 4, expired: true });
  });

  it('returns a record as a batch failure when it can be neither published nor parked', async () => {
    const records = [record('INSERT', undefined, session())];
    delete records[0]?.dynamodb?.NewImage;
    const logger = recordingLogger();
    const goneQueue = sqsReplayQueue(sqs, `${replayQueueUrl}-deleted`, SESSION_STREAM_CALL_DEADLINES);
    const response = await consumer({ replayQueue: goneQueue, logger })(streamEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequenceOf(required(records[0])) }]);
    const line = logger.lines.find((entry) => entry.level === 'error');
    expect(line?.message).toMatch(/could not be parked/);
    expect((line?.attributes['replay'] as ReplayMessage).record.eventID).toBe(records[0]?.eventID);
  });
});
