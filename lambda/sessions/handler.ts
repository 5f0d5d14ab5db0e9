/**
 * API Gateway proxy adapter for POST /v1/sessions and GET/PUT/DELETE /v1/sessions/{sessionId}: routes on method and
 * path, calls the session service, and maps each error type to its one status code (400, 404, 409, 503, 500).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ConflictError, errorMessage, isTransientError, NotFoundError, ValidationError } from '../shared/errors';
import { jsonResponse, jsonTextResponse } from '../shared/http';
import { lambdaEntryPoint, silentLogger, type LogPort } from '../shared/observability';
import type { Session } from '../shared/session-item';
import { lambdaTimeBudget } from '../shared/time-budget';
import { sessionSettingsFromEnv } from './config';
import { parseCreateBody, parseIdempotencyKey, parseSessionId, parseUpdateBody, parseVersionParameter } from './session-request';
import {
  createSession,
  deleteSession,
  getSession,
  StaleSessionVersionError,
  updateSession,
  type SessionConfig,
  type SessionPorts,
  type SessionStore,
} from './session-service';
import { createSessionStore } from './session-store';

/** The function's timeout (lib/constructs/session-service.ts): the budget of an invocation that has no Lambda context. */
const FUNCTION_TIMEOUT_MS = 10_000;

export interface SessionsDeps {
  readonly store: SessionStore;
  readonly config: SessionConfig;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default crypto.randomUUID */
  readonly newSessionId?: () => string;
  /** @default silentLogger */
  readonly logger?: LogPort;
}

/** Only what the handler reads, so tests can build events without the whole API Gateway shape. */
export type SessionsEvent = Pick<APIGatewayProxyEvent, 'httpMethod' | 'pathParameters' | 'queryStringParameters' | 'body'> & {
  readonly isBase64Encoded?: boolean;
  readonly headers?: APIGatewayProxyEvent['headers'] | null;
  readonly requestContext?: Pick<APIGatewayProxyEvent['requestContext'], 'requestId'>;
};

export type SessionsHandler = (event: SessionsEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<APIGatewayProxyResult>;

export function createHandler(deps: SessionsDeps): SessionsHandler {
  const shared: Omit<SessionPorts, 'budget'> = {
    store: deps.store,
    config: deps.config,
    clock: deps.clock ?? (() => new Date()),
    newSessionId: deps.newSessionId ?? randomUUID,
    logger: deps.logger ?? silentLogger,
  };
  return async (event, context) => {
    const requestId = event.requestContext?.requestId;
    const ports: SessionPorts = { ...shared, budget: lambdaTimeBudget(context, FUNCTION_TIMEOUT_MS) };
    try {
      return await route(event, ports);
    } catch (err) {
      // The one place errors become status codes. Bodies carry our own messages only: never a table name or stack.
      if (err instanceof ValidationError) {
        return jsonResponse(400, { message: err.message, field: err.field, requestId });
      }
      if (err instanceof NotFoundError) return jsonResponse(404, { message: err.message, requestId });
      if (err instanceof StaleSessionVersionError) {
        ports.logger.info('stale session write refused', { requestId, sessionId: err.sessionId, expectedVersion: err.expectedVersion, currentVersion: err.currentVersion });
        return jsonResponse(409, { message: err.message, currentVersion: err.currentVersion, requestId });
      }
      if (err instanceof ConflictError) return jsonResponse(409, { message: err.message, requestId });
      if (isTransientError(err)) {
        ports.logger.warn('session request failed: table unavailable', { requestId, error: errorMessage(err) });
        return jsonResponse(503, { message: 'The session store is temporarily unavailable; retry shortly', requestId }, { 'Retry-After': '1' });
      }
      ports.logger.error('session request failed', { requestId, error: errorMessage(err) });
      return jsonResponse(500, { message: 'Internal error', requestId });
    }
  };
}

async function route(event: SessionsEvent, ports: SessionPorts): Promise<APIGatewayProxyResult> {
  const rawSessionId = event.pathParameters?.['sessionId'];
  if (rawSessionId === undefined) {
    if (event.httpMethod !== 'POST') return methodNotAllowed(event.httpMethod, 'POST');
    const request = parseCreateBody(bodyText(event));
    const session = await createSession(request, writeToken(event), ports);
    return sessionResponse(201, session, { Location: `/v1/sessions/${session.sessionId}` });
  }
  switch (event.httpMethod) {
    case 'GET':
      return sessionResponse(200, await getSession(parseSessionId(rawSessionId), ports));
    case 'PUT': {
      const sessionId = parseSessionId(rawSessionId);
      const request = parseUpdateBody(bodyText(event));
      return sessionResponse(200, await updateSession(sessionId, request, writeToken(event), ports));
    }
    case 'DELETE': {
      const sessionId = parseSessionId(rawSessionId);
      await deleteSession(sessionId, parseVersionParameter(event.queryStringParameters?.['version']), ports);
      return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
    }
    default:
      return methodNotAllowed(event.httpMethod, 'GET, PUT, DELETE');
  }
}

/**
 * The token a write is stored under, so that its own retry recognises it: the client's Idempotency-Key when it sends
 * one (then a client retry of the same PUT after a lost HTTP answer is recognised too), otherwise API Gateway's request
 * id (which covers the SDK's retries inside this invocation). The prefix keeps the two kinds apart.
 */
function writeToken(event: SessionsEvent): string {
  const key = parseIdempotencyKey(event.headers);
  if (key !== undefined) return `key:${key}`;
  const requestId = event.requestContext?.requestId;
  // Only a direct invocation (no API Gateway) has no request id; a fresh token still covers the SDK's retries.
  return requestId === undefined ? `call:${randomUUID()}` : `req:${requestId}`;
}

/** API Gateway base64-encodes bodies whose content type is a configured binary media type. */
function bodyText(event: SessionsEvent): string | null {
  if (event.body === null || event.isBase64Encoded !== true) return event.body;
  return Buffer.from(event.body, 'base64').toString('utf8');
}

/**
 * The session as the client sees it: known fields only (never the write token or anything else an item might hold),
 * with `data` embedded as the stored JSON text, so its numbers come back digit for digit as the client sent them.
 */
function sessionResponse(statusCode: number, session: Session, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  const fields: ReadonlyArray<readonly [string, string]> = [
    ['sessionId', JSON.stringify(session.sessionId)],
    ['accountId', JSON.stringify(session.accountId)],
    ['data', session.data],
    ['version', JSON.stringify(session.version)],
    ['createdAt', JSON.stringify(session.createdAt)],
    ['updatedAt', JSON.stringify(session.updatedAt)],
    ['expiresAt', JSON.stringify(session.expiresAt)],
  ];
  return jsonTextResponse(statusCode, `{${fields.map(([name, text]) => `${JSON.stringify(name)}:${text}`).join(',')}}`, headers);
}

function methodNotAllowed(method: string, allow: string): APIGatewayProxyResult {
  return jsonResponse(405, { message: `Method ${method} is not allowed here (allowed: ${allow})` }, { Allow: allow });
}


let deployedHandler: SessionsHandler | undefined;

/**
 * The deployed entry point, traced, wired on first invocation so that importing the module needs no Lambda
 * environment. Environment: SESSION_TABLE_NAME (required), SESSION_TTL_SECONDS (default 3600).
 */
export const handler = lambdaEntryPoint('sessions', async (event: APIGatewayProxyEvent, context, observability): Promise<APIGatewayProxyResult> => {
  if (deployedHandler === undefined) {
    const settings = sessionSettingsFromEnv();
    deployedHandler = createHandler({
      store: createSessionStore(settings.tableName, { observability }),
      config: settings,
      logger: observability.logger,
    });
  }
  return deployedHandler(event, context);
});
