/**
 * Database settings and one pg.Pool per Lambda container, built from the RDS secret, reconnecting after failover.
 * Settings come from an injectable provider, so tests hand in a local PostgreSQL and Lambdas the Aurora secret.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, Pool, type ClientConfig, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import {
  ConfigurationError,
  describeValue,
  errorMessage,
  isAuthenticationError,
  isConnectionError,
  isTransientError,
  TransientError,
} from './errors';
import { isJsonObject, parseJson } from './json';
import { boolEnv, intEnv, requireEnv, type EnvSource } from './env';
import { silentLogger, type LogPort } from './observability';
import { retry, type RetryOptions } from './retry';

/** Everything needed to open a connection. */
export interface DbSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /**
   * TLS with certificate verification. On for Aurora, where NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem makes
   * Node trust the RDS CA; off only for the local test server.
   */
  readonly ssl: boolean;
}

/** Called whenever a (new) pool needs settings, i.e. at cold start and after a connection failure. */
export type DbSettingsProvider = () => Promise<DbSettings>;

/**
 * The credentials in the master-user secret that RDS creates and rotates for a cluster with
 * `manageMasterUserPassword`. AWS documents its SecretString as `{"username":"...","password":"..."}` and nothing
 * else (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html), so the endpoint,
 * port and database never come from the secret: they are the function's environment (DB_HOST, DB_PORT, DB_NAME),
 * set by the database construct, which also picks writer or reader.
 */
export interface DbCredentials {
  readonly username: string;
  readonly password: string;
}

/** Only `send` is used, so tests may pass any SDK-shaped client pointed at moto. */
export type SecretsPort = Pick<SecretsManagerClient, 'send'>;

/**
 * Validates the secret JSON and returns its credentials; other keys (a hand-made or console-made secret may hold
 * host, port, engine, ...) are ignored on purpose. Messages name the field but never echo the password.
 */
export function parseDbSecret(secretString: string, secretId: string): DbCredentials {
  const parsed = parseJson(secretString);
  if (!parsed.ok) throw new ConfigurationError(`Database secret ${secretId} is not valid JSON`);
  const secret = parsed.value;
  if (!isJsonObject(secret)) throw new ConfigurationError(`Database secret ${secretId} must be a JSON object`);
  const requiredString = (name: 'username' | 'password', sensitive: boolean): string => {
    const value = secret[name];
    if (typeof value !== 'string' || value.trim() === '') {
      const shown = sensitive || value === undefined ? '' : ` (got ${describeValue(value)})`;
      throw new ConfigurationError(`Database secret ${secretId} has no valid "${name}": expected a non-empty string${shown}`);
    }
    return value;
  };
  return { username: requiredString('username', false), password: requiredString('password', true) };
}

/** Reads and validates the secret. Transient AWS faults pass through unchanged so callers' retries see them. */
export async function readDbSecret(secrets: SecretsPort, secretArn: string): Promise<DbCredentials> {
  let secretString: string | undefined;
  try {
    const response = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    secretString = response.SecretString;
  } catch (err) {
    if (isTransientError(err)) throw err;
    throw new ConfigurationError(`Could not read database secret ${secretArn}: ${errorMessage(err)}`, { cause: err });
  }
  if (secretString === undefined) {
    throw new ConfigurationError(`Database secret ${secretArn} has no SecretString (binary secrets are not supported)`);
  }
  return parseDbSecret(secretString, secretArn);
}

export interface SecretSettingsOptions {
  readonly secrets: SecretsPort;
  readonly secretArn: string;
  /** The endpoint to connect to: the cluster's writer endpoint, or its reader endpoint for read-only functions. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** @default true */
  readonly ssl?: boolean;
}

/**
 * A provider that reads the secret on every call. It does not cache on purpose: DbPoolManager calls it only when
 * it builds a pool, so a reconnect after failover or rotation always sees the current password.
 */
export function secretSettingsProvider(options: SecretSettingsOptions): DbSettingsProvider {
  return async () => {
    const credentials = await readDbSecret(options.secrets, options.secretArn);
    return {
      host: options.host,
      port: options.port,
      user: credentials.username,
      password: credentials.password,
      database: options.database,
      ssl: options.ssl ?? true,
    };
  };
}

/**
 * The settings provider every in-VPC function uses, from the variables the database construct sets
 * (`connectionEnvironment`): DB_SECRET_ARN, DB_HOST (writer or reader endpoint), DB_PORT and DB_NAME, all required
 * because the RDS-managed secret holds only the credentials; DB_SSL (default true; false only for local runs).
 * Read once here, so a missing variable fails the cold start with its name rather than the first query.
 */
export function secretSettingsFromEnv(secrets: SecretsPort, source: EnvSource = process.env): DbSettingsProvider {
  return secretSettingsProvider({
    secrets,
    secretArn: requireEnv('DB_SECRET_ARN', source),
    host: requireEnv('DB_HOST', source),
    port: intEnv('DB_PORT', undefined, { min: 1, max: 65535, source }),
    database: requireEnv('DB_NAME', source),
    ssl: boolEnv('DB_SSL', true, source),
  });
}

export interface ConnectionOptions {
  /**
   * Time allowed to open a connection (TCP + TLS + auth) before the attempt fails and the retry takes over.
   * @default 5000
   */
  readonly connectionTimeoutMs?: number;
  /**
   * Server-side statement_timeout; 0 disables it (the migration runner does, as DDL may be slow).
   * @default 10000
   */
  readonly statementTimeoutMs?: number;
  /** @default 'trading-platform' */
  readonly applicationName?: string;
}

/** How much longer than the server's statement_timeout the client waits before it gives up on a silent server. */
const QUERY_TIMEOUT_MARGIN_MS = 2_000;

/** Rejects with a TransientError when `promise` has not settled within `ms`; the late result is ignored. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The pg config both pools and single clients use, so TLS and timeouts cannot drift apart. */
export function toClientConfig(settings: DbSettings, options: ConnectionOptions = {}): ClientConfig {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    ssl: settings.ssl ? { rejectUnauthorized: true } : false,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    statement_timeout: statementTimeoutMs,
    // A writer that vanishes without a RST (failover, AZ loss) would otherwise leave the query waiting on a dead
    // socket until the Lambda times out; the client-side timeout turns that into a retryable error.
    ...(statementTimeoutMs > 0 ? { query_timeout: statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS } : {}),
    keepAlive: true,
    application_name: options.applicationName ?? 'trading-platform',
  };
}

/**
 * The longest one attempt of `statements` statements on `db` can take, from asking for the pool to the last answer:
 * the settings read if no pool exists, the connect, and each statement's client-side timeout (toClientConfig).
 * Callers holding a deadline start an attempt only when this much time is left. A function, not a method, so that
 * bundles of functions that never ask leave it out.
 */
export function dbAttemptWorstCaseMs(db: Pick<DbPoolManager, 'hasPool' | 'deadlines'>, statements: number): number {
  const statementTimeoutMs = db.deadlines.statementTimeoutMs ?? 10_000;
  const perStatement = statementTimeoutMs > 0 ? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS : 0;
  const settings = db.hasPool ? 0 : (db.deadlines.settingsTimeoutMs ?? 5_000);
  return settings + (db.deadlines.connectionTimeoutMs ?? 5_000) + statements * perStatement;
}

/** Opens one connection, e.g. for the migration runner, which needs a session rather than a pool. */
export async function connectClient(settings: DbSettings, options: ConnectionOptions = {}, logger: LogPort = silentLogger): Promise<Client> {
  const client = new Client(toClientConfig(settings, options));
  // An idle client whose server goes away emits 'error'; unhandled, that would crash the whole process.
  client.on('error', (err) => logger.warn('database connection lost', { error: errorMessage(err) }));
  await client.connect();
  return client;
}

export interface DbPoolOptions extends ConnectionOptions {
  readonly settings: DbSettingsProvider;
  /**
   * Deadline for reading the settings (the Secrets Manager call) when a pool is built. A read that never answers
   * would otherwise stay cached as the pool's creation and pin the container to "database down" long after the
   * dependency recovered; past the deadline the creation fails as transient and the next call starts a fresh one.
   * @default 5000
   */
  readonly settingsTimeoutMs?: number;
  /**
   * Connections per container. Small on purpose: one Lambda container handles one batch at a time, and
   * maxConcurrency x max must stay below the cluster's max_connections.
   * @default 2
   */
  readonly max?: number;
  /** @default 60000 */
  readonly idleTimeoutMs?: number;
  /**
   * Connections are recycled after this long so that, after a failover or secret rotation, none lingers on the old
   * server or credentials.
   * @default 300
   */
  readonly maxLifetimeSeconds?: number;
  /**
   * Backoff for withClient/query. The worst-case wait stays a few seconds: past that, the SQS redelivery is the
   * better retry, as it does not hold the whole batch.
   * @default { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 2000 }
   */
  readonly retry?: Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;
  /** @default silentLogger */
  readonly logger?: LogPort;
}

export interface WithClientOptions {
  /**
   * Retry on transient faults. Only for idempotent work: a failure after COMMIT was sent may hide a commit that
   * happened, so a retried non-idempotent write could apply twice. The order insert (ON CONFLICT DO NOTHING) is safe.
   * @default true
   */
  readonly retry?: boolean;
}

/**
 * Holds the container's pg.Pool: created lazily on first use, discarded on a connection-level failure (and on an
 * authentication failure, in case the password was rotated) so that the next attempt re-reads the settings and
 * reconnects. That is what makes an Aurora failover survivable without a cold start.
 */
export class DbPoolManager {
  private readonly options: DbPoolOptions;
  private readonly logger: LogPort;
  private poolPromise: Promise<Pool> | undefined;
  private activePool: Pool | undefined;

  constructor(options: DbPoolOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
  }

  /** The current pool, creating it (and reading the settings) if there is none. */
  async pool(): Promise<Pool> {
    if (this.poolPromise === undefined) {
      const creating = this.createPool();
      this.poolPromise = creating;
      // A failed creation (secret unreadable) must not be cached, or every later call would fail the same way.
      creating.catch(() => {
        if (this.poolPromise === creating) this.poolPromise = undefined;
      });
    }
    return this.poolPromise;
  }

  /**
   * Runs `fn` with a pooled connection. On failure the connection is destroyed rather than returned, since it may
   * be mid-transaction or broken; on a connection-level failure the whole pool is discarded.
   */
  withClient<T>(fn: (client: PoolClient) => Promise<T>, options: WithClientOptions = {}): Promise<T> {
    // No async function and no promise of pg-pool's: the checkout goes through its callback and the attempt is one
    // promise, plus the one `fn` returns. Each promise costs on every batch's path, several times more with the X-Ray
    // SDK's async hooks loaded (docs/performance.md, section 1).
    const once = (): Promise<T> => {
      const pool = this.activePool;
      if (pool === undefined) return this.pool().then((created) => this.attempt(created, fn));
      return this.attempt(pool, fn);
    };
    if (options.retry === false) return once();
    const retryOptions = this.options.retry ?? { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 2_000 };
    let credentialsRefreshed = false;
    return retry(once, {
      ...retryOptions,
      isRetryable: (err) => {
        if (isTransientError(err)) return true;
        // One more try with freshly read credentials; a second rejection means the secret itself is wrong.
        if (isAuthenticationError(err) && !credentialsRefreshed) {
          credentialsRefreshed = true;
          return true;
        }
        return false;
      },
      onRetry: ({ attempt, delayMs, error }) =>
        this.logger.warn('database operation failed, retrying', { attempt, delayMs, error: errorMessage(error) }),
    });
  }

  /** One checkout of `pool`, `fn` on the client, and the release: see withClient. */
  private attempt<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      pool.connect((connectError, client) => {
        // This runs inside pg-pool's callback: anything thrown here would be an uncaught exception, so all of it is caught.
        try {
          if (connectError !== undefined && connectError !== null) {
            if (isConnectionError(connectError) || isAuthenticationError(connectError)) this.discard(pool, connectError);
            reject(connectError);
            return;
          }
          if (client === undefined) throw new Error('the pool handed out no connection and no error');
          this.useClient(pool, client, fn, resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  /** Runs `fn` on the checked-out `client` and releases it, settling the attempt through `resolve` or `reject`. */
  private useClient<T>(
    pool: Pool,
    client: PoolClient,
    fn: (client: PoolClient) => Promise<T>,
    resolve: (result: T) => void,
    reject: (err: unknown) => void,
  ): void {
    // pg-pool listens for 'error' only on idle clients. A checked-out client whose server dies between two
    // statements emits 'error' too, and with no listener that is an uncaught exception that kills the container
    // (and every batch in it). The next statement on it fails anyway, so noting the loss is enough.
    let lost: unknown;
    const onLost = (err: unknown): void => {
      lost = err;
      this.logger.warn('database connection lost while in use', { error: errorMessage(err) });
    };
    client.on('error', onLost);
    const failed = (err: unknown): void => {
      try {
        client.removeListener('error', onLost);
        client.release(true);
        if (isConnectionError(err) || (lost !== undefined && isConnectionError(lost))) this.discard(pool, err);
      } finally {
        reject(err);
      }
    };
    let running: Promise<T>;
    try {
      running = fn(client);
    } catch (err) {
      failed(err);
      return;
    }
    running.then((result) => {
      try {
        client.removeListener('error', onLost);
        client.release(lost instanceof Error ? lost : undefined);
      } catch (err) {
        reject(err);
        return;
      }
      resolve(result);
    }, failed);
  }

  /** BEGIN / fn / COMMIT, with ROLLBACK on failure. Retried as a whole, so `fn` must be idempotent (see WithClientOptions). */
  async withTransaction<T>(fn: (client: PoolClient) => Promise<T>, options: WithClientOptions = {}): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // The connection is destroyed after a failure anyway; ROLLBACK just ends the transaction promptly on the server.
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, options);
  }

  /** One statement on a pooled connection, retried on transient faults (see WithClientOptions). */
  async query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
    options: WithClientOptions = {},
  ): Promise<QueryResult<R>> {
    return this.withClient((client) => client.query<R>(text, [...values]), options);
  }

  /** Drops the current pool so the next call re-reads the settings and reconnects. */
  invalidate(reason: unknown): void {
    if (this.activePool !== undefined) this.discard(this.activePool, reason);
  }

  /** Closes the pool; for tests and graceful shutdown (a Lambda container is simply frozen). */
  async end(): Promise<void> {
    const pool = this.activePool;
    this.poolPromise = undefined;
    this.activePool = undefined;
    if (pool !== undefined) await pool.end();
  }

  /** Whether a pool exists: without one, the next attempt first reads the settings (see dbAttemptWorstCaseMs). */
  get hasPool(): boolean {
    return this.activePool !== undefined;
  }

  /** The deadlines this manager's attempts run under, for dbAttemptWorstCaseMs. */
  get deadlines(): Pick<DbPoolOptions, 'settingsTimeoutMs' | 'connectionTimeoutMs' | 'statementTimeoutMs'> {
    return this.options;
  }

  private async createPool(): Promise<Pool> {
    const settings = await withDeadline(this.options.settings(), this.options.settingsTimeoutMs ?? 5_000, 'reading the database settings (secret)');
    const pool = new Pool({
      ...toClientConfig(settings, this.options),
      max: this.options.max ?? 2,
      idleTimeoutMillis: this.options.idleTimeoutMs ?? 60_000,
      maxLifetimeSeconds: this.options.maxLifetimeSeconds ?? 300,
    });
    // Emitted when an idle connection dies (server restart, failover). Unhandled, it would crash the container.
    pool.on('error', (err) => {
      this.logger.warn('idle database connection lost', { error: errorMessage(err) });
      this.discard(pool, err);
    });
    this.activePool = pool;
    this.logger.debug('database pool created', { host: settings.host, database: settings.database });
    return pool;
  }

  /** Retires `pool` if it is still the current one; a pool already replaced by a concurrent failure is left alone. */
  private discard(pool: Pool, reason: unknown): void {
    if (this.activePool !== pool) return;
    this.activePool = undefined;
    this.poolPromise = undefined;
    this.logger.warn('discarding database pool', { reason: errorMessage(reason) });
    // Not awaited: end() waits for checked-out clients, and the caller's retry should not.
    pool.end().catch((err: unknown) => this.logger.warn('closing discarded database pool failed', { error: errorMessage(err) }));
  }
}
