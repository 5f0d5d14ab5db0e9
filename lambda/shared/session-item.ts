/**
 * The session record and its DynamoDB item form: attribute names (fixed by the CDK table), encoding and decoding.
 * Shared by the sessions API, which writes items, and the stream consumer, which reads their stream images.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { AppError } from './errors';

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
} as const;

/** The client's session state: any JSON object. */
export type SessionData = Readonly<Record<string, unknown>>;

export interface Session {
  readonly sessionId: string;
  readonly accountId: string;
  readonly data: SessionData;
  /** Starts at 1; every successful update adds 1. */
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after this (lazily, often hours later). */
  readonly expiresAt: number;
}

export type SessionItem = Record<string, AttributeValue>;

/** A stored item or stream image that does not have the session shape: a bug or a hand-edited item, never retried. */
export class MalformedSessionItemError extends AppError {
  readonly retryable = false;
}

/**
 * `data` is stored as its JSON text, not as a DynamoDB map: the client gets back exactly the JSON it sent (a map
 * would turn 1.0 into 1, reject numbers beyond 38 digits and nesting beyond 32 levels), and the stream consumer can
 * skip the attribute without decoding it.
 */
export function toSessionItem(session: Session): SessionItem {
  return {
    [SESSION_ATTRIBUTES.sessionId]: { S: session.sessionId },
    [SESSION_ATTRIBUTES.accountId]: { S: session.accountId },
    [SESSION_ATTRIBUTES.data]: { S: JSON.stringify(session.data) },
    [SESSION_ATTRIBUTES.version]: { N: String(session.version) },
    [SESSION_ATTRIBUTES.createdAt]: { S: session.createdAt },
    [SESSION_ATTRIBUTES.updatedAt]: { S: session.updatedAt },
    [SESSION_ATTRIBUTES.expiresAt]: { N: String(session.expiresAt) },
  };
}

export function fromSessionItem(item: Readonly<Record<string, unknown>>): Session {
  const sessionId = requiredString(item, SESSION_ATTRIBUTES.sessionId);
  const dataText = requiredString(item, SESSION_ATTRIBUTES.data);
  let data: unknown;
  try {
    data = JSON.parse(dataText);
  } catch {
    throw new MalformedSessionItemError(`Session ${sessionId} has a "data" attribute that is not JSON`);
  }
  if (!isJsonObject(data)) {
    throw new MalformedSessionItemError(`Session ${sessionId} has a "data" attribute that is not a JSON object`);
  }
  return {
    sessionId,
    accountId: requiredString(item, SESSION_ATTRIBUTES.accountId),
    data,
    version: requiredInteger(item, SESSION_ATTRIBUTES.version),
    createdAt: requiredString(item, SESSION_ATTRIBUTES.createdAt),
    updatedAt: requiredString(item, SESSION_ATTRIBUTES.updatedAt),
    expiresAt: requiredInteger(item, SESSION_ATTRIBUTES.expiresAt),
  };
}

/** A JSON object (not an array, not null), as `data` must be. */
export function isJsonObject(value: unknown): value is SessionData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
