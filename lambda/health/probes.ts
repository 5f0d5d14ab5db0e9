/**
 * The deep health check's probes: one cheap, real request to each dependency (Aurora writer and reader, session
 * table, runtime parameters). Each throws on failure; health.ts adds the timeout and turns outcomes into a verdict.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { DbPoolManager } from '../shared/db';
import { ConfigurationError } from '../shared/errors';
import { parseRiskLimits, type RiskLimitParameterNames } from '../shared/runtime-parameters';
import { SESSION_ATTRIBUTES } from '../shared/session-item';

/** A probe gets the signal its timeout aborts, so SDK requests are cancelled rather than left running. */
export type Probe<T> = (signal: AbortSignal) => Promise<T>;

export type DynamoDbPort = Pick<DynamoDBClient, 'send'>;
export type SsmPort = Pick<SSMClient, 'send'>;

/** What the config probe learns besides "the parameters are fine". */
export interface ConfigSnapshot {
  readonly tradingEnabled: boolean;
}

/**
 * One query on a pooled connection, once: a health check reports the state now, and retrying would only stretch
 * it past its timeout. The pool manager still discards a broken pool, so the next check reconnects.
 * For the writer it asks `pg_is_in_recovery()`: right after a failover the writer endpoint can still resolve to the
 * demoted instance, which answers reads but refuses every write, so "it answers" is not "it can take orders".
 */
export function databaseProbe(db: Pick<DbPoolManager, 'query'>, role: 'writer' | 'reader' = 'reader'): Probe<void> {
  return async () => {
    const result = await db.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery', [], { retry: false });
    if (role === 'writer' && result.rows[0]?.in_recovery !== false) {
      throw new Error('the writer endpoint reached an instance in recovery (read-only)');
    }
  };
}

/** The key the table probe reads. Never written: the read only has to reach the table, not find anything. */
export const HEALTH_SENTINEL_SESSION_ID = '__health-check__';

/**
 * A strongly consistent GetItem of a sentinel key rather than DescribeTable: it takes the path the sessions API
 * takes (data plane, IAM on the table, the table's KMS key), and costs one read unit instead of a control-plane call.
 */
export function sessionTableProbe(client: DynamoDbPort, tableName: string): Probe<void> {
  return async (signal) => {
    await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [SESSION_ATTRIBUTES.sessionId]: { S: HEALTH_SENTINEL_SESSION_ID } },
        ConsistentRead: true,
        ProjectionExpression: '#id',
        ExpressionAttributeNames: { '#id': SESSION_ATTRIBUTES.sessionId },
      }),
      { abortSignal: signal },
    );
  };
}

/**
 * Both runtime parameters in one GetParameters call, uncached: present and well-formed by the rules the order
 * processor parses them with (lambda/shared/runtime-parameters.ts), since a bad one would fail every order. A kill
 * switch set to "false" is healthy.
 */
export function configProbe(ssm: SsmPort, names: RiskLimitParameterNames): Probe<ConfigSnapshot> {
  return async (signal) => {
    const response = await ssm.send(new GetParametersCommand({ Names: [names.tradingEnabled, names.maxOrderNotional] }), {
      abortSignal: signal,
    });
    const missing = response.InvalidParameters ?? [];
    if (missing.length > 0) throw new ConfigurationError(`SSM parameters not found: ${missing.join(', ')}`);
    const valueOf = (name: string): string | undefined => response.Parameters?.find((parameter) => parameter.Name === name)?.Value;
    const limits = parseRiskLimits(names, { tradingEnabled: valueOf(names.tradingEnabled), maxOrderNotional: valueOf(names.maxOrderNotional) });
    return { tradingEnabled: limits.tradingEnabled };
  };
}
