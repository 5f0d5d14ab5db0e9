/**
 * Parses what clients send to the sessions API (path id, `version` query parameter, JSON bodies) into typed requests.
 * Every rejection is a ValidationError naming the field and the value; the handler turns it into a 400.
 */
import { ValidationError } from '../shared/errors';
import { isJsonObject, type SessionData } from '../shared/session-item';

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Bound on `data` as serialized JSON (UTF-8 bytes): sessions hold state, not documents. */
export const MAX_DATA_BYTES = 16 * 1024;

/** Bodies above this are refused before JSON.parse, so a 10 MB body costs no parsing: a valid one is `data` plus two fields. */
export const MAX_BODY_BYTES = 2 * MAX_DATA_BYTES;

/** The form crypto.randomUUID() produces (version 4, RFC 4122 variant). */
const SESSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface CreateSessionRequest {
  readonly accountId: string;
  readonly data: SessionData;
}

export interface UpdateSessionRequest {
  /** The version the client last read; the write applies only if it is still current. */
  readonly expectedVersion: number;
  readonly data: SessionData;
}

/** The `{sessionId}` path parameter, lower-cased (ids are issued lower-case; a client's upper-case copy still matches). */
export function parseSessionId(raw: string | undefined): string {
  if (raw === undefined) throw new ValidationError('sessionId', raw, 'is required in the path /v1/sessions/{sessionId}');
  const sessionId = raw.toLowerCase();
  if (!SESSION_ID_PATTERN.test(sessionId)) {
    throw new ValidationError('sessionId', raw, 'must be a session id as returned by POST /v1/sessions (a UUID)');
  }
  return sessionId;
}

/** The required `?version=n` of DELETE. */
export function parseVersionParameter(raw: string | undefined): number {
  if (raw === undefined) {
    throw new ValidationError('version', raw, 'is required as a query parameter (?version=n, the version last read)');
  }
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1)) throw new ValidationError('version', raw, 'must be a positive integer');
  return value;
}

/** POST body: `{ "accountId": "...", "data": {...} }`; `data` defaults to `{}`. */
export function parseCreateBody(body: string | null): CreateSessionRequest {
  const input = parseJsonObject(body, ['accountId', 'data']);
  const accountId = input['accountId'];
  if (accountId === undefined) throw new ValidationError('accountId', accountId, 'is required');
  if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new ValidationError('accountId', accountId, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  return { accountId, data: input['data'] === undefined ? {} : parseData(input['data']) };
}

/** PUT body: `{ "version": n, "data": {...} }`, both required: an update replaces `data` whole. */
export function parseUpdateBody(body: string | null): UpdateSessionRequest {
  const input = parseJsonObject(body, ['version', 'data']);
  const version = input['version'];
  if (version === undefined) throw new ValidationError('version', version, 'is required (the version last read)');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError('version', version, 'must be a positive integer');
  }
  if (input['data'] === undefined) throw new ValidationError('data', undefined, 'is required (a JSON object)');
  return { expectedVersion: version, data: parseData(input['data']) };
}

function parseJsonObject(body: string | null, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (body === null || body.trim() === '') throw new ValidationError('body', body, 'is required: a JSON object');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw new ValidationError('body', `<${bytes} bytes>`, `must be at most ${MAX_BODY_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ValidationError('body', body, 'is not valid JSON');
  }
  if (!isJsonObject(parsed)) throw new ValidationError('body', parsed, 'must be a JSON object');
  // Unknown fields are refused rather than ignored, so a misspelt "verison" cannot pass as a write without a lock.
  const unknown = Object.keys(parsed).find((name) => !allowed.includes(name));
  if (unknown !== undefined) {
    throw new ValidationError(unknown, parsed[unknown], `is not an allowed field (allowed: ${allowed.join(', ')})`);
  }
  return parsed;
}

function parseData(value: unknown): SessionData {
  if (!isJsonObject(value)) throw new ValidationError('data', value, 'must be a JSON object');
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_DATA_BYTES) {
    throw new ValidationError('data', value, `must serialize to at most ${MAX_DATA_BYTES} bytes of JSON (got ${bytes})`);
  }
  return value;
}
