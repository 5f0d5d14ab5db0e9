/**
 * The health function's settings and probes, built once per container from its environment and injected clients.
 * Tests call the same builder with an environment literal and clients pointed at moto and the local PostgreSQL.
 */
import { DbPoolManager, secretSettingsFromEnv, type SecretsPort } from '../shared/db';
import { intEnv, requireEnv, type EnvSource } from '../shared/env';
import { silentLogger, type LogPort } from '../shared/observability';
import type { HealthProbes } from './health';
import { configProbe, databaseProbe, sessionTableProbe, type DynamoDbPort, type SsmPort } from './probes';

export interface HealthClients {
  readonly secrets: SecretsPort;
  readonly dynamodb: DynamoDbPort;
  readonly ssm: SsmPort;
}

export interface HealthSetup {
  readonly probes: HealthProbes;
  readonly timeoutMs: number;
  readonly cacheSeconds: number;
  /** Closes the database pools; for tests (a Lambda container is simply frozen). */
  close(): Promise<void>;
}

/**
 * Environment: DB_SECRET_ARN, DB_HOST (writer), DB_PORT, DB_NAME, DB_SSL (see secretSettingsFromEnv); DB_READER_HOST,
 * SESSION_TABLE_NAME, TRADING_ENABLED_PARAMETER, MAX_ORDER_NOTIONAL_PARAMETER (required);
 * HEALTH_CHECK_TIMEOUT_MS (default 2000), HEALTH_CACHE_SECONDS (default 5).
 */
export function healthSetupFromEnv(clients: HealthClients, source: EnvSource = process.env, logger: LogPort = silentLogger): HealthSetup {
  const timeoutMs = intEnv('HEALTH_CHECK_TIMEOUT_MS', 2_000, { min: 100, max: 10_000, source });
  // Long enough to absorb every checker at once (Route 53 alone probes from many regions), short enough to notice an outage.
  const cacheSeconds = intEnv('HEALTH_CACHE_SECONDS', 5, { min: 0, max: 300, source });
  const pool = (settingsSource: EnvSource, applicationName: string): DbPoolManager =>
    new DbPoolManager({
      settings: secretSettingsFromEnv(clients.secrets, settingsSource),
      logger,
      applicationName,
      // One connection: checks never overlap in a container (the cache shares the one in flight).
      max: intEnv('DB_POOL_MAX', 1, { min: 1, max: 2, source }),
      // Within the check's own timeout, so a dead endpoint frees its slot by the next check, and a hung secret
      // read cannot pin the container to "database down" after Secrets Manager recovered.
      connectionTimeoutMs: timeoutMs,
      settingsTimeoutMs: timeoutMs,
      statementTimeoutMs: timeoutMs,
    });
  const writer = pool(source, 'health-writer');
  // Same secret and settings, only the host differs: the reader endpoint of the same cluster.
  const reader = pool({ ...source, DB_HOST: requireEnv('DB_READER_HOST', source) }, 'health-reader');
  return {
    probes: {
      writer: databaseProbe(writer, 'writer'),
      reader: databaseProbe(reader),
      sessions: sessionTableProbe(clients.dynamodb, requireEnv('SESSION_TABLE_NAME', source)),
      config: configProbe(clients.ssm, {
        tradingEnabled: requireEnv('TRADING_ENABLED_PARAMETER', source),
        maxOrderNotional: requireEnv('MAX_ORDER_NOTIONAL_PARAMETER', source),
      }),
    },
    timeoutMs,
    cacheSeconds,
    close: async () => {
      await Promise.all([writer.end(), reader.end()]);
    },
  };
}
