/**
 * The EventBridge publisher against moto: more than 10 events are split into calls of at most 10 (moto, like
 * EventBridge, refuses more), and a fault that retrying cannot fix fails every event at once instead of looping.
 */
import { orderEvent } from '../../../lambda/shared/order-events';
import type { StoredOrder } from '../../../lambda/shared/order-records';
import { EventBridgeOrderPublisher, EventPublishError, eventBridgePutEvents } from '../../../lambda/order-processor/publisher';
import { silentLogger } from '../../../lambda/shared/observability';
import { createMotoFixture, drainEvents, fastBackoff, type MotoFixture } from './harness';

let fixture: MotoFixture;
const budget = { remainingMs: () => 30_000 };

beforeAll(async () => {
  fixture = await createMotoFixture();
});

function stored(clientOrderId: string): StoredOrder {
  return {
    accountId: 'ACC-P',
    clientOrderId,
    symbol: 'AAPL',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '1',
    limitPrice: '10',
    notional: '10',
    timeInForce: 'GTC',
    status: 'ACCEPTED',
    rejectReason: null,
    receivedAt: '2026-03-02T10:00:00.000Z',
    processedAt: '2026-03-02T10:00:01.000Z',
    sequenceNumber: '18849496460467696128',
  };
}

/** `count` events, each of its own group (account), so that all may go out together. */
const events = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: `msg-${index}`, group: `ACC-${index}`, event: orderEvent(stored(`p-${index}`), '1000') }));

const inGroup = (group: string, id: string) => ({ id, group, event: orderEvent(stored(id), '1000') });

it('publishes 12 events in calls of at most 10', async () => {
  const calls: number[] = [];
  const putEvents = eventBridgePutEvents(fixture.eventBridge);
  const publisher = new EventBridgeOrderPublisher(
    async (input) => {
      calls.push(input.Entries?.length ?? 0);
      return putEvents(input);
    },
    { eventBusName: fixture.eventBusName, logger: silentLogger, retry: fastBackoff },
  );
  await expect(publisher.publish(events(12), budget)).resolves.toEqual(new Map());
  expect(calls).toEqual([10, 2]);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  expect(published.map((captured) => captured.detail.clientOrderId).sort()).toEqual(
    Array.from({ length: 12 }, (_, index) => `p-${index}`).sort(),
  );
});

it('fails every event at once, without retrying, when the bus does not exist', async () => {
  let calls = 0;
  const putEvents = eventBridgePutEvents(fixture.eventBridge);
  const publisher = new EventBridgeOrderPublisher(
    async (input) => {
      calls += 1;
      return putEvents(input);
    },
    { eventBusName: 'eventbus-does-not-exist', logger: silentLogger, retry: fastBackoff },
  );
  const failures = await publisher.publish(events(2), budget);
  expect([...failures.keys()]).toEqual(['msg-0', 'msg-1']);
  expect(failures.get('msg-0')).toBeInstanceOf(EventPublishError);
  expect(failures.get('msg-0')).toMatchObject({ retryable: false });
  expect(calls).toBe(1);
});

it('publishes each group in order and stops a group at its first failure, leaving other groups alone', async () => {
  const calls: string[][] = [];
  const putEvents = eventBridgePutEvents(fixture.eventBridge);
  const publisher = new EventBridgeOrderPublisher(
    async (input) => {
      const ids = (input.Entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? '{}') as { clientOrderId: string }).clientOrderId);
      calls.push(ids);
      // EventBridge answers per entry (PutEventsResultEntry: EventId, or ErrorCode and ErrorMessage, positional:
      // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html). Here a2's entry is refused
      // the way a KMS-denied entry is, and the other entries really go to moto's bus.
      const refused = ids.indexOf('a2');
      if (refused < 0) return putEvents(input);
      const others = await putEvents({ Entries: (input.Entries ?? []).filter((_, index) => index !== refused) });
      const entries = [...(others.Entries ?? [])];
      entries.splice(refused, 0, { ErrorCode: 'KMSAccessDeniedException', ErrorMessage: 'not allowed to use the key' });
      return { Entries: entries, FailedEntryCount: (others.FailedEntryCount ?? 0) + 1 };
    },
    { eventBusName: fixture.eventBusName, logger: silentLogger, retry: fastBackoff },
  );
  await drainEvents(fixture, fixture.allEventsQueueUrl);
  const failures = await publisher.publish([inGroup('A', 'a1'), inGroup('A', 'a2'), inGroup('B', 'b1'), inGroup('A', 'a3'), inGroup('B', 'b2')], budget);
  // Round by round: one event per group, the next only after the previous one was accepted.
  expect(calls).toEqual([['a1', 'b1'], ['a2', 'b2']]);
  expect([...failures.keys()].sort()).toEqual(['a2', 'a3']);
  expect(failures.get('a3')?.message).toMatch(/an earlier event of group A was not accepted/);
  const published = await drainEvents(fixture, fixture.allEventsQueueUrl);
  expect(published.map((captured) => captured.detail.clientOrderId).sort()).toEqual(['a1', 'b1', 'b2']);
  // Every event carries the SQS sequence number, the account's order.
  expect(published.every((captured) => captured.detail.sequenceNumber === '18849496460467696128')).toBe(true);
});

it('does not start a call that could outlive the invocation', async () => {
  let calls = 0;
  const publisher = new EventBridgeOrderPublisher(
    async () => {
      calls += 1;
      return { Entries: [], FailedEntryCount: 0 };
    },
    { eventBusName: fixture.eventBusName, logger: silentLogger, retry: fastBackoff, callWorstCaseMs: 4_500, reserveMs: 1_000 },
  );
  const failures = await publisher.publish(events(3), { remainingMs: () => 5_000 });
  expect(calls).toBe(0);
  expect([...failures.keys()]).toEqual(['msg-0', 'msg-1', 'msg-2']);
  expect(failures.get('msg-0')?.message).toMatch(/PutEvents not started: 5000 ms left, a call may take 4500 ms/);
});
