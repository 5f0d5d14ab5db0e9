/**
 * Parses what clients send to the sessions API (path id, `version` query parameter, JSON bodies) into typed requests.
 * Every rejection is a ValidationError naming the field and the value; the handler turns it into a 400.
 */
import { ValidationError } from '../shared/errors';
import { scanJson, JsonTextError, type JsonText, type ScannedJson, type ScannedValue } from '../shared/json-text';

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Bound on `data` as compact JSON text (UTF-8 bytes): sessions hold state, not documents. */
export const MAX_DATA_BYTES = 16 * 1024;

/**
 * Bound on the nesting of `data` (the object itself is level 1). DynamoDB's own limit for a map, so the state could
 * move to a native attribute one day; and far below what a client's recursive JSON parser or serializer survives
 * (JSON.stringify throws RangeError a few thousand levels down).
 */
export const MAX_DATA_DEPTH = 32;

/** Bodies above this are refused before scanning, so a 10 MB body costs nothing: a valid one is `data` plus two fields. */
export const MAX_BODY_BYTES = 2 * MAX_DATA_BYTES;

/** The header a client may send so that its retry of the same write is recognised (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * Printable ASCII without quotes, backslashes or spaces: UUIDs, ULIDs and base64url keys fit; the draft's
 * structured-field form `"..."` is accepted and unquoted.
 */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

/** The form crypto.randomUUID() produces (version 4, RFC 4122 variant). */
const SESSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A UTF-16 surrogate without its partner: no UTF-8 encoding exists for it, so DynamoDB would refuse the string. */
const LONE_SURROGATE = /\p{Cs}/u;

export interface CreateSessionRequest {
  readonly accountId: string;
  readonly data: JsonText;
}

export interface UpdateSessionRequest {
  /** The version the client last read; the write applies only if it is still current. */
  readonly expectedVersion: number;
  readonly data: JsonText;
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

/**
 * The client's Idempotency-Key, if it sent one; header names are case-insensitive (HTTP/2 clients send them lower-case).
 * API Gateway puts the last of repeated headers in `headers`, so a repeated key is judged by its last value.
 */
export function parseIdempotencyKey(headers: Readonly<Record<string, string | undefined>> | null | undefined): string | undefined {
  const wanted = IDEMPOTENCY_KEY_HEADER.toLowerCase();
  const name = Object.keys(headers ?? {}).find((candidate) => candidate.toLowerCase() === wanted);
  const raw = name === undefined ? undefined : headers?.[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  const key = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ValidationError(IDEMPOTENCY_KEY_HEADER, raw, 'must be 1-255 printable ASCII characters without spaces, quotes or backslashes (e.g. a UUID)');
  }
  return key;
}

/** POST body: `{ "accountId": "...", "data": {...} }`; `data` defaults to `{}`. */
export function parseCreateBody(body: string | null): CreateSessionRequest {
  const members = parseJsonObject(body, ['accountId', 'data']);
  const accountId = decoded(members.get('accountId'));
  if (accountId === undefined) throw new ValidationError('accountId', accountId, 'is required');
  if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new ValidationError('accountId', accountId, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  const data = members.get('data');
  return { accountId, data: data === undefined ? ('{}' as JsonText) : parseData(data) };
}

/** PUT body: `{ "version": n, "data": {...} }`, both required: an update replaces `data` whole. */
export function parseUpdateBody(body: string | null): UpdateSessionRequest {
  const members = parseJsonObject(body, ['version', 'data']);
  const version = decoded(members.get('version'));
  if (version === undefined) throw new ValidationError('version', version, 'is required (the version last read)');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError('version', version, 'must be a positive integer');
  }
  const data = members.get('data');
  if (data === undefined) throw new ValidationError('data', undefined, 'is required (a JSON object)');
  return { expectedVersion: version, data: parseData(data) };
}

/**
 * Scans the body once, without JSON.parse: the members come back as lossless JSON text, nesting is bounded while
 * scanning, and nothing recurses, so no input reaches a RangeError.
 */
function parseJsonObject(body: string | null, allowed: readonly string[]): ReadonlyMap<string, ScannedValue> {
  if (body === null || body.trim() === '') throw new ValidationError('body', body, 'is required: a JSON object');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw new ValidationError('body', `<${bytes} bytes>`, `must be at most ${MAX_BODY_BYTES} bytes`);
  if (LONE_SURROGATE.test(body)) throw new ValidationError('body', body, 'is not valid UTF-16 text (it holds a lone surrogate)');
  let scanned: ScannedJson;
  try {
    // The body is one level above `data`.
    scanned = scanJson(body, { maxDepth: MAX_DATA_DEPTH + 1 });
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    if (err.problem === 'depth') {
      // Named after the member it happened in (in practice `data`), as the client must fix that field.
      const [field, limit] = err.member === undefined ? ['body', MAX_DATA_DEPTH + 1] : [err.member, MAX_DATA_DEPTH];
      throw new ValidationError(field, `<nested more than ${limit} levels>`, `must not nest deeper than ${limit} levels`);
    }
    if (err.problem === 'duplicate' && err.member !== undefined) {
      throw new ValidationError(err.member, undefined, 'appears more than once in the body');
    }
    throw new ValidationError('body', body, `is not valid JSON (${err.message})`);
  }
  if (scanned.kind !== 'object') throw new ValidationError('body', decodedText(scanned.text), 'must be a JSON object');
  // Unknown fields are refused rather than ignored, so a misspelt "verison" cannot pass as a write without a lock.
  for (const [name, value] of scanned.members) {
    if (!allowed.includes(name)) {
      throw new ValidationError(name, decodedText(value.text), `is not an allowed field (allowed: ${allowed.join(', ')})`);
    }
  }
  return scanned.members;
}

function parseData(value: ScannedValue): JsonText {
  if (value.kind !== 'object') throw new ValidationError('data', decodedText(value.text), 'must be a JSON object');
  const bytes = Buffer.byteLength(value.text, 'utf8');
  if (bytes > MAX_DATA_BYTES) {
    throw new ValidationError('data', `<${bytes} bytes>`, `must serialize to at most ${MAX_DATA_BYTES} bytes of JSON (got ${bytes})`);
  }
  return value.text;
}

/** A scalar member's value (strings and numbers within double range are all these fields hold). */
function decoded(value: ScannedValue | undefined): unknown {
  return value === undefined ? undefined : decodedText(value.text);
}

/** Safe to JSON.parse: the text is valid and at most MAX_DATA_DEPTH + 1 levels deep. */
function decodedText(text: JsonText): unknown {
  return JSON.parse(text);
}
