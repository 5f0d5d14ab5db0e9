/**
 * The Aurora connection budget of a stage: every pool's maximum against what one instance holds at its minimum
 * capacity. Config validation enforces it and an invariant test recomputes it from the synthesized templates.
 */
import type { EnvironmentConfig } from './environment-config';

/**
 * Connections one Aurora PostgreSQL Serverless v2 instance holds per ACU, from AWS's figure for the smallest
 * instances: a 0.5-1 ACU instance reports max_connections 189 (AWS re:Post, "Working of max_connections for Amazon
 * Aurora PostgreSQL Serverless"; the default is LEAST(DBInstanceClassMemory/9531392, 5000), Aurora User Guide,
 * "Maximum connections to an Aurora PostgreSQL DB instance"). max_connections itself follows the maximum ACU and
 * is capped at 2,000 while the minimum is 0.5 ACU; budgeting at the minimum capacity is the conservative reading:
 * a scaled-down instance has the least memory for each connection's backend.
 */
export const CONNECTIONS_PER_ACU = 189;

/** Aurora's own sessions (AWS asks for at least 3 spare connections "to support AWS automation"). */
export const AWS_AUTOMATION_CONNECTIONS = 3;

/** Each function's pool maximum (its DB_POOL_MAX); one container runs one invocation at a time. */
export const POOL_MAX = {
  /** Insert and read-back run on one connection; the second covers a retry while the first is being discarded. */
  orderProcessor: 2,
  orderQuery: 1,
  /** Writer and reader pools of one connection each. */
  healthPerEndpoint: 1,
  migrations: 1,
} as const;

export interface ConnectionBudget {
  /** What one instance holds at the stage's minimum capacity. */
  readonly perInstanceAtMinimum: number;
  /** Connections the writer can be asked for: processor, health's writer pool, migrations, AWS automation. */
  readonly writer: number;
  /** Connections the reader can be asked for: order query, health's reader pool, AWS automation. */
  readonly reader: number;
  /** What the API-facing reads (health, order query) can hold on their busiest instance. */
  readonly apiReads: number;
  /** A third of an instance: the most API-facing reads may take. */
  readonly apiReadLimit: number;
  /** 80% of an instance: headroom for an operator's session and a failover's reconnect overlap. */
  readonly poolLimit: number;
}

/**
 * After a failover the reader becomes the writer and both sets of pools reconnect to it, so the sum of writer and
 * reader must also fit: that is what `poolLimit` is checked against for each, with the reader's share small.
 */
export function connectionBudget(config: Pick<EnvironmentConfig, 'database' | 'orders'>): ConnectionBudget {
  const perInstanceAtMinimum = Math.floor(CONNECTIONS_PER_ACU * config.database.minCapacityAcu);
  const { health, orderQuery } = config.database.apiReadConcurrency;
  const healthPerEndpoint = health * POOL_MAX.healthPerEndpoint;
  const writer = config.orders.processorMaxConcurrency * POOL_MAX.orderProcessor + healthPerEndpoint + POOL_MAX.migrations + AWS_AUTOMATION_CONNECTIONS;
  const reader = orderQuery * POOL_MAX.orderQuery + healthPerEndpoint + AWS_AUTOMATION_CONNECTIONS;
  return {
    perInstanceAtMinimum,
    writer,
    reader,
    apiReads: Math.max(healthPerEndpoint, orderQuery * POOL_MAX.orderQuery + healthPerEndpoint),
    apiReadLimit: Math.floor(perInstanceAtMinimum / 3),
    poolLimit: Math.floor(perInstanceAtMinimum * 0.8),
  };
}
