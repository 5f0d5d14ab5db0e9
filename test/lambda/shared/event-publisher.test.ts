/**
 * The one EventBridge publisher against moto's bus (with the platform's rules routing to SQS queues the test reads),
 * refusals put in by a fault proxy the way EventBridge answers them: calls of at most 10 side by side, EventIds back
 * per id, retries of refused entries with backoff inside the invocation's time, and ordering per group.
 */
import { randomBytes } from 'node:crypto';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CallDeadlines } from '../../../lambda/shared/aws-clients';
import {
  EventBridgePublisher,
  eventBridgePutEvents,
  EventPublishError,
  MAX_ENTRIES_PER_CALL,
  type EventBridgePublisherOptions,
  type OutgoingEvent,
  type PutEventsPort,
} from '../../../lambda/shared/event-publisher';
import type { LogPort } from '../../../lambda/shared/observability';
import { refusedPutEventsEntry, throttledPutEventsEntry } from '../../support/aws-contracts/eventbridge';
import { startRefusingEventBridge, type EntryRefusal, type RefusingEventBridge } from '../../support/faults/refusing-event-bridge';
import { createMotoFixture, drainAllEvents, drainEvents, type MotoFixture } from '../order-processor/harness';

/** moto delivers each event to its targets in about 250 ms, one call at a time: a generous request deadline. */
const MOTO_DEADLINES: CallDeadlines = { connectionTimeoutMs: 1_000, requestTimeoutMs: 30_000, maxAttempts: 1 };
/** The worst case the tests declare for one call, and an invocation with plenty of time for many. */
const CALL_WORST_CASE_MS = 1_000;
const ROOMY = { remainingMs: () => 60_000 };
/** Full jitter pinned at half the window, no real waits; the waits are recorded. */
const waits: number[] = [];
const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000, random: () => 0.5, sleep: async (ms: number) => void waits.push(ms) } as const;

let fixture: MotoFixture;
let refusing: RefusingEventBridge | undefined;

beforeAll(async () => {
  fixture = await createMotoFixture();
});

beforeEach(async () => {
  waits.length = 0;
  await drainAllEvents(fixture);
});

afterEach(async () => {
  await refusing?.close();
  refusing = undefined;
});

function recordingLogger(): LogPort & { readonly lines: string[] } {
  const lines: string[] = [];
  const record = (message: string): void => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

function publisher(putEvents: PutEventsPort, options: Partial<EventBridgePublisherOptions> = {}): EventBridgePublisher {
  return new EventBridgePublisher(putEvents, {
    eventBusName: fixture.eventBusName,
    callWorstCaseMs: CALL_WORST_CASE_MS,
    retry: FAST_RETRY,
    logger: recordingLogger(),
    eventsName: 'test events',
    ...options,
  });
}

const run = randomBytes(3).toString('hex');
const event = (id: string, group?: string): OutgoingEvent => ({ id, ...(group === undefined ? {} : { group }), detailType: 'TestEvent', detail: { id, run } });
const idOf = (entry: PutEventsRequestEntry): string => (JSON.parse(entry.Detail ?? '{}') as { id: string }).id;

/** moto behind a proxy that refuses what `refuse` picks, as EventBridge does. */
async function refusingBus(refuse: EntryRefusal): Promise<RefusingEventBridge> {
  refusing = await startRefusingEventBridge(refuse, MOTO_DEADLINES);
  return refusing;
}

/** The ids of the events that reached the bus, by way of the platform's catch-all rule. */
async function onTheBus(): Promise<string[]> {
  return (await drainEvents(fixture, fixture.allEventsQueueUrl)).map((captured) => (captured.detail as unknown as { id: string }).id).sort();
}

describe('unordered', () => {
  it('sends 12 events in two calls (10 and 2) side by side, puts its bus and source on each, and returns every EventId', async () => {
    const sizes: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const putEvents = eventBridgePutEvents(fixture.eventBridge);
    const events = Array.from({ length: 12 }, (_, index) => event(`e${index}`));
    const result = await publisher(async (input) => {
      sizes.push(input.Entries?.length ?? 0);
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        return await putEvents(input);
      } finally {
        inFlight -= 1;
      }
    }).publish(events, ROOMY);

    expect(sizes.sort()).toEqual([10, 2].sort());
    expect(Math.max(...sizes)).toBe(MAX_ENTRIES_PER_CALL);
    expect(mostInFlight).toBe(2);
    expect(result.failed).toEqual(new Map());
    expect([...result.published.keys()].sort()).toEqual(events.map(({ id }) => id).sort());
    expect(new Set(result.published.values()).size).toBe(12);
    expect(await onTheBus()).toEqual(events.map(({ id }) => id).sort());
  });

  it("dates an event by its own time when it has one", async () => {
    const time = new Date('2030-03-17T17:46:40.000Z');
    await publisher(eventBridgePutEvents(fixture.eventBridge)).publish([{ ...event('dated'), time }], ROOMY);
    const [captured] = await drainEvents(fixture, fixture.allEventsQueueUrl);
    expect(captured?.source).toBe('trading.platform');
    expect(captured?.['detail-type']).toBe('TestEvent');
    expect(captured?.time).toBe('2030-03-17T17:46:40Z');
  });

  it('fails every event at once, without retrying, when the bus does not exist', async () => {
    let calls = 0;
    const putEvents = eventBridgePutEvents(fixture.eventBridge);
    const result = await publisher(
      async (input) => {
        calls += 1;
        return putEvents(input);
      },
      { eventBusName: 'eventbus-does-not-exist' },
    ).publish([event('m0'), event('m1')], ROOMY);
    expect([...result.failed.keys()]).toEqual(['m0', 'm1']);
    expect(result.failed.get('m0')).toBeInstanceOf(EventPublishError);
    expect(result.failed.get('m0')).toMatchObject({ retryable: false });
    expect(result.published).toEqual(new Map());
    expect(calls).toBe(1);
  });

  it('sends a throttled entry again after a backoff, only that one, and publishes every event once', async () => {
    const bus = await refusingBus((ordinal, entry) => (ordinal === 1 && idOf(entry) === 't1' ? throttledPutEventsEntry() : undefined));
    const logger = recordingLogger();
    const result = await publisher(bus.putEvents, { logger }).publish([event('t0'), event('t1'), event('t2')], ROOMY);

    expect(result.failed).toEqual(new Map());
    expect(bus.entriesOfCalls().map((entries) => entries.map(idOf))).toEqual([['t0', 't1', 't2'], ['t1']]);
    // Full jitter of the first backoff window (base 100 ms) with random() = 0.5.
    expect(waits).toEqual([50]);
    expect(logger.lines).toEqual(['some test events were not published, retrying']);
    expect(await onTheBus()).toEqual(['t0', 't1', 't2']);
  });

  it('gives up on an entry still throttled after the last round, as a retryable failure with its code', async () => {
    const bus = await refusingBus((_ordinal, entry) => (idOf(entry) === 's1' ? throttledPutEventsEntry() : undefined));
    const result = await publisher(bus.putEvents, { retry: { ...FAST_RETRY, maxAttempts: 3 } }).publish([event('s0'), event('s1')], ROOMY);
    expect(bus.entriesOfCalls()).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
    expect(result.failed.get('s1')).toMatchObject({ retryable: true, code: 'ThrottlingException' });
    expect(result.failed.get('s1')?.message).toBe('PutEvents did not accept the event: ThrottlingException: Rate exceeded');
    expect([...result.published.keys()]).toEqual(['s0']);
  });

  it('does not start a call that could outlive the invocation', async () => {
    let calls = 0;
    const result = await publisher(
      async () => {
        calls += 1;
        return { Entries: [], FailedEntryCount: 0 };
      },
      { callWorstCaseMs: 4_500, reserveMs: 1_000 },
    ).publish([event('n0'), event('n1'), event('n2')], { remainingMs: () => 5_000 });
    expect(calls).toBe(0);
    expect([...result.failed.keys()]).toEqual(['n0', 'n1', 'n2']);
    expect(result.failed.get('n0')?.message).toBe('PutEvents not started: 5000 ms left, a call may take 4500 ms plus 1000 ms to answer');
    // Transient: another invocation, with its own time, can publish it.
    expect(result.failed.get('n0')?.retryable).toBe(true);
  });

  it('does not start a retry round whose backoff and call would outlive the invocation', async () => {
    const bus = await refusingBus((_ordinal, entry) => (idOf(entry) === 'r0' ? throttledPutEventsEntry() : undefined));
    const logger = recordingLogger();
    // Exactly one call's worst case plus the reserve, held still (a clock-based deadline lost a millisecond before the
    // first check on a slow machine and failed CI): the first round starts, no backoff fits after it.
    const result = await publisher(bus.putEvents, { logger }).publish([event('r0'), event('r1')], { remainingMs: () => CALL_WORST_CASE_MS + 1_000 });
    expect(bus.entriesOfCalls()).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(logger.lines).toEqual(['test events not published and no time left to retry']);
    expect(result.failed.get('r0')).toMatchObject({ code: 'ThrottlingException' });
    expect([...result.published.keys()]).toEqual(['r1']);
  });

  it('fails an event whose detail cannot be serialised on its own, for good, and publishes the others', async () => {
    const result = await publisher(eventBridgePutEvents(fixture.eventBridge)).publish([{ ...event('big'), detail: { amount: 10n } }, event('fine')], ROOMY);
    expect(result.failed.get('big')).toMatchObject({ retryable: false });
    expect(result.failed.get('big')?.message).toMatch(/^the event's detail cannot be serialised: .*BigInt/);
    expect([...result.published.keys()]).toEqual(['fine']);
  });
});

describe('ordered per group', () => {
  it('sends each group in order, one event per group per call, and stops a group at its first failure', async () => {
    // a2 is refused the way a KMS-denied entry is (not retryable); the other entries really reach moto's bus.
    const bus = await refusingBus((_ordinal, entry) => (idOf(entry) === 'a2' ? refusedPutEventsEntry('KMSAccessDeniedException', 'not allowed to use the key') : undefined));
    const result = await publisher(bus.putEvents, { ordering: 'per-group' }).publish(
      [event('a1', 'A'), event('a2', 'A'), event('b1', 'B'), event('a3', 'A'), event('b2', 'B'), event('solo')],
      ROOMY,
    );
    // Round by round: one event per group, the next only after the previous one was accepted; an ungrouped event is a group of its own.
    expect(bus.entriesOfCalls().map((entries) => entries.map(idOf))).toEqual([['a1', 'b1', 'solo'], ['a2', 'b2']]);
    expect([...result.failed.keys()].sort()).toEqual(['a2', 'a3']);
    expect(result.failed.get('a2')).toMatchObject({ retryable: false, code: 'KMSAccessDeniedException' });
    expect(result.failed.get('a3')?.message).toBe(
      'not published: an earlier event of group A was not accepted (PutEvents did not accept the event: KMSAccessDeniedException: not allowed to use the key)',
    );
    expect([...result.published.keys()].sort()).toEqual(['a1', 'b1', 'b2', 'solo']);
    expect(await onTheBus()).toEqual(['a1', 'b1', 'b2', 'solo']);
  });

  it('sends events that are each alone in their group in one call, and a refusal fails only its own event', async () => {
    const bus = await refusingBus((_ordinal, entry) => (idOf(entry) === 'f2' ? refusedPutEventsEntry('KMSAccessDeniedException', 'not allowed to use the key') : undefined));
    // Three groups and an ungrouped event whose id is a group's name: four groups of one.
    const result = await publisher(bus.putEvents, { ordering: 'per-group' }).publish([event('e1', 'E'), event('f2', 'F'), event('h1', 'X'), event('X')], ROOMY);
    expect(bus.entriesOfCalls().map((entries) => entries.map(idOf))).toEqual([['e1', 'f2', 'h1', 'X']]);
    expect([...result.failed.keys()]).toEqual(['f2']);
    expect(result.failed.get('f2')).toMatchObject({ retryable: false, code: 'KMSAccessDeniedException' });
    expect([...result.published.keys()].sort()).toEqual(['X', 'e1', 'h1']);
  });

  it('retries a throttled head within its round before its group goes on', async () => {
    const bus = await refusingBus((ordinal, entry) => (ordinal === 1 && idOf(entry) === 'c1' ? throttledPutEventsEntry() : undefined));
    const result = await publisher(bus.putEvents, { ordering: 'per-group' }).publish([event('c1', 'C'), event('c2', 'C'), event('d1', 'D')], ROOMY);
    expect(bus.entriesOfCalls().map((entries) => entries.map(idOf))).toEqual([['c1', 'd1'], ['c1'], ['c2']]);
    expect(result.failed).toEqual(new Map());
    expect(await onTheBus()).toEqual(['c1', 'c2', 'd1']);
  });
});
