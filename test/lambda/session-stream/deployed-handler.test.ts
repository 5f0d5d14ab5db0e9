/**
 * The deployed entry point of the session stream consumer, wired from the environment as Lambda runs it, with the
 * SDK pointed at moto through AWS_ENDPOINT_URL: proves the cold-start wiring publishes to the configured bus.
 */
import { randomBytes } from 'node:crypto';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '../../../lambda/session-stream/handler';
import { lambdaContext } from '../../support/lambda-context';
import { dynamoDbStreamRecord } from '../../support/aws-contracts/lambda-events';
import { awsClientConfig } from '../../support/services';

const context = lambdaContext('session-stream', 30_000, 256);

const saved = { ...process.env };

afterAll(() => {
  process.env = saved;
});

it('publishes a record to EVENT_BUS_NAME and reports no failures', async () => {
  const aws = awsClientConfig();
  const eventBusName = `eventbus-deployed-t${randomBytes(4).toString('hex')}`;
  const eventBridge = new EventBridgeClient(aws);
  await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  eventBridge.destroy();
  const sqs = new SQSClient(aws);
  const replayQueue = await sqs.send(new CreateQueueCommand({ QueueName: `session-stream-failures-deployed-t${randomBytes(4).toString('hex')}` }));
  sqs.destroy();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    EVENT_BUS_NAME: eventBusName,
    REPLAY_QUEUE_URL: replayQueue.QueueUrl,
  });

  const response = await handler(
    {
      Records: [
        dynamoDbStreamRecord({
          eventName: 'INSERT',
          keys: { sessionId: { S: 'session-1' } },
          newImage: { sessionId: { S: 'session-1' }, accountId: { S: 'acct-1' }, version: { N: '1' }, data: { S: '{}' } },
          approximateCreationDateTime: 1_900_000_000,
        }),
      ],
    },
    context,
  );
  expect(response).toEqual({ batchItemFailures: [] });
});
