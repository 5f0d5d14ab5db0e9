/**
 * The database module against real services: the RDS-shaped secret read from moto's Secrets Manager, and a
 * pool that survives PostgreSQL going away (stopped, restarted, password rotated) by reconnecting.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  DbPoolManager,
  parseDbSecret,
  readDbSecret,
  secretSettingsFromEnv,
  secretSettingsProvider,
} from '../../../lambda/shared/db';
import { ConfigurationError, isConnectionError, isTransientError } from '../../../lambda/shared/errors';
import type { LogPort } from '../../../lambda/shared/observability';
import {
  awsClientConfig,
  createTestDatabase,
  startPostgres,
  stopPostgres,
  toDbSettings,
  type PostgresEndpoint,
} from '../../support/services';

const fastRetry = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 400 };

function recordingLogger(): LogPort & { messages: string[] } {
  const messages: string[] = [];
  const record = (message: string): void => {
    messages.push(message);
  };
  return { messages, debug: record, info: record, warn: record, error: record };
}

async function admin<T>(endpoint: PostgresEndpoint, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let database: PostgresEndpoint;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  database = await createTestDatabase('db_test');
  secrets = new SecretsManagerClient(awsClientConfig());
});

afterAll(() => {
  secrets.destroy();
});

async function createSecret(value: Record<string, unknown> | string): Promise<string> {
  const created = await secrets.send(
    new CreateSecretCommand({
      Name: `rds-db-credentials/test-${randomBytes(4).toString('hex')}`,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  if (created.ARN === undefined) throw new Error('moto returned no secret ARN');
  return created.ARN;
}

function rdsSecret(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  // The shape RDS generates for an Aurora cluster secret.
  return {
    dbClusterIdentifier: 'aurora-trading-us-east-1-dev',
    engine: 'postgres',
    host: database.host,
    port: database.port,
    username: database.user,
    password: database.password,
    dbname: database.database,
    ...overrides,
  };
}

describe('database secret', () => {
  it('reads and validates the RDS-generated secret from Secrets Manager', async () => {
    const arn = await createSecret(rdsSecret());
    await expect(readDbSecret(secrets, arn)).resolves.toEqual({
      username: database.user,
      password: database.password,
      host: database.host,
      port: database.port,
      dbname: database.database,
      engine: 'postgres',
    });
  });

  it('names the missing field, and never echoes the password', async () => {
    const withoutHost = rdsSecret();
    delete withoutHost['host'];
    const arn = await createSecret(withoutHost);
    await expect(readDbSecret(secrets, arn)).rejects.toThrow(
      new ConfigurationError(`Database secret ${arn} has no valid "host": expected a non-empty string`),
    );

    const badPassword = parseAttempt(rdsSecret({ password: 12345678 }));
    expect(badPassword).toBeInstanceOf(ConfigurationError);
    expect(String(badPassword)).toMatch(/"password"/);
    expect(String(badPassword)).not.toMatch(/12345678/);
  });

  it('names a malformed port with its value and accepts a numeric string', () => {
    expect(String(parseAttempt(rdsSecret({ port: 'five' })))).toMatch(/"port".*"five"/);
    expect(String(parseAttempt(rdsSecret({ port: 70000 })))).toMatch(/"port".*70000/);
    expect(parseDbSecret(JSON.stringify(rdsSecret({ port: '5432' })), 'test').port).toBe(5432);
  });

  it('rejects a secret that is not a JSON object', () => {
    expect(() => parseDbSecret('not json', 'arn:x')).toThrow(/arn:x is not valid JSON/);
    expect(() => parseDbSecret('[]', 'arn:x')).toThrow(/must be a JSON object/);
  });

  it('turns a missing secret into a ConfigurationError naming it', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist-AbCdEf';
    await expect(readDbSecret(secrets, arn)).rejects.toThrow(ConfigurationError);
    await expect(readDbSecret(secrets, arn)).rejects.toThrow(/does-not-exist/);
  });

  it('builds settings from the environment contract of the database construct', async () => {
    const arn = await createSecret(rdsSecret({ dbname: undefined }));
    const provider = secretSettingsFromEnv(secrets, {
      DB_SECRET_ARN: arn,
      DB_HOST: 'reader.cluster-ro.example',
      DB_NAME: 'trading',
      DB_SSL: 'true',
    });
    await expect(provider()).resolves.toEqual({
      host: 'reader.cluster-ro.example',
      port: database.port,
      user: database.user,
      password: database.password,
      database: 'trading',
      ssl: true,
    });
    expect(() => secretSettingsFromEnv(secrets, {})).toThrow(/DB_SECRET_ARN is required/);
    expect(() => secretSettingsFromEnv(secrets, { DB_SECRET_ARN: arn, DB_SSL: 'maybe' })).toThrow(/DB_SSL.*"maybe"/);
  });

  it('connects a pool to PostgreSQL with settings read from the secret', async () => {
    const arn = await createSecret(rdsSecret());
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets, secretArn: arn, ssl: false }),
    });
    try {
      const result = await manager.query<{ database: string }>('select current_database() as database');
      expect(result.rows).toEqual([{ database: database.database }]);
    } finally {
      await manager.end();
    }
  });
});

function parseAttempt(value: Record<string, unknown>): unknown {
  try {
    return parseDbSecret(JSON.stringify(value), 'test-secret');
  } catch (err) {
    return err;
  }
}

describe('DbPoolManager', () => {
  it('reconnects after PostgreSQL is stopped and started again', async () => {
    const logger = recordingLogger();
    const manager = new DbPoolManager({ settings: async () => toDbSettings(database), logger, retry: fastRetry });
    try {
      await expect(manager.query('select 1')).resolves.toMatchObject({ rowCount: 1 });
      const poolBefore = await manager.pool();

      await stopPostgres({ mode: 'fast' });
      try {
        const outage = await manager.query('select 1', [], { retry: false }).catch((err: unknown) => err);
        // Whatever pg reports for a vanished server must be classified as worth retrying, and as a broken connection.
        expect(isTransientError(outage)).toBe(true);
        expect(isConnectionError(outage)).toBe(true);
      } finally {
        await startPostgres();
      }

      await expect(manager.query<{ ok: number }>('select 1 as ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
      expect(await manager.pool()).not.toBe(poolBefore);
      expect(logger.messages).toContain('discarding database pool');
    } finally {
      await manager.end();
    }
  });

  it('rides out a crash-like outage inside one call by retrying with backoff', async () => {
    const logger = recordingLogger();
    const manager = new DbPoolManager({ settings: async () => toDbSettings(database), logger, retry: fastRetry });
    try {
      await manager.query('select 1');
      await stopPostgres({ mode: 'immediate' });
      // The server comes back while the query below is still retrying.
      const restart = new Promise<void>((resolve, reject) => {
        setTimeout(() => startPostgres().then(resolve, reject), 300);
      });
      try {
        const result = await manager.query<{ ok: number }>('select 1 as ok');
        expect(result.rows).toEqual([{ ok: 1 }]);
      } finally {
        await restart;
      }
      expect(logger.messages).toContain('database operation failed, retrying');
    } finally {
      await manager.end();
    }
  });

  it('re-reads a rotated password from the secret and reconnects', async () => {
    const role = `app_${randomBytes(3).toString('hex')}`;
    await admin(database, (client) => client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'first-password'`));
    const arn = await createSecret(rdsSecret({ username: role, password: 'first-password' }));
    const logger = recordingLogger();
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets, secretArn: arn, ssl: false }),
      logger,
      retry: fastRetry,
    });
    try {
      await expect(manager.query<{ who: string }>('select current_user as who')).resolves.toMatchObject({ rows: [{ who: role }] });

      // What the rotation Lambda does: new password in the database and the secret, old sessions ended.
      await admin(database, async (client) => {
        await client.query(`ALTER ROLE ${role} PASSWORD 'second-password'`);
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
      });
      await secrets.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(rdsSecret({ username: role, password: 'second-password' })) }),
      );

      await expect(manager.query<{ who: string }>('select current_user as who')).resolves.toMatchObject({ rows: [{ who: role }] });
      expect(logger.messages).toContain('discarding database pool');
    } finally {
      await manager.end();
    }
  });

  it('retries once with re-read credentials when the cached password is rejected', async () => {
    const role = `app_${randomBytes(3).toString('hex')}`;
    await admin(database, (client) => client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'old-password'`));
    const arn = await createSecret(rdsSecret({ username: role, password: 'old-password' }));
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets, secretArn: arn, ssl: false }),
      retry: fastRetry,
    });
    try {
      // The pool (and its settings) exist before the rotation, but no connection has been opened yet.
      const stalePool = await manager.pool();
      await admin(database, (client) => client.query(`ALTER ROLE ${role} PASSWORD 'new-password'`));
      await secrets.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(rdsSecret({ username: role, password: 'new-password' })) }),
      );
      await expect(manager.query<{ who: string }>('select current_user as who')).resolves.toMatchObject({ rows: [{ who: role }] });
      expect(await manager.pool()).not.toBe(stalePool);

      // A secret that is simply wrong fails after that one refresh instead of looping.
      await admin(database, (client) => client.query(`ALTER ROLE ${role} PASSWORD 'third-password'`));
      manager.invalidate('test');
      await expect(manager.query('select 1')).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await manager.end();
    }
  });

  it('rolls back a failed transaction and does not retry a non-transient error', async () => {
    const manager = new DbPoolManager({ settings: async () => toDbSettings(database), retry: fastRetry });
    try {
      await manager.query('CREATE TABLE tx_probe (id int PRIMARY KEY)');
      let attempts = 0;
      const failing = manager.withTransaction(async (client) => {
        attempts += 1;
        await client.query('INSERT INTO tx_probe (id) VALUES (1)');
        await client.query('INSERT INTO tx_probe (id) VALUES (1)');
      });
      await expect(failing).rejects.toMatchObject({ code: '23505' });
      expect(attempts).toBe(1);
      await expect(manager.query('SELECT * FROM tx_probe')).resolves.toMatchObject({ rowCount: 0 });
    } finally {
      await manager.end();
    }
  });

  it('does not cache a failed settings read', async () => {
    let calls = 0;
    const manager = new DbPoolManager({
      settings: async () => {
        calls += 1;
        if (calls === 1) throw new ConfigurationError('secret not readable yet');
        return toDbSettings(database);
      },
      retry: fastRetry,
    });
    try {
      await expect(manager.query('select 1')).rejects.toThrow('secret not readable yet');
      await expect(manager.query('select 1')).resolves.toMatchObject({ rowCount: 1 });
      expect(calls).toBe(2);
    } finally {
      await manager.end();
    }
  });
});
