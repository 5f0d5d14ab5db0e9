/**
 * The deployed entry point of the sessions function, wired from the environment as Lambda runs it, with the SDK
 * pointed at moto through AWS_ENDPOINT_URL: proves the cold-start wiring; the logic is covered in sessions.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handler as sessionsHandler } from '../../../lambda/sessions/handler';
import { apiGatewayProxyEvent } from '../../support/aws-contracts/api-gateway-proxy';
import { lambdaContext } from '../../support/lambda-context';
import { awsClientConfig } from '../../support/services';

const context = lambdaContext('sessions', 10_000, 256);

function apiEvent(method: string, sessionId?: string, body?: string): APIGatewayProxyEvent {
  return apiGatewayProxyEvent({
    method,
    resource: sessionId === undefined ? '/sessions' : '/sessions/{sessionId}',
    path: sessionId === undefined ? '/sessions' : `/sessions/${sessionId}`,
    ...(sessionId === undefined ? {} : { pathParameters: { sessionId } }),
    ...(body === undefined ? {} : { body }),
  });
}

const saved = { ...process.env };

afterAll(() => {
  process.env = saved;
});

it('serves a session round trip through the deployed sessions handler', async () => {
  const aws = awsClientConfig();
  const tableName = `table-sessions-deployed-t${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient(aws);
  await admin.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  admin.destroy();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    SESSION_TABLE_NAME: tableName,
  });

  const created = await sessionsHandler(apiEvent('POST', undefined, JSON.stringify({ accountId: 'acct-1', data: { step: 1 } })), context);
  expect(created.statusCode).toBe(201);
  const { sessionId } = JSON.parse(created.body) as { sessionId: string };
  const read = await sessionsHandler(apiEvent('GET', sessionId), context);
  expect(read.statusCode).toBe(200);
  expect(JSON.parse(read.body)).toMatchObject({ sessionId, accountId: 'acct-1', data: { step: 1 }, version: 1 });
});
