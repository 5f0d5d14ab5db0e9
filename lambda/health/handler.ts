/**
 * API Gateway proxy adapter for the public GET /v1/health: answers 200 {"status":"ok",...} or 503 naming the failed
 * dependency, from a verdict cached per container for a few seconds. Details of failures go to the log only.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { errorMessage } from '../shared/errors';
import { jsonResponse } from '../shared/http';
import { createAwsClient, type CallDeadlines } from '../shared/aws-clients';
import { lambdaEntryPoint, silentLogger, type LogPort } from '../shared/observability';
import { healthSetupFromEnv } from './config';
import { checkHealth, HealthVerdictCache, type HealthProbes, type HealthReport } from './health';

export interface HealthDeps {
  readonly probes: HealthProbes;
  readonly timeoutMs: number;
  /** How long a verdict is reused in this container; 0 shares only a check in flight. */
  readonly cacheSeconds: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default silentLogger */
  readonly logger?: LogPort;
}

export type HealthHandler = (event?: unknown) => Promise<APIGatewayProxyResult>;

/** Call once per container: the cache lives in the returned handler. */
export function createHandler(deps: HealthDeps): HealthHandler {
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? silentLogger;
  const check = async (): Promise<HealthReport> => {
    const report = await checkHealth(deps.probes, { timeoutMs: deps.timeoutMs, clock, logger });
    // Logged per check, not per request: answers served from the cache add nothing new.
    if (report.status !== 'ok') logger.warn('platform unhealthy', { checks: report.checks, checkedAt: report.checkedAt });
    return report;
  };
  const cache = new HealthVerdictCache(check, { maxAgeMs: deps.cacheSeconds * 1_000, clock });
  return async () => {
    let report: HealthReport;
    try {
      report = await cache.get();
    } catch (err) {
      // checkHealth does not reject; if it ever does, the answer is still a well-formed 503 without the error text.
      logger.error('health check crashed', { error: errorMessage(err) });
      return respond(503, { status: 'unhealthy', checkedAt: clock().toISOString() });
    }
    return respond(report.status === 'ok' ? 200 : 503, report);
  };
}

function respond(statusCode: number, report: Pick<HealthReport, 'status' | 'checkedAt'> & Partial<HealthReport>): APIGatewayProxyResult {
  // `status` first and no whitespace: the Route 53 health check matches the exact text "status":"ok".
  const { status, checks, tradingEnabled, checkedAt } = report;
  return jsonResponse(statusCode, { status, checks, tradingEnabled, checkedAt });
}

let deployedHandler: HealthHandler | undefined;

/**
 * The deployed entry point, traced, wired on first invocation so that importing the module needs no Lambda
 * environment. Environment: see healthSetupFromEnv.
 */
export const handler = lambdaEntryPoint('health', async (_event: unknown, _context, observability): Promise<APIGatewayProxyResult> => {
  if (deployedHandler === undefined) {
    // Two short attempts: the check's own timeout bounds the total, and a retry past it would be wasted.
    const deadlines: CallDeadlines = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, maxAttempts: 2 };
    const setup = healthSetupFromEnv(
      {
        secrets: createAwsClient(SecretsManagerClient, { deadlines, observability }),
        dynamodb: createAwsClient(DynamoDBClient, { deadlines, observability }),
        ssm: createAwsClient(SSMClient, { deadlines, observability }),
      },
      process.env,
      observability.logger,
    );
    deployedHandler = createHandler({ ...setup, logger: observability.logger });
  }
  return deployedHandler();
});
