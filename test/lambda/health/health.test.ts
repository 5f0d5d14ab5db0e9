/**
 * The deep health handler against real dependencies: PostgreSQL as writer and reader, and in moto the database
 * secret, the session table and the SSM parameters. Covers each dependency down or hung, caching, and no leaks.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { healthSetupFromEnv, type HealthClients, type HealthSetup } from '../../../lambda/health/config';
import { createHandler, type HealthHandler } from '../../../lambda/health/handler';
import { HealthVerdictCache, type HealthReport } from '../../../lambda/health/health';
import { databaseProbe } from '../../../lambda/health/probes';
import { ConfigurationError } from '../../../lambda/shared/errors';
import type { EnvSource } from '../../../lambda/shared/env';
import { awsClientConfig, startOutagePostgres, testServices } from '../../support/services';
import { createHealthDependencies } from './fixture';
import { startSilentServer } from './silent-server';

const T0 = new Date('2031-05-01T08:00:00.000Z');
const CACHE_SECONDS = 5;
const TIMEOUT_MS = 1_000;

/** Calls made by each SDK client, by command name, counted by a middleware on the real client. */
const calls = new Map<string, number>();

let secrets: SecretsManagerClient;
let dynamodb: DynamoDBClient;
let ssm: SSMClient;
let secretArn: string;
let tableName: string;
let parameterPrefix: string;
let now: Date;
const setups: HealthSetup[] = [];

function count(commandName: string | undefined): void {
  const name = commandName ?? 'unknown';
  calls.set(name, (calls.get(name) ?? 0) + 1);
}

beforeAll(async () => {
  const aws = awsClientConfig();
  secrets = new SecretsManagerClient(aws);
  dynamodb = new DynamoDBClient(aws);
  dynamodb.middlewareStack.add((next, context) => async (args) => (count(context.commandName), next(args)), { step: 'initialize' });
  ssm = new SSMClient(aws);
  ssm.middlewareStack.add((next, context) => async (args) => (count(context.commandName), next(args)), { step: 'initialize' });
  const dependencies = await createHealthDependencies({ secrets, dynamodb, ssm }, 'health-t');
  secretArn = dependencies.secretArn;
  tableName = dependencies.tableName;
  parameterPrefix = dependencies.parameterPrefix;
});

beforeEach(async () => {
  now = T0;
  calls.clear();
  await putParameter('orders/trading-enabled', 'true');
  await putParameter('orders/max-order-notional', '250000.00');
});

afterEach(async () => {
  await Promise.all(setups.splice(0).map((setup) => setup.close()));
});

afterAll(() => {
  for (const client of [secrets, dynamodb, ssm]) client.destroy();
});

async function putParameter(path: string, value: string): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: `${parameterPrefix}/${path}`, Value: value, Type: 'String', Overwrite: true }));
}

/** The environment the CDK side gives the function, pointed at the local services. */
function environment(overrides: Record<string, string | undefined> = {}): EnvSource {
  const postgres = testServices().postgres;
  return {
    DB_SECRET_ARN: secretArn,
    DB_HOST: '127.0.0.1',
    DB_READER_HOST: '127.0.0.1',
    DB_PORT: String(postgres.port),
    DB_NAME: postgres.database,
    DB_SSL: 'false',
    SESSION_TABLE_NAME: tableName,
    TRADING_ENABLED_PARAMETER: `${parameterPrefix}/orders/trading-enabled`,
    MAX_ORDER_NOTIONAL_PARAMETER: `${parameterPrefix}/orders/max-order-notional`,
    HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
    HEALTH_CACHE_SECONDS: String(CACHE_SECONDS),
    ...overrides,
  };
}

/** A handler as a fresh container would have it (own pools, own cache), on the test's clock. */
function healthHandler(overrides: Record<string, string | undefined> = {}, clients: Partial<HealthClients> = {}): HealthHandler {
  const setup = healthSetupFromEnv({ secrets, dynamodb, ssm, ...clients }, environment(overrides));
  setups.push(setup);
  return createHandler({ ...setup, clock: () => now });
}

interface HealthBody {
  readonly status: string;
  readonly checks?: Record<string, string>;
  readonly tradingEnabled?: boolean;
  readonly checkedAt: string;
}

function bodyOf(result: APIGatewayProxyResult): HealthBody {
  return JSON.parse(result.body) as HealthBody;
}

const ALL_OK = { writer: 'ok', reader: 'ok', sessions: 'ok', config: 'ok' };

/** Nothing about where or why: no host, port, address, error text, table, parameter or secret name. */
function expectNoInternals(result: APIGatewayProxyResult): void {
  expect(Object.keys(bodyOf(result)).sort()).toEqual(expect.arrayContaining(['checkedAt', 'checks', 'status']));
  for (const key of Object.keys(bodyOf(result))) expect(['status', 'checks', 'tradingEnabled', 'checkedAt']).toContain(key);
  const postgres = testServices().postgres;
  const forbidden = [
    /127\.0\.0\.\d/,
    new RegExp(String(postgres.port)),
    /ECONN|ETIMEDOUT|timeout|refused|not found|exception|error/i,
    /table-sessions|trading\/t|rds-health|arn:/,
    /\bat \w+ \(/,
  ];
  for (const pattern of forbidden) expect(result.body).not.toMatch(pattern);
}

describe('healthy', () => {
  it('answers 200 with every check ok, the kill switch, and no-store', async () => {
    const result = await healthHandler()();
    expect(result.statusCode).toBe(200);
    // Route 53 matches this exact text.
    expect(result.body).toContain('"status":"ok"');
    expect(bodyOf(result)).toEqual({ status: 'ok', checks: ALL_OK, tradingEnabled: true, checkedAt: T0.toISOString() });
    expect(result.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
  });

  it('stays healthy with trading switched off: the kill switch is reported, not a failure', async () => {
    await putParameter('orders/trading-enabled', 'false');
    const result = await healthHandler()();
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ status: 'ok', tradingEnabled: false });
  });

  it('reads the table with a strongly consistent GetItem and both parameters in one call', async () => {
    await healthHandler()();
    expect(calls.get('GetItemCommand')).toBe(1);
    expect(calls.get('GetParametersCommand')).toBe(1);
  });
});

describe('each dependency down', () => {
  it('names the writer when it refuses connections', async () => {
    // 127.0.0.2 is loopback too, but PostgreSQL listens on 127.0.0.1 only: the connection is refused.
    const result = await healthHandler({ DB_HOST: '127.0.0.2' })();
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result)).toMatchObject({ status: 'unhealthy', checks: { ...ALL_OK, writer: 'fail' }, tradingEnabled: true });
    expectNoInternals(result);
  });

  it('names the reader when it refuses connections', async () => {
    const result = await healthHandler({ DB_READER_HOST: '127.0.0.2' })();
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).checks).toEqual({ ...ALL_OK, reader: 'fail' });
    expectNoInternals(result);
  });

  it('names the session table when it does not exist', async () => {
    const result = await healthHandler({ SESSION_TABLE_NAME: 'table-sessions-missing' })();
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).checks).toEqual({ ...ALL_OK, sessions: 'fail' });
    expectNoInternals(result);
  });

  it('names config when a parameter is missing, and leaves the kill switch out', async () => {
    const result = await healthHandler({ MAX_ORDER_NOTIONAL_PARAMETER: `${parameterPrefix}/orders/not-there` })();
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).checks).toEqual({ ...ALL_OK, config: 'fail' });
    expect(bodyOf(result).tradingEnabled).toBeUndefined();
    expectNoInternals(result);
  });

  it.each([
    ['orders/trading-enabled', 'yes'],
    ['orders/trading-enabled', 'TRUE-ish'],
    ['orders/max-order-notional', 'unlimited'],
    ['orders/max-order-notional', '-5'],
    ['orders/max-order-notional', '1e6'],
  ])('names config when %s is malformed (%j)', async (path, value) => {
    await putParameter(path, value);
    const result = await healthHandler()();
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).checks).toEqual({ ...ALL_OK, config: 'fail' });
    expect(result.body).not.toContain(value);
  });

  it('names writer and reader while PostgreSQL is stopped, and recovers once it is back', async () => {
    // A server of this test's own: stopping the run's shared one would fail other jest workers' tests.
    const outage = await startOutagePostgres();
    try {
      await runOutage(outage);
    } finally {
      await outage.close();
    }
  });

  async function runOutage(outage: Awaited<ReturnType<typeof startOutagePostgres>>): Promise<void> {
    const health = healthHandler({ DB_PORT: String(outage.port), DB_NAME: outage.database });
    expect((await health()).statusCode).toBe(200);
    await outage.stop('immediate');
    try {
      now = new Date(T0.getTime() + CACHE_SECONDS * 1_000);
      const down = await health();
      expect(down.statusCode).toBe(503);
      expect(bodyOf(down).checks).toEqual({ ...ALL_OK, writer: 'fail', reader: 'fail' });
      expectNoInternals(down);
    } finally {
      await outage.start();
    }
    now = new Date(T0.getTime() + 2 * CACHE_SECONDS * 1_000);
    // Same container: the broken pools were discarded, so the check reconnects.
    const recovered = await health();
    expect(recovered.statusCode).toBe(200);
    expect(bodyOf(recovered).checks).toEqual(ALL_OK);
  }
});

describe('timeouts', () => {
  it('fails a hung writer at its own timeout while the other checks pass', async () => {
    // A twin of PostgreSQL on another loopback address that accepts and never answers.
    const hung = await startSilentServer('127.0.0.3', testServices().postgres.port);
    try {
      const started = Date.now();
      const result = await healthHandler({ DB_HOST: '127.0.0.3', HEALTH_CHECK_TIMEOUT_MS: '500' })();
      const elapsed = Date.now() - started;
      expect(hung.connections()).toBeGreaterThanOrEqual(1);
      expect(result.statusCode).toBe(503);
      expect(bodyOf(result).checks).toEqual({ ...ALL_OK, writer: 'fail' });
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(1_500);
      expectNoInternals(result);
    } finally {
      await hung.close();
    }
  });

  it('fails hung AWS endpoints at their timeout, all checks in parallel', async () => {
    const hung = await startSilentServer();
    const hungConfig = { ...awsClientConfig(), endpoint: `http://127.0.0.1:${hung.port}`, maxAttempts: 1 };
    const hungSsm = new SSMClient(hungConfig);
    const hungDynamoDb = new DynamoDBClient(hungConfig);
    const hungDb = await startSilentServer('127.0.0.3', testServices().postgres.port);
    try {
      const started = Date.now();
      const result = await healthHandler({ DB_HOST: '127.0.0.3', HEALTH_CHECK_TIMEOUT_MS: '500' }, { ssm: hungSsm, dynamodb: hungDynamoDb })();
      const elapsed = Date.now() - started;
      expect(result.statusCode).toBe(503);
      expect(bodyOf(result).checks).toEqual({ writer: 'fail', reader: 'ok', sessions: 'fail', config: 'fail' });
      // Three hung dependencies cost one timeout, not three.
      expect(elapsed).toBeLessThan(1_500);
      expect(hung.connections()).toBeGreaterThanOrEqual(2);
      expectNoInternals(result);
    } finally {
      hungSsm.destroy();
      hungDynamoDb.destroy();
      await Promise.all([hung.close(), hungDb.close()]);
    }
  });
});

describe('cached verdict', () => {
  it('answers from the cache inside the window and checks again after it', async () => {
    const health = healthHandler();
    const first = await health();
    expect(first.statusCode).toBe(200);
    expect(calls.get('GetParametersCommand')).toBe(1);

    // A dependency breaks, but within the window nothing is asked again.
    await ssm.send(new DeleteParameterCommand({ Name: `${parameterPrefix}/orders/trading-enabled` }));
    now = new Date(T0.getTime() + CACHE_SECONDS * 1_000 - 1);
    const cached = await health();
    expect(cached.body).toBe(first.body);
    expect(calls.get('GetParametersCommand')).toBe(1);
    expect(calls.get('GetItemCommand')).toBe(1);

    now = new Date(T0.getTime() + CACHE_SECONDS * 1_000);
    const fresh = await health();
    expect(fresh.statusCode).toBe(503);
    expect(bodyOf(fresh)).toMatchObject({ checks: { ...ALL_OK, config: 'fail' }, checkedAt: now.toISOString() });
    expect(calls.get('GetParametersCommand')).toBe(2);
    expect(calls.get('GetItemCommand')).toBe(2);
  });

  it('caches a failure too, so a struggling dependency is not probed harder', async () => {
    await ssm.send(new DeleteParameterCommand({ Name: `${parameterPrefix}/orders/trading-enabled` }));
    const health = healthHandler();
    expect((await health()).statusCode).toBe(503);
    await putParameter('orders/trading-enabled', 'true');
    now = new Date(T0.getTime() + 1_000);
    expect((await health()).statusCode).toBe(503);
    expect(calls.get('GetParametersCommand')).toBe(1);
    now = new Date(T0.getTime() + CACHE_SECONDS * 1_000);
    expect((await health()).statusCode).toBe(200);
  });

  it('lets concurrent requests share the check in flight', async () => {
    const health = healthHandler();
    const results = await Promise.all(Array.from({ length: 8 }, () => health()));
    expect(new Set(results.map((result) => result.body)).size).toBe(1);
    expect(results.every((result) => result.statusCode === 200)).toBe(true);
    expect(calls.get('GetParametersCommand')).toBe(1);
    expect(calls.get('GetItemCommand')).toBe(1);
  });

  it('with a zero window still shares a check in flight but reuses nothing after it', async () => {
    const health = healthHandler({ HEALTH_CACHE_SECONDS: '0' });
    await Promise.all([health(), health()]);
    await health();
    expect(calls.get('GetParametersCommand')).toBe(2);
  });
});

describe('HealthVerdictCache', () => {
  const report: HealthReport = { status: 'ok', checks: { writer: 'ok', reader: 'ok', sessions: 'ok', config: 'ok' }, checkedAt: T0.toISOString() };

  it('does not keep a check that crashed: the next request runs a new one', async () => {
    let runs = 0;
    const cache = new HealthVerdictCache(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('probe wiring bug');
        return report;
      },
      { maxAgeMs: 5_000, clock: () => now },
    );
    await expect(cache.get()).rejects.toThrow('probe wiring bug');
    await expect(cache.get()).resolves.toBe(report);
    expect(runs).toBe(2);
  });
});

describe('healthSetupFromEnv', () => {
  it('defaults to a 2 s timeout and a 5 s cache', () => {
    const setup = healthSetupFromEnv({ secrets, dynamodb, ssm }, environment({ HEALTH_CHECK_TIMEOUT_MS: undefined, HEALTH_CACHE_SECONDS: undefined }));
    setups.push(setup);
    expect(setup.timeoutMs).toBe(2_000);
    expect(setup.cacheSeconds).toBe(5);
  });

  it.each([
    ['DB_READER_HOST unset', { DB_READER_HOST: undefined }, /DB_READER_HOST/],
    ['DB_SECRET_ARN empty', { DB_SECRET_ARN: '' }, /DB_SECRET_ARN/],
    ['SESSION_TABLE_NAME unset', { SESSION_TABLE_NAME: undefined }, /SESSION_TABLE_NAME/],
    ['TRADING_ENABLED_PARAMETER unset', { TRADING_ENABLED_PARAMETER: undefined }, /TRADING_ENABLED_PARAMETER/],
    ['HEALTH_CHECK_TIMEOUT_MS not an integer', { HEALTH_CHECK_TIMEOUT_MS: '2s' }, /HEALTH_CHECK_TIMEOUT_MS/],
    ['HEALTH_CACHE_SECONDS negative', { HEALTH_CACHE_SECONDS: '-1' }, /HEALTH_CACHE_SECONDS/],
  ])('fails the cold start with %s', (_case, overrides, message) => {
    expect(() => healthSetupFromEnv({ secrets, dynamodb, ssm }, environment(overrides))).toThrow(ConfigurationError);
    expect(() => healthSetupFromEnv({ secrets, dynamodb, ssm }, environment(overrides))).toThrow(message);
  });
});

describe('writer probe', () => {
  it('fails when the writer endpoint reaches an instance in recovery (a demoted writer after failover)', async () => {
    const inRecovery = { query: async () => ({ rows: [{ in_recovery: true }] }) } as unknown as Parameters<typeof databaseProbe>[0];
    await expect(databaseProbe(inRecovery, 'writer')(new AbortController().signal)).rejects.toThrow(/in recovery/);
    // The same answer is fine for the reader, which is always in recovery.
    await expect(databaseProbe(inRecovery, 'reader')(new AbortController().signal)).resolves.toBeUndefined();
  });
});
