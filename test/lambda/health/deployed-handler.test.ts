/**
 * The deployed entry point of the health function, wired from the environment as Lambda runs it (secret, table and
 * parameters in moto through AWS_ENDPOINT_URL, PostgreSQL local): proves the cold-start wiring answers 200.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { handler } from '../../../lambda/health/handler';
import { lambdaContext } from '../../support/lambda-context';
import { awsClientConfig, testServices } from '../../support/services';

const context = lambdaContext('health', 10_000, 256);

const saved = { ...process.env };

afterAll(() => {
  process.env = saved;
});

it('answers 200 {"status":"ok",...} from the environment the CDK side sets', async () => {
  const aws = awsClientConfig();
  const postgres = testServices().postgres;
  const suffix = randomBytes(4).toString('hex');
  const secrets = new SecretsManagerClient(aws);
  const dynamodb = new DynamoDBClient(aws);
  const ssm = new SSMClient(aws);
  try {
    const secret = await secrets.send(
      new CreateSecretCommand({
        Name: `rds-deployed-t${suffix}`,
        SecretString: JSON.stringify({ username: postgres.user, password: postgres.password, host: postgres.host, port: postgres.port, dbname: postgres.database }),
      }),
    );
    const tableName = `table-sessions-deployed-t${suffix}`;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const tradingEnabled = `/trading/t${suffix}/orders/trading-enabled`;
    const maxOrderNotional = `/trading/t${suffix}/orders/max-order-notional`;
    await ssm.send(new PutParameterCommand({ Name: tradingEnabled, Value: 'true', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: maxOrderNotional, Value: '250000', Type: 'String' }));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      DB_SECRET_ARN: secret.ARN,
      DB_READER_HOST: postgres.host,
      DB_SSL: 'false',
      SESSION_TABLE_NAME: tableName,
      TRADING_ENABLED_PARAMETER: tradingEnabled,
      MAX_ORDER_NOTIONAL_PARAMETER: maxOrderNotional,
    });

    const result = await handler({}, context);
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('"status":"ok"');
  } finally {
    for (const client of [secrets, dynamodb, ssm]) client.destroy();
  }
});
