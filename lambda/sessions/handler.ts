/**
 * API Gateway proxy adapter for POST /v1/sessions and GET/PUT/DELETE /v1/sessions/{sessionId}: routes on method and
 * path, calls the session service, and maps each error type to its one status code (400, 404, 409, 503, 500).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ConflictError, errorMessage, isTransientError, NotFoundError, ValidationError } from '../shared/errors';
import { jsonResponse } from '../shared/http';
import { createObservability, silentLogger, traced, type LogPort } from '../shared/observability';
import type { Session } from '../shared/session-item';
import { sessionSettingsFromEnv } from './config';
import { parseCreateBody, parseSessionId, parseUpdateBody, parseVersionParameter } from './session-request';
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
import { DynamoDbSessionStore, SESSION_DYNAMODB_CLIENT_CONFIG } from './session-store';

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
  readonly requestContext?: Pick<APIGatewayProxyEvent['requestContext'], 'requestId'>;
};

export type SessionsHandler = (event: SessionsEvent) => Promise<APIGatewayProxyResult>;

export function createHandler(deps: SessionsDeps): SessionsHandler {
  const ports: SessionPorts = {
    store: deps.store,
    config: deps.config,
    clock: deps.clock ?? (() => new Date()),
    newSessionId: deps.newSessionId ?? randomUUID,
    logger: deps.logger ?? silentLogger,
  };
  return async (event) => {
    const requestId = event.requestContext?.requestId;
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
    const session = await createSession(parseCreateBody(bodyText(event)), ports);
    return jsonResponse(201, toView(session), { Location: `/v1/sessions/${session.sessionId}` });
  }
  switch (event.httpMethod) {
    case 'GET':
      return jsonResponse(200, toView(await getSession(parseSessionId(rawSessionId), ports)));
    case 'PUT': {
      const sessionId = parseSessionId(rawSessionId);
      return jsonResponse(200, toView(await updateSession(sessionId, parseUpdateBody(bodyText(event)), ports)));
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

/** API Gateway base64-encodes bodies whose content type is a configured binary media type. */
function bodyText(event: SessionsEvent): string | null {
  if (event.body === null || event.isBase64Encoded !== true) return event.body;
  return Buffer.from(event.body, 'base64').toString('utf8');
}

/** A fresh object of known fields: nothing else an item might hold reaches the client. */
function toView(session: Session): Session {
  const { sessionId, accountId, data, version, createdAt, updatedAt, expiresAt } = session;
  return { sessionId, accountId, data, version, createdAt, updatedAt, expiresAt };
}

function methodNotAllowed(method: string, allow: string): APIGatewayProxyResult {
  return jsonResponse(405, { message: `Method ${method} is not allowed here (allowed: ${allow})` }, { Allow: allow });
}


let deployedHandler: SessionsHandler | undefined;

/**
 * The deployed entry point, wired on first invocation so that importing the module needs no Lambda environment.
 * Environment: SESSION_TABLE_NAME (required), SESSION_TTL_SECONDS (default 3600).
 */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const observability = createObservability('sessions');
  observability.logger.addContext(context);
  if (deployedHandler === undefined) {
    const settings = sessionSettingsFromEnv();
    deployedHandler = createHandler({
      store: new DynamoDbSessionStore(traced(observability, new DynamoDBClient(SESSION_DYNAMODB_CLIENT_CONFIG)), settings.tableName),
      config: settings,
      logger: observability.logger,
    });
  }
  return deployedHandler(event);
}
