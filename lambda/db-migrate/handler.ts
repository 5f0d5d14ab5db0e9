/**
 * CloudFormation custom resource (CDK Provider framework onEvent) that applies the schema migrations on deploy.
 * Create/Update connect with backoff (Aurora Serverless may be resuming) and migrate; Delete leaves the database alone.
 */
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { connectClient, secretSettingsFromEnv, type DbSettingsProvider } from '../shared/db';
import { errorMessage, isTransientError } from '../shared/errors';
import { optionalEnv } from '../shared/env';
import { createAwsClient } from '../shared/aws-clients';
import { lambdaEntryPoint, silentLogger, type LogPort } from '../shared/observability';
import { retry, type RetryOptions } from '../shared/retry';
import { applyMigrations, loadMigrations } from './migrate';

/** Fixed, so an Update never looks like a replacement (a new id would make CloudFormation send a Delete for the old one). */
export const PHYSICAL_RESOURCE_ID = 'schema-migrations';

/** CloudFormation rejects responses over 4 KB; the list of applied files is capped well below that. */
const MAX_APPLIED_LENGTH = 1_500;

/** What the Provider framework expects back from onEvent. Data values are strings, as Fn::GetAtt returns them. */
export interface MigrationResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: {
    readonly LatestVersion: string;
    /** Comma-separated file names applied by this deploy; empty when there was nothing to do. */
    readonly Applied: string;
  };
}

export interface MigrationHandlerDeps {
  /** Connection settings; read again on every connection attempt so a rotated secret is picked up. */
  readonly settings: DbSettingsProvider;
  readonly migrationsDir: string;
  /** @default silentLogger */
  readonly logger?: LogPort;
  /**
   * Backoff for connecting. The default waits up to about a minute in total, enough for Aurora Serverless v2 to
   * resume or a failover to finish; the function's timeout must allow for it.
   * @default { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 10000 }
   */
  readonly connectRetry?: Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;
  /** @default 10000 */
  readonly connectionTimeoutMs?: number;
}

export type MigrationHandler = (event: CloudFormationCustomResourceEvent) => Promise<MigrationResourceResponse>;

export function createHandler(deps: MigrationHandlerDeps): MigrationHandler {
  const logger = deps.logger ?? silentLogger;
  return async (event) => {
    logger.info('schema migration request', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId });
    if (event.RequestType === 'Delete') {
      // The cluster is deleted with the stack; dropping tables first would only add a way to fail the delete.
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    // Before connecting: a packaging fault should fail in milliseconds, not after waiting for the database.
    const migrations = await loadMigrations(deps.migrationsDir);
    const client = await retry(
      async () =>
        connectClient(
          await deps.settings(),
          // DDL on a large table may legitimately run long; the Lambda timeout is the bound.
          { statementTimeoutMs: 0, connectionTimeoutMs: deps.connectionTimeoutMs ?? 10_000, applicationName: 'db-migrate' },
          logger,
        ),
      {
        ...(deps.connectRetry ?? { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 10_000 }),
        isRetryable: isTransientError,
        onRetry: ({ attempt, delayMs, error }) =>
          logger.warn('database not reachable yet, retrying', { attempt, delayMs, error: errorMessage(error) }),
      },
    );
    try {
      const result = await applyMigrations(client, migrations, { logger });
      logger.info('schema migrations complete', { ...result });
      return {
        PhysicalResourceId: PHYSICAL_RESOURCE_ID,
        Data: { LatestVersion: String(result.latestVersion), Applied: summarise(result.applied) },
      };
    } finally {
      await client.end().catch((err: unknown) => logger.warn('closing the migration connection failed', { error: errorMessage(err) }));
    }
  };
}

function summarise(files: readonly string[]): string {
  const joined = files.join(',');
  if (joined.length <= MAX_APPLIED_LENGTH) return joined;
  const kept: string[] = [];
  let length = 0;
  for (const file of files) {
    if (length + file.length + 1 > MAX_APPLIED_LENGTH) break;
    kept.push(file);
    length += file.length + 1;
  }
  return `${kept.join(',')},…(+${files.length - kept.length} more)`;
}

let defaultHandler: MigrationHandler | undefined;

/**
 * The deployed entry point, traced. Built on first invocation, not at import, so that importing this module (tests,
 * createHandler) does not require the Lambda environment.
 * Environment: DB_SECRET_ARN (required), DB_HOST/DB_PORT/DB_NAME/DB_SSL (see secretSettingsFromEnv), MIGRATIONS_DIR.
 */
export const handler = lambdaEntryPoint('db-migrate', async (event: CloudFormationCustomResourceEvent, _context, observability): Promise<MigrationResourceResponse> => {
  if (defaultHandler === undefined) {
    defaultHandler = createHandler({
      settings: secretSettingsFromEnv(createAwsClient(SecretsManagerClient, { observability })),
      // CDK bundling copies the migrations folder next to the bundled index.js.
      migrationsDir: optionalEnv('MIGRATIONS_DIR') ?? join(__dirname, 'migrations'),
      logger: observability.logger,
    });
  }
  try {
    return await defaultHandler(event);
  } catch (err) {
    // The Provider framework reports the message to CloudFormation; log the full error for the runbook.
    observability.logger.error('schema migration failed', { error: errorMessage(err) });
    throw err;
  }
});
