/**
 * Failed order records come back after a short backoff instead of the queue's 180 s visibility timeout, against a
 * real moto FIFO queue: the failed record and the record held behind it in its group are visible again within
 * seconds, while nothing else of the batch is redelivered.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { minimumTimeToDeadLetterSeconds, redeliveryDelaySeconds, scheduleRedelivery, sqsChangeVisibility, DEFAULT_REDELIVERY } from '../../../lambda/order-processor/redelivery';
import { silentLogger } from '../../../lambda/shared/observability';
import { awsClientConfig } from '../../support/services';
import { createMotoFixture, orderBody, queued, receiveBatch, sendOrders, type MotoFixture } from './harness';

let fixture: MotoFixture;
let sqs: SQSClient;

beforeAll(async () => {
  fixture = await createMotoFixture();
  sqs = new SQSClient(awsClientConfig());
});

afterAll(() => {
  sqs.destroy();
});

describe('the schedule', () => {
  it('doubles from the base, stays within [3/4, 1] of its step, and is capped', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((receive) => [redeliveryDelaySeconds(receive, DEFAULT_REDELIVERY, () => 0), redeliveryDelaySeconds(receive, DEFAULT_REDELIVERY, () => 0.999)]);
    expect(waits).toEqual([
      [4, 5],
      [8, 10],
      [15, 20],
      [30, 40],
      [60, 80],
      [120, 160],
      [225, 300],
      [225, 300],
      [225, 300],
    ]);
  });

  it('keeps a record in the queue for its whole schedule before SQS dead-letters it', () => {
    // With maxReceiveCount 15, a record survives at least 4+8+15+30+60+120 + 8 x 225 s = 2,037 s (34 minutes).
    expect(minimumTimeToDeadLetterSeconds(15, DEFAULT_REDELIVERY)).toBe(2_037);
  });
});

it('makes a failed record visible again after seconds, not the visibility timeout, and shortens held-back ones too', async () => {
  const alone = `REDEL-${randomBytes(3).toString('hex')}`;
  const pair = `PAIR-${randomBytes(3).toString('hex')}`;
  const other = `OTHER-${randomBytes(3).toString('hex')}`;
  await sendOrders(fixture, [
    queued(orderBody({ accountId: alone, clientOrderId: 'f1' })),
    queued(orderBody({ accountId: pair, clientOrderId: 'p1' })),
    queued(orderBody({ accountId: pair, clientOrderId: 'p2' })),
    queued(orderBody({ accountId: other, clientOrderId: 'o1' })),
  ]);
  const event = await receiveBatch(fixture);
  expect(event.Records).toHaveLength(4);
  const byOrder = (clientOrderId: string) => event.Records.find((record) => (JSON.parse(record.body) as { clientOrderId: string }).clientOrderId === clientOrderId);
  const [failed, pairFailed, pairHeldBack, succeeded] = [byOrder('f1'), byOrder('p1'), byOrder('p2'), byOrder('o1')];
  // f1 failed; p1 failed and p2 was held behind it (FIFO); o1 succeeded and is deleted (by the event source; here by hand).
  const response = { batchItemFailures: [failed, pairFailed, pairHeldBack].map((record) => ({ itemIdentifier: record?.messageId ?? '' })) };
  await sqs.send(new DeleteMessageCommand({ QueueUrl: fixture.ordersQueueUrl, ReceiptHandle: succeeded?.receiptHandle ?? '' }));

  const sent = new Map<string, number>();
  const realCall = sqsChangeVisibility(sqs);
  const highest = await scheduleRedelivery(event.Records, response, { remainingMs: () => 20_000 }, {
    changeVisibility: async (input) => {
      for (const entry of input.Entries) sent.set(entry.ReceiptHandle, entry.VisibilityTimeout);
      // moto differs from AWS here: after ChangeMessageVisibility on two messages of one FIFO group it only ever
      // returns the second, never the head. So moto gets the call for f1 (alone in its group), and the pair is
      // checked by what the processor asked SQS for: a group is released only when all its in-flight messages are.
      return realCall({ ...input, Entries: input.Entries.filter((entry) => entry.ReceiptHandle === failed?.receiptHandle) });
    },
    queueUrl: fixture.ordersQueueUrl,
    // 1 s for the first failure, so the test need not wait the production 4-5 s.
    schedule: { baseSeconds: 1, maxSeconds: 300 },
    callWorstCaseMs: 4_500,
    logger: silentLogger,
    random: () => 1,
  });
  expect(highest).toBe(1);
  expect([failed, pairFailed, pairHeldBack].map((record) => sent.get(record?.receiptHandle ?? ''))).toEqual([1, 1, 1]);
  expect(sent.has(succeeded?.receiptHandle ?? '')).toBe(false);

  // The fixture queue's visibility timeout is 30 s: a record received within ~3 s came back through the schedule.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: fixture.ordersQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
  expect((again.Messages ?? []).map((message) => (JSON.parse(message.Body ?? '{}') as { clientOrderId: string }).clientOrderId)).toEqual(['f1']);
  expect(again.Messages?.[0]?.Attributes?.['ApproximateReceiveCount']).toBe('2');
});

it('leaves the visibility timeout in place when there is no time for the call', async () => {
  let calls = 0;
  const highest = await scheduleRedelivery(
    [{ messageId: 'm', receiptHandle: 'r', body: '', attributes: { ApproximateReceiveCount: '4' } } as never],
    { batchItemFailures: [{ itemIdentifier: 'm' }] },
    { remainingMs: () => 1_000 },
    { changeVisibility: async () => ((calls += 1), {}), queueUrl: 'q', callWorstCaseMs: 4_500, logger: silentLogger },
  );
  expect(calls).toBe(0);
  expect(highest).toBe(4);
});
