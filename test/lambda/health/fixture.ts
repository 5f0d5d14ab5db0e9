/**
 * The dependencies the health function checks, created in moto against the run's PostgreSQL: the database secret as
 * RDS writes it, a session table and the two runtime parameters. Shared by the health tests and bench/health-latency.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { createRdsManagedSecret } from '../../support/aws-contracts/rds-secret';
import { testServices } from '../../support/services';

export interface HealthDependencies {
  readonly secretArn: string;
  readonly tableName: string;
  /** `/trading/{prefix}{random}`: the parameters live below it. */
  readonly parameterPrefix: string;
  readonly tradingEnabledParameter: string;
  readonly maxOrderNotionalParameter: string;
}

/** Creates fresh, uniquely named dependencies; `label` keeps names of different callers apart. */
export async function createHealthDependencies(
  clients: { readonly secrets: SecretsManagerClient; readonly dynamodb: DynamoDBClient; readonly ssm: SSMClient },
  label: string,
): Promise<HealthDependencies> {
  const suffix = randomBytes(4).toString('hex');
  const postgres = testServices().postgres;
  // The secret as RDS manages it (credentials only); the endpoints come from the function's environment.
  const secretArn = await createRdsManagedSecret(clients.secrets, { username: postgres.user, password: postgres.password });
  const tableName = `table-sessions-${label}-${suffix}`;
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const parameterPrefix = `/trading/${label.replace(/[^a-z0-9]/g, '')}${suffix}`;
  const tradingEnabledParameter = `${parameterPrefix}/orders/trading-enabled`;
  const maxOrderNotionalParameter = `${parameterPrefix}/orders/max-order-notional`;
  await clients.ssm.send(new PutParameterCommand({ Name: tradingEnabledParameter, Value: 'true', Type: 'String', Overwrite: true }));
  await clients.ssm.send(new PutParameterCommand({ Name: maxOrderNotionalParameter, Value: '250000.00', Type: 'String', Overwrite: true }));
  return { secretArn, tableName, parameterPrefix, tradingEnabledParameter, maxOrderNotionalParameter };
}
