/**
 * Latency of the deep /v1/health handler against local services (PostgreSQL as writer and reader, moto for the
 * secret, session table and parameters), every call a real check, and again with the reader hung.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { healthSetupFromEnv, type HealthSetup } from '../lambda/health/config';
import { createHandler } from '../lambda/health/handler';
import { createHealthDependencies } from '../test/lambda/health/fixture';
import { startSilentServer } from '../test/lambda/health/silent-server';
import { awsClientConfig, testServices } from '../test/support/services';
import { summarise, type LatencySummary } from './stats';

/** The deployed per-dependency timeout (HEALTH_CHECK_TIMEOUT_MS in lib/constructs/health-checks.ts). */
export const HEALTH_TIMEOUT_MS = 1_500;
export const HEALTHY_CALLS = 200;
/** Each call waits out the timeout, so fewer; p99 of these is their maximum. */
export const HUNG_READER_CALLS = 20;
const WARM_UP_CALLS = 5;
/** A loopback address PostgreSQL does not listen on, so a silent server can take PostgreSQL's port there. */
const HUNG_HOST = '127.0.0.3';

export interface HealthLatencyResult {
  readonly healthy: LatencySummary;
  readonly hungReader: LatencySummary;
}

export async function measureHealthLatency(progress: (line: string) => void): Promise<HealthLatencyResult> {
  // As the deployed handler builds them: standard retries, two attempts.
  const aws = { ...awsClientConfig(), retryMode: 'standard', maxAttempts: 2 };
  const secrets = new SecretsManagerClient(aws);
  const dynamodb = new DynamoDBClient(aws);
  const ssm = new SSMClient(aws);
  let configChecks = 0;
  // Counted on the real client: proof that every call ran a check rather than answering from a cache.
  ssm.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetParametersCommand') configChecks += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountConfigChecks' },
  );
  const postgres = testServices().postgres;
  const dependencies = await createHealthDependencies({ secrets, dynamodb, ssm }, 'bench-b');
  const environment = {
    DB_SECRET_ARN: dependencies.secretArn,
    DB_HOST: postgres.host,
    DB_READER_HOST: postgres.host,
    DB_PORT: String(postgres.port),
    DB_NAME: postgres.database,
    DB_SSL: 'false',
    SESSION_TABLE_NAME: dependencies.tableName,
    TRADING_ENABLED_PARAMETER: dependencies.tradingEnabledParameter,
    MAX_ORDER_NOTIONAL_PARAMETER: dependencies.maxOrderNotionalParameter,
    HEALTH_CHECK_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
    // 0 keeps only the sharing of a check already in flight; calls here are sequential, so each one runs a full check.
    HEALTH_CACHE_SECONDS: '0',
  };

  const series = async (label: string, overrides: Record<string, string>, calls: number, expected: (statusCode: number, body: string) => boolean): Promise<LatencySummary> => {
    progress(`health: ${calls} calls, ${label}`);
    const setup: HealthSetup = healthSetupFromEnv({ secrets, dynamodb, ssm }, { ...environment, ...overrides });
    const handler = createHandler(setup);
    try {
      const samples: number[] = [];
      for (let call = 0; call < WARM_UP_CALLS + calls; call += 1) {
        const checksBefore = configChecks;
        const started = process.hrtime.bigint();
        const result = await handler();
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (!expected(result.statusCode, result.body)) throw new Error(`health (${label}) answered ${result.statusCode} ${result.body}`);
        if (configChecks !== checksBefore + 1) throw new Error(`health (${label}) answered without running a check: the cache was not bypassed`);
        if (call >= WARM_UP_CALLS) samples.push(ms);
      }
      return summarise(samples);
    } finally {
      await setup.close();
    }
  };

  const hung = await startSilentServer(HUNG_HOST, postgres.port);
  try {
    const healthy = await series('all dependencies up', {}, HEALTHY_CALLS, (status, body) => status === 200 && body.includes('"status":"ok"'));
    const hungReader = await series(`reader hung (${HUNG_HOST}:${postgres.port} accepts and never answers)`, { DB_READER_HOST: HUNG_HOST }, HUNG_READER_CALLS, (status, body) => {
      const checks = (JSON.parse(body) as { checks?: Record<string, string> }).checks;
      return status === 503 && checks?.['reader'] === 'fail' && checks['writer'] === 'ok' && checks['sessions'] === 'ok' && checks['config'] === 'ok';
    });
    return { healthy, hungReader };
  } finally {
    await hung.close();
    for (const client of [secrets, dynamodb, ssm]) client.destroy();
  }
}
