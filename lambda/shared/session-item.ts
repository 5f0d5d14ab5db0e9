/**
 * The session record and its DynamoDB item form: attribute names (fixed by the CDK table), encoding and decoding.
 * Shared by the sessions API, which writes items, and the stream consumer, which reads their stream images.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { AppError } from './errors';
import { jsonObjectText, JsonTextError, type JsonText } from './json-text';

/**
 * Attribute names. `sessionId` (partition key), `expiresAt` (TTL) and `version` (optimistic lock) must match
 * SESSION_TABLE_SCHEMA in lib/constructs/session-table.ts; the others are ours alone.
 */
export const SESSION_ATTRIBUTES = {
  sessionId: 'sessionId',
  accountId: 'accountId',
  data: 'data',
  version: 'version',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
  expiresAt: 'expiresAt',
  writeToken: 'writeToken',
} as const;

export interface Session {
  readonly sessionId: string;
  readonly accountId: string;
  /** The client's session state: a JSON object, kept as the text the client sent (see toSessionItem). */
  readonly data: JsonText;
  /** Starts at 1; every successful update adds 1. */
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after this (lazily, often hours later). */
  readonly expiresAt: number;
  /**
   * Identifies the request that wrote this version (its Idempotency-Key or API Gateway request id), written in the
   * same conditional write as the version. A write whose answer was lost finds it on the retry and knows it landed.
   * Absent on items written before the attribute existed; never part of what clients see.
   */
  readonly writeToken?: string;
}

export type SessionItem = Record<string, AttributeValue>;

/** A stored item or stream image that does not have the session shape: a bug or a hand-edited item, never retried. */
export class MalformedSessionItemError extends AppError {
  readonly retryable = false;
}

/**
 * `data` is stored as the client's JSON text (compacted, every number and string token as written), not as a DynamoDB
 * map and never through JavaScript numbers: the client gets back exactly the JSON it sent, where a map or a
 * JSON.parse round trip would turn 1.10 into 1.1 and 12345678901234567890 into 12345678901234567000 (a map also
 * refuses numbers beyond 38 significant digits and nesting beyond 32 levels). The stream consumer skips the attribute.
 */
export function toSessionItem(session: Session): SessionItem {
  return {
    [SESSION_ATTRIBUTES.sessionId]: { S: session.sessionId },
    [SESSION_ATTRIBUTES.accountId]: { S: session.accountId },
    [SESSION_ATTRIBUTES.data]: { S: session.data },
    [SESSION_ATTRIBUTES.version]: { N: String(session.version) },
    [SESSION_ATTRIBUTES.createdAt]: { S: session.createdAt },
    [SESSION_ATTRIBUTES.updatedAt]: { S: session.updatedAt },
    [SESSION_ATTRIBUTES.expiresAt]: { N: String(session.expiresAt) },
    ...(session.writeToken === undefined ? {} : { [SESSION_ATTRIBUTES.writeToken]: { S: session.writeToken } }),
  };
}

export function fromSessionItem(item: Readonly<Record<string, unknown>>): Session {
  const sessionId = requiredString(item, SESSION_ATTRIBUTES.sessionId);
  const writeToken = stringAttribute(item, SESSION_ATTRIBUTES.writeToken);
  return {
    sessionId,
    accountId: requiredString(item, SESSION_ATTRIBUTES.accountId),
    data: storedData(sessionId, requiredString(item, SESSION_ATTRIBUTES.data)),
    version: requiredInteger(item, SESSION_ATTRIBUTES.version),
    createdAt: requiredString(item, SESSION_ATTRIBUTES.createdAt),
    updatedAt: requiredString(item, SESSION_ATTRIBUTES.updatedAt),
    expiresAt: requiredInteger(item, SESSION_ATTRIBUTES.expiresAt),
    ...(writeToken === undefined ? {} : { writeToken }),
  };
}

/**
 * Checked on every read because the handler embeds the text in its response as it is: an attribute that is not one
 * JSON object would make the whole body invalid JSON. No depth bound here: the bound is for new writes, and an item
 * written before it existed must stay readable.
 */
function storedData(sessionId: string, text: string): JsonText {
  try {
    return jsonObjectText(text);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new MalformedSessionItemError(`Session ${sessionId} has a "data" attribute that is not a JSON object: ${err.message}`);
  }
}

/**
 * The `S` of a string attribute. Takes `unknown` values because the SDK's AttributeValue union and the Lambda
 * stream event's attribute type differ; both are `{ S: "..." }` on the wire.
 */
export function stringAttribute(item: Readonly<Record<string, unknown>>, name: string): string | undefined {
  return memberOf(item, name, 'S');
}

/** The value of a number attribute that holds a safe integer, else undefined. */
export function integerAttribute(item: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const text = memberOf(item, name, 'N');
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function requiredString(item: Readonly<Record<string, unknown>>, name: string): string {
  const value = stringAttribute(item, name);
  if (value === undefined) throw new MalformedSessionItemError(`Session item has no string attribute "${name}"`);
  return value;
}

export function requiredInteger(item: Readonly<Record<string, unknown>>, name: string): number {
  const value = integerAttribute(item, name);
  if (value === undefined) throw new MalformedSessionItemError(`Session item has no integer attribute "${name}"`);
  return value;
}

function memberOf(item: Readonly<Record<string, unknown>>, name: string, member: 'S' | 'N'): string | undefined {
  const attribute = Object.hasOwn(item, name) ? item[name] : undefined;
  if (typeof attribute !== 'object' || attribute === null) return undefined;
  const value: unknown = Reflect.get(attribute, member);
  return typeof value === 'string' ? value : undefined;
}
