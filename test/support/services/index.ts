/**
 * What test files use to reach the run's real PostgreSQL and moto_server: endpoints, per-file databases,
 * SDK v3 client config, and private PostgreSQL servers for outage tests.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from './lifecycle';
import type { StopMode } from './postgres-server';
import { readState, type ServicesState } from './state';

export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** postgres://user:password@host:port/database */
  readonly connectionString: string;
}

export interface AwsClientConfig {
  readonly endpoint: string;
  readonly region: 'us-east-1';
  readonly credentials: { readonly accessKeyId: 'testing'; readonly secretAccessKey: 'testing' };
}

export interface TestServices {
  readonly postgres: PostgresEndpoint;
  readonly aws: AwsClientConfig;
}

export function testServices(): TestServices {
  const state = readState();
  const { host, port, user, password, database } = state.postgres;
  return {
    postgres: { host, port, user, password, database, connectionString: connectionString(host, port, user, password, database) },
    aws: awsConfigFrom(state),
  };
}

/** The endpoint as lambda/shared/db.ts DbSettings (TLS off: the local server has no certificate). */
export function toDbSettings(endpoint: PostgresEndpoint): {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: false;
} {
  const { host, port, user, password, database } = endpoint;
  return { host, port, user, password, database, ssl: false };
}

/** Config for any AWS SDK v3 client: `new SQSClient(awsClientConfig())`. */
export function awsClientConfig(): AwsClientConfig {
  return awsConfigFrom(readState());
}

let databaseCounter = 0;

/**
 * Creates a fresh, uniquely named database on the run's server so each test file owns its schema.
 * Not dropped afterwards: the whole cluster is deleted at the end of the run, which is cheaper.
 */
export async function createTestDatabase(prefix: string): Promise<PostgresEndpoint> {
  const admin = testServices().postgres;
  databaseCounter += 1;
  const stem = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'test';
  const suffix = `${process.pid}_${databaseCounter}_${randomBytes(3).toString('hex')}`;
  // PostgreSQL truncates identifiers at 63 bytes; truncate the stem ourselves so the unique suffix survives.
  const database = `${stem.slice(0, 63 - suffix.length - 1)}_${suffix}`;
  const client = new Client({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return { ...admin, database, connectionString: connectionString(admin.host, admin.port, admin.user, admin.password, database) };
}

/**
 * A PostgreSQL server of the calling test file's own, for "database went away" tests. The run's shared server is
 * never stopped: with more than one jest worker, other files would see the outage too.
 */
export async function startOutagePostgres(): Promise<PrivatePostgres & { readonly endpoint: PostgresEndpoint }> {
  const server = await startPrivatePostgres();
  const { host, port, user, password, database } = server;
  return { ...server, endpoint: { host, port, user, password, database, connectionString: connectionString(host, port, user, password, database) } };
}

function awsConfigFrom(state: ServicesState): AwsClientConfig {
  return {
    endpoint: state.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

function connectionString(host: string, port: number, user: string, password: string, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
}

export type { StopMode };
