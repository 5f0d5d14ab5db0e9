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
  };
}

const events = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: `msg-${index}`, event: orderEvent(stored(`p-${index}`), '1000') }));

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
