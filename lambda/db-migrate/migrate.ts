/**
 * Applies versioned SQL migrations (NNNN_name.sql) exactly once each, in order, under an advisory lock.
 * Pure logic over a connected client port; the handler supplies the connection and the folder.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryResult, QueryResultRow } from 'pg';
import { AppError, ConfigurationError, errorMessage } from '../shared/errors';
import { silentLogger, type LogPort } from '../shared/observability';

export interface Migration {
  readonly version: number;
  /** The part after the version, e.g. `orders` for 0001_orders.sql. */
  readonly name: string;
  readonly fileName: string;
  readonly sql: string;
  /** sha256 of the file's bytes, hex. */
  readonly checksum: string;
}

/** The one thing migrations need from a connection; pg.Client and pg.PoolClient both satisfy it. */
export interface SqlClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

export interface MigrationResult {
  /** Files applied by this run, in order. */
  readonly applied: string[];
  /** Files found already applied (checksum verified). */
  readonly skipped: string[];
  /** Highest version recorded in schema_migrations after the run; 0 when none. */
  readonly latestVersion: number;
}

/** A migration could not be loaded, verified or applied; `fileName` says which, the message says why. */
export class MigrationError extends AppError {
  readonly retryable = false;

  constructor(
    message: string,
    readonly fileName: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

/**
 * Any constant works as long as every runner uses the same one; the two-int form keeps it readable in pg_locks
 * (classid 1953720434 is 'tr' 'ad' in ASCII, objid 1 = schema migrations).
 */
const LOCK_KEYS = [1953720434, 1] as const;

/**
 * Reads the migration files of `dir`, sorted by version. Other files (README, dotfiles) are ignored, but a `.sql`
 * file with a malformed name or a duplicate version is an error: silently skipping it would skip a schema change.
 */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new ConfigurationError(`Cannot read migrations directory ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const migrations: Migration[] = [];
  for (const fileName of entries.filter((entry) => entry.toLowerCase().endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(fileName);
    const versionText = match?.[1];
    const name = match?.[2];
    if (versionText === undefined || name === undefined) {
      throw new MigrationError(
        `Migration file name ${JSON.stringify(fileName)} in ${dir} is invalid: expected NNNN_lower_snake_name.sql, e.g. 0002_add_fills.sql`,
        fileName,
      );
    }
    const version = Number(versionText);
    if (version === 0) {
      throw new MigrationError(`Migration ${fileName} in ${dir} has version 0000: versions start at 0001`, fileName);
    }
    const duplicate = migrations.find((existing) => existing.version === version);
    if (duplicate !== undefined) {
      throw new MigrationError(
        `Migrations ${duplicate.fileName} and ${fileName} in ${dir} share version ${versionText}: renumber one of them`,
        fileName,
      );
    }
    const bytes = await readFile(join(dir, fileName));
    migrations.push({
      version,
      name,
      fileName,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  if (migrations.length === 0) {
    // Almost certainly a packaging fault (the folder was not bundled); deploying "successfully" would hide it.
    throw new ConfigurationError(`No migrations (NNNN_name.sql) found in ${dir}`);
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** A content fingerprint of the whole set; the CDK side can put it in the custom resource's properties so changed files trigger an Update. */
export function migrationsFingerprint(migrations: readonly Migration[]): string {
  const hash = createHash('sha256');
  for (const migration of migrations) hash.update(`${migration.fileName}:${migration.checksum}\n`);
  return hash.digest('hex');
}

export interface ApplyOptions {
  /** @default silentLogger */
  readonly logger?: LogPort;
  /**
   * How long to wait for a concurrent run to release the migration lock before failing.
   * @default 120000
   */
  readonly lockTimeoutMs?: number;
}

interface AppliedRow {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

/**
 * Applies every migration not yet recorded in schema_migrations, each in its own transaction together with its
 * schema_migrations row, so a failure leaves neither a partial schema change nor a record of it.
 *
 * Refuses to run when an applied file's checksum changed (the database would no longer match the code), or when
 * a new file is numbered below the latest applied one (environments would end up with different orders).
 * Applied versions missing from `migrations` are tolerated, with a warning: that is a CloudFormation rollback to
 * older code, and failing it would leave the stack in UPDATE_ROLLBACK_FAILED.
 *
 * Migration files must not contain BEGIN/COMMIT or statements that cannot run in a transaction
 * (CREATE INDEX CONCURRENTLY).
 */
export async function applyMigrations(
  client: SqlClient,
  migrations: readonly Migration[],
  options: ApplyOptions = {},
): Promise<MigrationResult> {
  const logger = options.logger ?? silentLogger;
  await acquireLock(client, options.lockTimeoutMs ?? 120_000);
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const appliedRows = (
      await client.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    ).rows;
    const appliedByVersion = new Map(appliedRows.map((row) => [row.version, row]));
    const latestApplied = appliedRows.reduce((max, row) => Math.max(max, row.version), 0);

    verify(migrations, appliedByVersion, latestApplied, logger);

    const applied: string[] = [];
    const skipped: string[] = [];
    for (const migration of migrations) {
      if (appliedByVersion.has(migration.version)) {
        skipped.push(migration.fileName);
        continue;
      }
      await applyOne(client, migration, logger);
      applied.push(migration.fileName);
    }
    const latest = await client.query<{ latest: number | null }>('SELECT max(version) AS latest FROM schema_migrations');
    return { applied, skipped, latestVersion: latest.rows[0]?.latest ?? 0 };
  } finally {
    // A broken connection releases the lock by itself; only report, never mask the original error.
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]).catch((err: unknown) => {
      logger.warn('could not release the migration lock', { error: errorMessage(err) });
    });
  }
}

/**
 * Session-level, not per transaction: it must cover reading the applied set and every migration after it.
 * Taken before CREATE TABLE IF NOT EXISTS, which itself races when two sessions run it at once. Bounded by
 * lock_timeout, because a runner killed mid-way can leave its session (and lock) open until TCP keepalive ends it.
 */
async function acquireLock(client: SqlClient, lockTimeoutMs: number): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(0, Math.floor(lockTimeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK_KEYS]);
  } catch (err) {
    throw new MigrationError(
      `Could not take the migration lock within ${lockTimeoutMs} ms: another migration run holds it (${errorMessage(err)})`,
      undefined,
      { cause: err },
    );
  } finally {
    // The migrations themselves run without our timeout; a file that wants one sets it with SET LOCAL.
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

function verify(
  migrations: readonly Migration[],
  appliedByVersion: ReadonlyMap<number, AppliedRow>,
  latestApplied: number,
  logger: LogPort,
): void {
  for (const migration of migrations) {
    const row = appliedByVersion.get(migration.version);
    if (row === undefined) {
      if (migration.version < latestApplied) {
        throw new MigrationError(
          `Migration ${migration.fileName} is new but numbered below the latest applied version ${latestApplied}: ` +
            'renumber it after the latest one so every environment applies migrations in the same order',
          migration.fileName,
        );
      }
    } else if (row.checksum !== migration.checksum) {
      throw new MigrationError(
        `Migration ${migration.fileName} was changed after it was applied (checksum ${row.checksum} in schema_migrations, ` +
          `${migration.checksum} on disk): never edit an applied migration, add a new one`,
        migration.fileName,
      );
    }
  }
  const known = new Set(migrations.map((migration) => migration.version));
  for (const row of appliedByVersion.values()) {
    if (!known.has(row.version)) {
      logger.warn('applied migration not present in this bundle (older code deployed?)', { version: row.version, name: row.name });
    }
  }
}

async function applyOne(client: SqlClient, migration: Migration, logger: LogPort): Promise<void> {
  logger.info('applying migration', { file: migration.fileName });
  const started = Date.now();
  await client.query('BEGIN');
  try {
    // No parameters: the simple query protocol, which accepts the file's many statements in one call.
    await client.query(migration.sql);
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(`Migration ${migration.fileName} failed and was rolled back: ${describeSqlError(err, migration.sql)}`, migration.fileName, {
      cause: err,
    });
  }
  logger.info('applied migration', { file: migration.fileName, durationMs: Date.now() - started });
}

/** PostgreSQL's message plus SQLSTATE, line and detail, which pg keeps in separate fields. */
function describeSqlError(err: unknown, sql: string): string {
  const parts = [errorMessage(err)];
  if (typeof err === 'object' && err !== null) {
    const code: unknown = Reflect.get(err, 'code');
    const position: unknown = Reflect.get(err, 'position');
    const detail: unknown = Reflect.get(err, 'detail');
    const hint: unknown = Reflect.get(err, 'hint');
    if (typeof code === 'string') parts.push(`(SQLSTATE ${code})`);
    // `position` is a 1-based character offset into the text we sent, i.e. into the file.
    if (typeof position === 'string' && /^\d+$/.test(position)) {
      parts.push(`at line ${sql.slice(0, Number(position) - 1).split('\n').length}`);
    }
    if (typeof detail === 'string') parts.push(`- ${detail}`);
    if (typeof hint === 'string') parts.push(`- hint: ${hint}`);
  }
  return parts.join(' ');
}
