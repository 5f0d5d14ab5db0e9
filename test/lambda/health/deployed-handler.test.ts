/**
 * The deployed entry point of the health function, wired from the environment as Lambda runs it (secret, table and
 * parameters in moto through AWS_ENDPOINT_URL, PostgreSQL local): proves the cold-start wiring answers 200.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { handler } from '../../../lambda/health/handler';
import { lambdaContext } from '../../support/lambda-context';
import { createHealthDependencies } from './fixture';
import { awsClientConfig, testServices } from '../../support/services';

const context = lambdaContext('health', 10_000, 256);

const saved = { ...process.env };

afterAll(() => {
  process.env = saved;
});

it('answers 200 {"status":"ok",...} from the environment the CDK side sets', async () => {
  const aws = awsClientConfig();
  const postgres = testServices().postgres;
  const secrets = new SecretsManagerClient(aws);
  const dynamodb = new DynamoDBClient(aws);
  const ssm = new SSMClient(aws);
  try {
    const { secretArn, tableName, tradingEnabledParameter, maxOrderNotionalParameter } = await createHealthDependencies({ secrets, dynamodb, ssm }, 'deployed-t');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The variables DatabaseCluster.connectionEnvironment('writer') and the health construct set.
      DB_SECRET_ARN: secretArn,
      DB_HOST: postgres.host,
      DB_PORT: String(postgres.port),
      DB_NAME: postgres.database,
      DB_READER_HOST: postgres.host,
      DB_SSL: 'false',
      SESSION_TABLE_NAME: tableName,
      TRADING_ENABLED_PARAMETER: tradingEnabledParameter,
      MAX_ORDER_NOTIONAL_PARAMETER: maxOrderNotionalParameter,
    });

    const result = await handler({}, context);
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('"status":"ok"');
  } finally {
    for (const client of [secrets, dynamodb, ssm]) client.destroy();
  }
});
