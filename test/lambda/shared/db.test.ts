/**
 * The database module against real services: the RDS-managed secret (AWS's documented shape) read from moto's
 * Secrets Manager, and a pool that survives PostgreSQL going away (stopped, restarted, password rotated).
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  DbPoolManager,
  parseDbSecret,
  readDbSecret,
  secretSettingsFromEnv,
  secretSettingsProvider,
} from '../../../lambda/shared/db';
import { ConfigurationError, isConnectionError, isTransientError, TransientError } from '../../../lambda/shared/errors';
import { BLACKHOLE, FORWARD, startTcpProxy } from '../../support/faults/tcp-proxy';
import type { LogPort } from '../../../lambda/shared/observability';
import { createRdsManagedSecret, rotateRdsManagedSecret } from '../../support/aws-contracts/rds-secret';
import {
  awsClientConfig,
  createTestDatabase,
  startOutagePostgres,
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

/** A secret that is not what RDS writes (hand-made, or damaged), to prove the validation. */
async function createHandMadeSecret(value: Record<string, unknown> | string): Promise<string> {
  const created = await secrets.send(
    new CreateSecretCommand({
      Name: `hand-made-${randomBytes(4).toString('hex')}`,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  if (created.ARN === undefined) throw new Error('moto returned no secret ARN');
  return created.ARN;
}

function localEndpoint(endpoint: PostgresEndpoint = database): { host: string; port: number; database: string; ssl: false } {
  return { host: endpoint.host, port: endpoint.port, database: endpoint.database, ssl: false };
}

describe('database secret', () => {
  it('reads the credentials from the secret exactly as RDS manages it (username and password only)', async () => {
    const arn = await createRdsManagedSecret(secrets, { username: database.user, password: database.password });
    await expect(readDbSecret(secrets, arn)).resolves.toEqual({ username: database.user, password: database.password });
  });

  it('connects with the RDS-managed secret and the endpoint from the environment contract', async () => {
    const arn = await createRdsManagedSecret(secrets, { username: database.user, password: database.password });
    const provider = secretSettingsFromEnv(secrets, {
      DB_SECRET_ARN: arn,
      DB_HOST: database.host,
      DB_PORT: String(database.port),
      DB_NAME: database.database,
      DB_SSL: 'false',
    });
    await expect(provider()).resolves.toEqual({ ...localEndpoint(), user: database.user, password: database.password });
    const manager = new DbPoolManager({ settings: provider });
    try {
      const result = await manager.query<{ database: string }>('select current_database() as database');
      expect(result.rows).toEqual([{ database: database.database }]);
    } finally {
      await manager.end();
    }
  });

  it('takes the endpoint from the environment even when a hand-made secret carries one', async () => {
    const arn = await createHandMadeSecret({ username: 'u', password: 'p', host: 'writer.elsewhere', port: 1, dbname: 'other' });
    const provider = secretSettingsProvider({ secrets, secretArn: arn, host: 'reader.cluster-ro.internal', port: 5432, database: 'trading' });
    await expect(provider()).resolves.toEqual({ host: 'reader.cluster-ro.internal', port: 5432, database: 'trading', user: 'u', password: 'p', ssl: true });
  });

  it('requires every variable of the environment contract, naming the missing or malformed one', () => {
    const complete = { DB_SECRET_ARN: 'arn:x', DB_HOST: 'writer', DB_PORT: '5432', DB_NAME: 'trading' };
    for (const name of Object.keys(complete)) {
      const without: Record<string, string> = { ...complete };
      delete without[name];
      expect(() => secretSettingsFromEnv(secrets, without)).toThrow(new RegExp(`${name} is required`));
    }
    expect(() => secretSettingsFromEnv(secrets, { ...complete, DB_PORT: 'five' })).toThrow(/DB_PORT.*"five"/);
    expect(() => secretSettingsFromEnv(secrets, { ...complete, DB_PORT: '70000' })).toThrow(/DB_PORT.*70000/);
    expect(() => secretSettingsFromEnv(secrets, { ...complete, DB_SSL: 'maybe' })).toThrow(/DB_SSL.*"maybe"/);
  });

  it('names the missing field, and never echoes the password', async () => {
    const arn = await createHandMadeSecret({ password: database.password });
    await expect(readDbSecret(secrets, arn)).rejects.toThrow(
      new ConfigurationError(`Database secret ${arn} has no valid "username": expected a non-empty string`),
    );
    expect(String(parseAttempt({ username: 42, password: 'p' }))).toMatch(/"username".*42/);
    const badPassword = parseAttempt({ username: 'u', password: 12345678 });
    expect(badPassword).toBeInstanceOf(ConfigurationError);
    expect(String(badPassword)).toMatch(/"password"/);
    expect(String(badPassword)).not.toMatch(/12345678/);
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
});

function parseAttempt(value: Record<string, unknown>): unknown {
  try {
    return parseDbSecret(JSON.stringify(value), 'test-secret');
  } catch (err) {
    return err;
  }
}

describe('a hung secret read', () => {
  it('fails pool creation at its deadline and lets the next call build the pool afresh', async () => {
    const motoPort = Number(new URL(awsClientConfig().endpoint).port);
    const proxy = await startTcpProxy(motoPort, '127.0.0.1', BLACKHOLE);
    // A client without deadlines of its own: the pool's deadline alone must unpin the container.
    const hungSecrets = new SecretsManagerClient({ ...awsClientConfig(), endpoint: proxy.url });
    const arn = await createRdsManagedSecret(secrets, { username: database.user, password: database.password });
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets: hungSecrets, secretArn: arn, ...localEndpoint() }),
      settingsTimeoutMs: 500,
    });
    try {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        manager.query('select 1', [], { retry: false }).then(
          () => 'answered',
          (err: unknown) => err,
        ),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve('still waiting after 5 s'), 5_000);
        }),
      ]);
      clearTimeout(timer);
      expect(outcome).toBeInstanceOf(TransientError);
      expect(String(outcome)).toMatch(/reading the database settings \(secret\) did not finish within 500 ms/);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(proxy.connections()).toBeGreaterThan(0);

      // Secrets Manager answers again: the same container recovers on its next call.
      proxy.setMode(FORWARD);
      await expect(manager.query<{ ok: number }>('select 1 as ok', [], { retry: false })).resolves.toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      await manager.end();
      hungSecrets.destroy();
      await proxy.close();
    }
  });
});

describe('DbPoolManager', () => {
  // Outages are staged on a server of this file's own, so other jest workers never see them.
  let outage: Awaited<ReturnType<typeof startOutagePostgres>>;
  beforeAll(async () => {
    outage = await startOutagePostgres();
  });
  afterAll(async () => {
    await outage.close();
  });

  it('reconnects after PostgreSQL is stopped and started again', async () => {
    const logger = recordingLogger();
    const manager = new DbPoolManager({ settings: async () => toDbSettings(outage.endpoint), logger, retry: fastRetry });
    try {
      await expect(manager.query('select 1')).resolves.toMatchObject({ rowCount: 1 });
      const poolBefore = await manager.pool();

      await outage.stop('fast');
      try {
        const outage = await manager.query('select 1', [], { retry: false }).catch((err: unknown) => err);
        // Whatever pg reports for a vanished server must be classified as worth retrying, and as a broken connection.
        expect(isTransientError(outage)).toBe(true);
        expect(isConnectionError(outage)).toBe(true);
      } finally {
        await outage.start();
      }

      await expect(manager.query<{ ok: number }>('select 1 as ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
      expect(await manager.pool()).not.toBe(poolBefore);
      expect(logger.messages).toContain('discarding database pool');
    } finally {
      await manager.end();
    }
  });

  it('survives the server dying while a connection is checked out between two statements', async () => {
    const logger = recordingLogger();
    const manager = new DbPoolManager({ settings: async () => toDbSettings(outage.endpoint), logger, retry: fastRetry });
    try {
      await manager.withClient(async (client) => {
        await client.query('select 1');
        // The crash lands while no statement runs: pg emits 'error' on the checked-out client. Without a listener
        // that is an uncaught exception, which in Lambda kills the container and fails every record of the batch.
        await outage.stop('immediate');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }, { retry: false });
      expect(logger.messages).toContain('database connection lost while in use');
    } finally {
      await outage.start();
    }
    try {
      await expect(manager.query<{ ok: number }>('select 1 as ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      await manager.end();
    }
  });

  it('rides out a crash-like outage inside one call by retrying with backoff', async () => {
    const logger = recordingLogger();
    const manager = new DbPoolManager({ settings: async () => toDbSettings(outage.endpoint), logger, retry: fastRetry });
    try {
      await manager.query('select 1');
      await outage.stop('immediate');
      // The server comes back while the query below is still retrying.
      const restart = new Promise<void>((resolve, reject) => {
        setTimeout(() => outage.start().then(resolve, reject), 300);
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
    const arn = await createRdsManagedSecret(secrets, { username: role, password: 'first-password' });
    const logger = recordingLogger();
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets, secretArn: arn, ...localEndpoint() }),
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
      await rotateRdsManagedSecret(secrets, arn, { username: role, password: 'second-password' });

      await expect(manager.query<{ who: string }>('select current_user as who')).resolves.toMatchObject({ rows: [{ who: role }] });
      expect(logger.messages).toContain('discarding database pool');
    } finally {
      await manager.end();
    }
  });

  it('retries once with re-read credentials when the cached password is rejected', async () => {
    const role = `app_${randomBytes(3).toString('hex')}`;
    await admin(database, (client) => client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'old-password'`));
    const arn = await createRdsManagedSecret(secrets, { username: role, password: 'old-password' });
    const manager = new DbPoolManager({
      settings: secretSettingsProvider({ secrets, secretArn: arn, ...localEndpoint() }),
      retry: fastRetry,
    });
    try {
      // The pool (and its settings) exist before the rotation, but no connection has been opened yet.
      const stalePool = await manager.pool();
      await admin(database, (client) => client.query(`ALTER ROLE ${role} PASSWORD 'new-password'`));
      await rotateRdsManagedSecret(secrets, arn, { username: role, password: 'new-password' });
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
