/**
 * API Gateway proxy adapter for GET /v1/orders/{orderId}: reads the order from the Aurora reader endpoint and maps
 * each error type to its one status code (400 malformed id, 404 unknown, 503 database unavailable, 500 otherwise).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import { DbPoolManager, secretSettingsFromEnv } from '../shared/db';
import { intEnv } from '../shared/env';
import { errorMessage, isTransientError, NotFoundError, ValidationError } from '../shared/errors';
import { jsonResponse } from '../shared/http';
import { lambdaEntryPoint, silentLogger, type LogPort } from '../shared/observability';
import { getOrder, PostgresOrderReader, type OrderReader } from './get-order';

export interface OrderQueryDeps {
  readonly reader: OrderReader;
  /** @default silentLogger */
  readonly logger?: LogPort;
}

/** Only what the handler reads, so tests can build events without the whole API Gateway shape. */
export type OrderQueryEvent = Pick<APIGatewayProxyEvent, 'pathParameters'> & {
  readonly requestContext?: Pick<APIGatewayProxyEvent['requestContext'], 'requestId'>;
};

export type OrderQueryHandler = (event: OrderQueryEvent) => Promise<APIGatewayProxyResult>;

export function createHandler(deps: OrderQueryDeps): OrderQueryHandler {
  const logger = deps.logger ?? silentLogger;
  return async (event) => {
    const requestId = event.requestContext?.requestId;
    try {
      return jsonResponse(200, await getOrder(event.pathParameters?.orderId, deps.reader));
    } catch (err) {
      // The one place errors become status codes. Bodies carry our own messages only: never a host, SQL or stack.
      if (err instanceof ValidationError) return jsonResponse(400, { message: err.message, requestId });
      if (err instanceof NotFoundError) return jsonResponse(404, { message: err.message, requestId });
      if (isTransientError(err)) {
        logger.warn('order lookup failed: database unavailable', { requestId, error: errorMessage(err) });
        return jsonResponse(503, { message: 'The order store is temporarily unavailable; retry shortly', requestId }, { 'Retry-After': '1' });
      }
      logger.error('order lookup failed', { requestId, error: errorMessage(err) });
      return jsonResponse(500, { message: 'Internal error', requestId });
    }
  };
}


/** The function has 10 s and the API a p99 target under 1 s: a secret read gets two short attempts. */
const QUERY_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 };

let deployedHandler: OrderQueryHandler | undefined;

/**
 * The deployed entry point, traced, wired on first invocation so that importing the module needs no Lambda
 * environment. Environment: DB_SECRET_ARN, DB_HOST (the reader endpoint), DB_PORT, DB_NAME (see secretSettingsFromEnv).
 */
export const handler = lambdaEntryPoint('order-query', async (event: APIGatewayProxyEvent, _context, observability): Promise<APIGatewayProxyResult> => {
  deployedHandler ??= createHandler({
    reader: new PostgresOrderReader(
      new DbPoolManager({
        settings: secretSettingsFromEnv(createAwsClient(SecretsManagerClient, { deadlines: QUERY_CALL_DEADLINES, observability })),
        settingsTimeoutMs: worstCaseCallMs(QUERY_CALL_DEADLINES),
        logger: observability.logger,
        applicationName: 'order-query',
        // One request per container at a time: one connection, as the connection budget counts.
        max: intEnv('DB_POOL_MAX', 1, { min: 1, max: 10 }),
        // The function has 10 s and the API a p99 target under 1 s: fail fast and let the client retry on 503.
        connectionTimeoutMs: 2_000,
        statementTimeoutMs: 2_000,
        retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 800 },
      }),
    ),
    logger: observability.logger,
  });
  return deployedHandler(event);
});
