/**
 * The migration runner and the custom resource handler against a real PostgreSQL: applying, re-running, failing
 * cleanly, detecting edits, racing, and the orders table's constraints as the order processor will meet them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { createHandler, handler as deployedHandler, PHYSICAL_RESOURCE_ID } from '../../../lambda/db-migrate/handler';
import {
  applyMigrations,
  loadMigrations,
  MigrationError,
  migrationsFingerprint,
  type Migration,
} from '../../../lambda/db-migrate/migrate';
import { ConfigurationError } from '../../../lambda/shared/errors';
import { findFreePort } from '../../support/services/process-utils';
import { awsClientConfig, createTestDatabase, toDbSettings, type PostgresEndpoint } from '../../support/services';
import { createRdsManagedSecret } from '../../support/aws-contracts/rds-secret';

const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', 'lambda', 'db-migrate', 'migrations');

const tempDirs: string[] = [];

/** Writes `files` into a fresh temp dir and returns its path. */
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-test-'));
  tempDirs.push(dir);
  await Promise.all(Object.entries(files).map(([name, sql]) => writeFile(join(dir, name), sql)));
  return dir;
}

async function connect(endpoint: PostgresEndpoint): Promise<Client> {
  const client = new Client({ connectionString: endpoint.connectionString });
  await client.connect();
  return client;
}

/** Runs `fn` with a connection to a brand-new database. */
async function withFreshDatabase<T>(fn: (client: Client, endpoint: PostgresEndpoint) => Promise<T>): Promise<T> {
  const endpoint = await createTestDatabase('migrate_test');
  const client = await connect(endpoint);
  try {
    return await fn(client, endpoint);
  } finally {
    await client.end();
  }
}

async function tableExists(client: Client, table: string): Promise<boolean> {
  const result = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  return result.rows[0]?.exists ?? false;
}

async function appliedVersions(client: Client): Promise<number[]> {
  const result = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return result.rows.map((row) => row.version);
}

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loadMigrations', () => {
  it('loads the shipped migrations in version order with sha256 checksums', async () => {
    const migrations = await loadMigrations(MIGRATIONS_DIR);
    expect(migrations.map((migration) => migration.fileName)).toContain('0001_orders.sql');
    expect(migrations.map((migration) => migration.version)).toEqual(
      [...migrations.map((migration) => migration.version)].sort((a, b) => a - b),
    );
    for (const migration of migrations) expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sorts by version, ignores non-SQL files, and parses names', async () => {
    const dir = await migrationsDir({
      '0010_later.sql': 'SELECT 1;',
      '0002_add_fills.sql': 'SELECT 1;',
      'README.md': 'not a migration',
    });
    const migrations = await loadMigrations(dir);
    expect(migrations.map(({ version, name }) => ({ version, name }))).toEqual([
      { version: 2, name: 'add_fills' },
      { version: 10, name: 'later' },
    ]);
  });

  it.each([['1_orders.sql'], ['0001-orders.sql'], ['0001_Orders.sql'], ['0001_.sql'], ['0001_orders.SQL']])(
    'rejects the badly named file %s, naming it',
    async (fileName) => {
      const dir = await migrationsDir({ [fileName]: 'SELECT 1;' });
      const error = await loadMigrations(dir).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(String(error)).toContain(JSON.stringify(fileName));
    },
  );

  it('rejects duplicate versions, naming both files', async () => {
    const dir = await migrationsDir({ '0001_orders.sql': 'SELECT 1;', '0001_fills.sql': 'SELECT 1;' });
    await expect(loadMigrations(dir)).rejects.toThrow(/0001_fills\.sql and 0001_orders\.sql .* share version 0001/);
  });

  it('rejects an empty or missing folder, since that is a packaging fault', async () => {
    await expect(loadMigrations(await migrationsDir({}))).rejects.toThrow(ConfigurationError);
    await expect(loadMigrations('/nonexistent/migrations')).rejects.toThrow(/Cannot read migrations directory \/nonexistent/);
  });

  it('fingerprints content, so an edited file changes the fingerprint', async () => {
    const before = migrationsFingerprint(await loadMigrations(await migrationsDir({ '0001_a.sql': 'SELECT 1;' })));
    const after = migrationsFingerprint(await loadMigrations(await migrationsDir({ '0001_a.sql': 'SELECT 2;' })));
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  });
});

describe('applyMigrations', () => {
  let shipped: Migration[];

  beforeAll(async () => {
    shipped = await loadMigrations(MIGRATIONS_DIR);
  });

  it('applies every migration to a fresh database and records each one', async () => {
    await withFreshDatabase(async (client) => {
      const result = await applyMigrations(client, shipped);
      expect(result).toEqual({
        applied: shipped.map((migration) => migration.fileName),
        skipped: [],
        latestVersion: shipped[shipped.length - 1]?.version,
      });
      const rows = await client.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
        'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
      );
      expect(rows.rows.map(({ version, name, checksum }) => ({ version, name, checksum }))).toEqual(
        shipped.map(({ version, name, checksum }) => ({ version, name, checksum })),
      );
      expect(rows.rows[0]?.applied_at).toBeInstanceOf(Date);
      expect(await tableExists(client, 'orders')).toBe(true);
    });
  });

  it('is a no-op when run again', async () => {
    await withFreshDatabase(async (client) => {
      await applyMigrations(client, shipped);
      const again = await applyMigrations(client, shipped);
      expect(again.applied).toEqual([]);
      expect(again.skipped).toEqual(shipped.map((migration) => migration.fileName));
      expect(await appliedVersions(client)).toEqual(shipped.map((migration) => migration.version));
    });
  });

  it('applies only the new migrations on a later deploy', async () => {
    await withFreshDatabase(async (client) => {
      const first = await loadMigrations(await migrationsDir({ '0001_first.sql': 'CREATE TABLE first_table (id int);' }));
      await applyMigrations(client, first);
      const both = await loadMigrations(
        await migrationsDir({
          '0001_first.sql': 'CREATE TABLE first_table (id int);',
          '0002_second.sql': 'CREATE TABLE second_table (id int);',
        }),
      );
      await expect(applyMigrations(client, both)).resolves.toEqual({
        applied: ['0002_second.sql'],
        skipped: ['0001_first.sql'],
        latestVersion: 2,
      });
    });
  });

  it('rolls a failing migration back completely and names the file and the PostgreSQL error', async () => {
    const dir = await migrationsDir({
      '0001_good.sql': 'CREATE TABLE good_table (id int PRIMARY KEY);',
      '0002_bad.sql': [
        'CREATE TABLE partial_table (id int);',
        "INSERT INTO partial_table VALUES (1);",
        'INSERT INTO no_such_table VALUES (1);',
      ].join('\n'),
    });
    await withFreshDatabase(async (client) => {
      const error = await applyMigrations(client, await loadMigrations(dir)).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ fileName: '0002_bad.sql' });
      const message = String(error);
      expect(message).toContain('0002_bad.sql');
      expect(message).toContain('relation "no_such_table" does not exist');
      expect(message).toContain('SQLSTATE 42P01');
      expect(message).toContain('at line 3');

      // The good migration stays; nothing of the bad one does, neither its table nor its record.
      expect(await tableExists(client, 'good_table')).toBe(true);
      expect(await tableExists(client, 'partial_table')).toBe(false);
      expect(await appliedVersions(client)).toEqual([1]);

      // The session is usable and the lock released: a fixed file applies on the next deploy.
      const fixed = await loadMigrations(
        await migrationsDir({
          '0001_good.sql': 'CREATE TABLE good_table (id int PRIMARY KEY);',
          '0002_bad.sql': 'CREATE TABLE partial_table (id int);',
        }),
      );
      await expect(applyMigrations(client, fixed)).resolves.toMatchObject({ applied: ['0002_bad.sql'], latestVersion: 2 });
    });
  });

  it('refuses to continue when an applied migration was edited, naming the file', async () => {
    await withFreshDatabase(async (client) => {
      await applyMigrations(client, await loadMigrations(await migrationsDir({ '0001_orders.sql': 'CREATE TABLE t (id int);' })));
      const tampered = await loadMigrations(
        await migrationsDir({
          '0001_orders.sql': 'CREATE TABLE t (id bigint);',
          '0002_next.sql': 'CREATE TABLE next_table (id int);',
        }),
      );
      await expect(applyMigrations(client, tampered)).rejects.toThrow(
        /Migration 0001_orders\.sql was changed after it was applied/,
      );
      // Nothing after the tampered file ran.
      expect(await tableExists(client, 'next_table')).toBe(false);
      expect(await appliedVersions(client)).toEqual([1]);
    });
  });

  it('refuses a new migration numbered below the latest applied one', async () => {
    await withFreshDatabase(async (client) => {
      await applyMigrations(
        client,
        await loadMigrations(await migrationsDir({ '0001_a.sql': 'SELECT 1;', '0003_c.sql': 'SELECT 1;' })),
      );
      const withGap = await loadMigrations(
        await migrationsDir({ '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 1;', '0003_c.sql': 'SELECT 1;' }),
      );
      await expect(applyMigrations(client, withGap)).rejects.toThrow(/0002_b\.sql is new but numbered below .* 3/);
    });
  });

  it('tolerates applied versions missing from the bundle (a rollback to older code)', async () => {
    await withFreshDatabase(async (client) => {
      const files = { '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 1;' };
      await applyMigrations(client, await loadMigrations(await migrationsDir(files)));
      const warnings: string[] = [];
      const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message: string) => warnings.push(message) };
      const older = await loadMigrations(await migrationsDir({ '0001_a.sql': 'SELECT 1;' }));
      await expect(applyMigrations(client, older, { logger })).resolves.toEqual({
        applied: [],
        skipped: ['0001_a.sql'],
        latestVersion: 2,
      });
      expect(warnings).toHaveLength(1);
    });
  });

  it('lets two concurrent runs apply each migration exactly once', async () => {
    const dir = await migrationsDir({
      '0001_slow.sql': 'SELECT pg_sleep(0.3); CREATE TABLE slow_table (id int);',
      '0002_next.sql': 'CREATE TABLE next_table (id int);',
    });
    const migrations = await loadMigrations(dir);
    const endpoint = await createTestDatabase('migrate_race');
    const [first, second] = [await connect(endpoint), await connect(endpoint)];
    try {
      const results = await Promise.all([applyMigrations(first, migrations), applyMigrations(second, migrations)]);
      const allApplied = results.flatMap((result) => result.applied).sort();
      expect(allApplied).toEqual(['0001_slow.sql', '0002_next.sql']);
      expect(results.map((result) => result.latestVersion)).toEqual([2, 2]);
      expect(await appliedVersions(first)).toEqual([1, 2]);
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });

  it('gives up with a clear error when another run holds the lock too long', async () => {
    const migrations = await loadMigrations(await migrationsDir({ '0001_a.sql': 'SELECT 1;' }));
    const endpoint = await createTestDatabase('migrate_lock');
    const [holder, waiter] = [await connect(endpoint), await connect(endpoint)];
    try {
      await holder.query('SELECT pg_advisory_lock(1953720434, 1)');
      await expect(applyMigrations(waiter, migrations, { lockTimeoutMs: 200 })).rejects.toThrow(
        /Could not take the migration lock within 200 ms: another migration run holds it/,
      );
    } finally {
      await Promise.all([holder.end(), waiter.end()]);
    }
  });
});

describe('orders table', () => {
  let client: Client;

  beforeAll(async () => {
    client = await connect(await createTestDatabase('orders_schema'));
    await applyMigrations(client, await loadMigrations(MIGRATIONS_DIR));
  });

  afterAll(async () => {
    await client.end();
  });

  let sequence = 0;

  /** A valid accepted LIMIT order; each call gets its own idempotency key. */
  function order(overrides: Record<string, string | null> = {}): Record<string, string | null> {
    sequence += 1;
    return {
      client_order_id: `client-${sequence}`,
      account_id: 'ACC-1',
      symbol: 'AAPL',
      side: 'BUY',
      order_type: 'LIMIT',
      quantity: '10.5',
      limit_price: '187.25000001',
      time_in_force: 'GTC',
      status: 'ACCEPTED',
      reject_reason: null,
      notional: '1966.125000105',
      received_at: '2026-01-02T10:00:00Z',
      sqs_message_id: `msg-${sequence}`,
      ...overrides,
    };
  }

  /** The processor's idempotent insert; returns the rows actually inserted. */
  async function insert(row: Record<string, string | null>): Promise<Array<Record<string, unknown>>> {
    const columns = Object.keys(row);
    const result = await client.query<Record<string, unknown>>(
      `INSERT INTO orders (${columns.join(', ')})
       VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')})
       ON CONFLICT (client_order_id, account_id) DO NOTHING
       RETURNING order_id, quantity, limit_price, notional, status, created_at`,
      Object.values(row),
    );
    return result.rows;
  }

  async function violation(row: Record<string, string | null>): Promise<string | undefined> {
    const error = await insert(row).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (error === undefined) return undefined;
    expect(error).toMatchObject({ code: '23514' });
    return (error as { constraint?: string }).constraint;
  }

  it('accepts a valid limit order, generates its id, and keeps decimals exact', async () => {
    const [row] = await insert(order());
    expect(row).toMatchObject({
      quantity: '10.50000000',
      limit_price: '187.25000001',
      notional: '1966.125000105',
      status: 'ACCEPTED',
    });
    expect(row?.['order_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(row?.['created_at']).toBeInstanceOf(Date);
  });

  it('accepts a valid market order without a price, and a supplied order id', async () => {
    const orderId = '6f1c1f7e-8a4e-4d4e-9a51-3f3c2b1a0d9e';
    const [row] = await insert(
      order({ order_id: orderId, order_type: 'MARKET', limit_price: null, notional: null, time_in_force: 'IOC' }),
    );
    expect(row).toMatchObject({ order_id: orderId, limit_price: null });
  });

  it('makes a redelivered order a no-op through the (client_order_id, account_id) key', async () => {
    const first = order({ client_order_id: 'dup-1' });
    expect(await insert(first)).toHaveLength(1);
    expect(await insert({ ...first, sqs_message_id: 'redelivery', quantity: '99' })).toHaveLength(0);
    // The same client order id from another account is a different order.
    expect(await insert({ ...first, account_id: 'ACC-2' })).toHaveLength(1);
    const stored = await client.query<{ quantity: string }>(
      "SELECT quantity FROM orders WHERE client_order_id = 'dup-1' AND account_id = 'ACC-1'",
    );
    expect(stored.rows).toEqual([{ quantity: '10.50000000' }]);
  });

  it.each<[string, Record<string, string | null>, string]>([
    ['a negative quantity', { quantity: '-1' }, 'orders_quantity_check'],
    ['a zero quantity', { quantity: '0' }, 'orders_quantity_check'],
    ['a negative limit price', { limit_price: '-0.01' }, 'orders_limit_price_check'],
    ['a limit order without a price', { limit_price: null }, 'orders_limit_price_by_type_check'],
    ['a market order with a price', { order_type: 'MARKET' }, 'orders_limit_price_by_type_check'],
    ['an unknown side', { side: 'HOLD' }, 'orders_side_check'],
    ['an unknown order type', { order_type: 'STOP', limit_price: null }, 'orders_order_type_check'],
    ['an unknown time in force', { time_in_force: 'GTD' }, 'orders_time_in_force_check'],
    ['an unknown status', { status: 'PENDING' }, 'orders_status_check'],
    ['a lower-case symbol', { symbol: 'aapl' }, 'orders_symbol_check'],
    ['an empty client order id', { client_order_id: '' }, 'orders_client_order_id_check'],
    ['an accepted order with a reject reason', { reject_reason: 'why?' }, 'orders_reject_reason_check'],
    ['an incomplete accepted order', { symbol: null }, 'orders_accepted_complete_check'],
    ['a negative notional', { notional: '-5' }, 'orders_notional_check'],
  ])('rejects %s', async (_case, overrides, constraint) => {
    expect(await violation(order(overrides))).toBe(constraint);
  });

  it.each<[string, Record<string, string | null>, string]>([
    ['a NaN quantity', { quantity: 'NaN' }, 'orders_quantity_check'],
    ['a NaN limit price', { limit_price: 'NaN' }, 'orders_limit_price_check'],
    ['a NaN notional', { notional: 'NaN' }, 'orders_notional_check'],
    ['an infinite notional', { notional: 'Infinity' }, 'orders_notional_check'],
  ])('rejects %s, which NUMERIC can hold but money must not', async (_case, overrides, constraint) => {
    expect(await violation(order(overrides))).toBe(constraint);
  });

  it('rejects quantities beyond NUMERIC(20,8) instead of rounding them into range', async () => {
    await expect(insert(order({ quantity: 'Infinity' }))).rejects.toMatchObject({ code: '22003' });
    await expect(insert(order({ quantity: '1e12' }))).rejects.toMatchObject({ code: '22003' });
  });

  it('records a rejected order whose invalid values could not be stored typed', async () => {
    const rows = await insert(
      order({
        status: 'REJECTED',
        reject_reason: 'quantity must be greater than 0',
        quantity: null,
        limit_price: null,
        notional: null,
        request_payload: JSON.stringify({ quantity: '-5', orderType: 'LIMIT' }),
      }),
    );
    expect(rows).toHaveLength(1);
    expect(await violation(order({ status: 'REJECTED', reject_reason: null }))).toBe('orders_reject_reason_check');
  });

  it('has the indexes the lookups need', async () => {
    const result = await client.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'orders' ORDER BY indexname",
    );
    expect(result.rows.map((row) => row.indexname)).toEqual([
      'orders_account_client_order_key',
      'orders_account_created_at_idx',
      'orders_created_at_idx',
      'orders_pkey',
      'orders_rejected_created_at_idx',
    ]);
  });
});

describe('custom resource handler', () => {
  const base = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/data-dev/1',
    RequestId: 'request-1',
    LogicalResourceId: 'SchemaMigrations',
    ResourceType: 'Custom::SchemaMigrations',
  };
  const properties = { ServiceToken: base.ServiceToken, MigrationsDigest: 'abc' };
  const createEvent: CloudFormationCustomResourceCreateEvent = { ...base, RequestType: 'Create', ResourceProperties: properties };
  const updateEvent: CloudFormationCustomResourceUpdateEvent = {
    ...base,
    RequestType: 'Update',
    PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    ResourceProperties: { ...properties, MigrationsDigest: 'def' },
    OldResourceProperties: properties,
  };
  const deleteEvent: CloudFormationCustomResourceDeleteEvent = {
    ...base,
    RequestType: 'Delete',
    PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    ResourceProperties: properties,
  };

  it('migrates on Create, is a no-op on Update, and leaves the database alone on Delete', async () => {
    const endpoint = await createTestDatabase('migrate_handler');
    const handler = createHandler({ settings: async () => toDbSettings(endpoint), migrationsDir: MIGRATIONS_DIR });
    const shipped = await loadMigrations(MIGRATIONS_DIR);
    const latest = String(shipped[shipped.length - 1]?.version);

    await expect(handler(createEvent)).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { LatestVersion: latest, Applied: shipped.map((migration) => migration.fileName).join(',') },
    });
    await expect(handler(updateEvent)).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { LatestVersion: latest, Applied: '' },
    });
    await expect(handler(deleteEvent)).resolves.toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });

    const client = await connect(endpoint);
    try {
      expect(await tableExists(client, 'orders')).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('keeps retrying the connection while the database is unreachable', async () => {
    const endpoint = await createTestDatabase('migrate_handler_retry');
    const closedPort = await findFreePort();
    let calls = 0;
    const warnings: string[] = [];
    const handler = createHandler({
      // The first two attempts hit a port nobody listens on, like a cluster still resuming.
      settings: async () => {
        calls += 1;
        return calls <= 2 ? { ...toDbSettings(endpoint), port: closedPort } : toDbSettings(endpoint);
      },
      migrationsDir: MIGRATIONS_DIR,
      connectRetry: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50 },
      logger: { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message) => warnings.push(message) },
    });
    await expect(handler(createEvent)).resolves.toMatchObject({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
    expect(calls).toBe(3);
    expect(warnings.filter((message) => message === 'database not reachable yet, retrying')).toHaveLength(2);
  });

  it('fails the deploy with the file and the SQL error when a migration breaks', async () => {
    const endpoint = await createTestDatabase('migrate_handler_fail');
    const dir = await migrationsDir({ '0001_broken.sql': 'CREATE TABLE broken (id int REFERENCES nowhere(id));' });
    const handler = createHandler({ settings: async () => toDbSettings(endpoint), migrationsDir: dir });
    await expect(handler(createEvent)).rejects.toThrow(/0001_broken\.sql failed and was rolled back: relation "nowhere" does not exist/);
  });

  it('builds the deployed handler from the Lambda environment (secret in Secrets Manager)', async () => {
    const endpoint = await createTestDatabase('migrate_handler_env');
    const secrets = new SecretsManagerClient(awsClientConfig());
    // What the first deploy really has: the RDS-managed secret (credentials only) and the construct's DB_* variables.
    const secretArn = await createRdsManagedSecret(secrets, { username: endpoint.user, password: endpoint.password });
    secrets.destroy();
    const variables: Record<string, string> = {
      DB_SECRET_ARN: secretArn,
      DB_HOST: endpoint.host,
      DB_PORT: String(endpoint.port),
      DB_NAME: endpoint.database,
      DB_SSL: 'false',
      MIGRATIONS_DIR,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
    Object.assign(process.env, variables);
    try {
      // The SDK client inside finds moto through AWS_ENDPOINT_URL, which the test harness sets.
      await expect(deployedHandler(createEvent)).resolves.toMatchObject({
        PhysicalResourceId: PHYSICAL_RESOURCE_ID,
        Data: { Applied: '0001_orders.sql,0002_order_sequence_and_conflicts.sql' },
      });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('fails fast, before connecting, when the migrations folder is missing', async () => {
    let connected = false;
    const handler = createHandler({
      settings: async () => {
        connected = true;
        throw new Error('should not connect');
      },
      migrationsDir: '/nonexistent/migrations',
    });
    await expect(handler(createEvent)).rejects.toThrow(ConfigurationError);
    expect(connected).toBe(false);
  });
});
