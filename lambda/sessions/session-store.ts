/**
 * The session table through the DynamoDB API: strongly consistent reads and conditional writes that, when refused,
 * return the item as it was (ReturnValuesOnConditionCheckFailure), so no second read is needed to say why.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { fromSessionItem, SESSION_ATTRIBUTES, toSessionItem, type Session } from '../shared/session-item';
import type { ConditionalOutcome, SessionChange, SessionStore } from './session-service';

/** Only `send` is used, so tests pass a client pointed at moto. */
export type DynamoDbPort = Pick<DynamoDBClient, 'send'>;

/**
 * The client settings of the deployed function: the SDK's standard retry strategy (exponential backoff with jitter,
 * retry quota) with bounded attempts, and socket timeouts so that a hung connection is retried rather than waited
 * on until the function times out. The worst case (3 x 2 s plus backoff) stays inside the function's 10 s.
 */
export const SESSION_DYNAMODB_CLIENT_CONFIG = {
  retryMode: 'standard',
  maxAttempts: 3,
  // Without throwOnRequestTimeout this SDK version only logs a warning when the request timeout passes.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const satisfies DynamoDBClientConfig;

/** Placeholders for the attribute names; `data` is a DynamoDB reserved word, so names always go through these. */
const NAMES = {
  '#id': SESSION_ATTRIBUTES.sessionId,
  '#data': SESSION_ATTRIBUTES.data,
  '#version': SESSION_ATTRIBUTES.version,
  '#updatedAt': SESSION_ATTRIBUTES.updatedAt,
  '#expiresAt': SESSION_ATTRIBUTES.expiresAt,
} as const;

/** The item exists, is at the expected version and has not expired: the precondition of every update and delete. */
const LIVE_AT_VERSION = 'attribute_exists(#id) AND #version = :expected AND #expiresAt > :now';

export class DynamoDbSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDbPort,
    private readonly tableName: string,
  ) {}

  async create(session: Session): Promise<ConditionalOutcome> {
    return this.conditional(async () => {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toSessionItem(session),
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': NAMES['#id'] },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return session;
    });
  }

  async read(sessionId: string): Promise<Session | undefined> {
    const response = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(sessionId), ConsistentRead: true }),
    );
    return response.Item === undefined ? undefined : fromSessionItem(response.Item);
  }

  async extendExpiry(sessionId: string, expiresAt: number, nowEpoch: number): Promise<ConditionalOutcome> {
    return this.conditional(async () => {
      const response = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(sessionId),
          UpdateExpression: 'SET #expiresAt = :expiresAt',
          // Only forward: two overlapping reads must not move expiry back. The version is deliberately not part of
          // the condition: a concurrent update does not make this read's refresh wrong.
          ConditionExpression: 'attribute_exists(#id) AND #expiresAt > :now AND #expiresAt < :expiresAt',
          ExpressionAttributeNames: { '#id': NAMES['#id'], '#expiresAt': NAMES['#expiresAt'] },
          ExpressionAttributeValues: { ':expiresAt': { N: String(expiresAt) }, ':now': { N: String(nowEpoch) } },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromSessionItem(required(response.Attributes, 'UpdateItem ALL_NEW'));
    });
  }

  async update(sessionId: string, expectedVersion: number, change: SessionChange, nowEpoch: number): Promise<ConditionalOutcome> {
    return this.conditional(async () => {
      const response = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(sessionId),
          UpdateExpression: 'SET #data = :data, #version = :version, #updatedAt = :updatedAt, #expiresAt = :expiresAt',
          ConditionExpression: LIVE_AT_VERSION,
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':data': { S: JSON.stringify(change.data) },
            ':version': { N: String(change.version) },
            ':updatedAt': { S: change.updatedAt },
            ':expiresAt': { N: String(change.expiresAt) },
            ':expected': { N: String(expectedVersion) },
            ':now': { N: String(nowEpoch) },
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromSessionItem(required(response.Attributes, 'UpdateItem ALL_NEW'));
    });
  }

  async delete(sessionId: string, expectedVersion: number, nowEpoch: number): Promise<ConditionalOutcome> {
    return this.conditional(async () => {
      const response = await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(sessionId),
          ConditionExpression: LIVE_AT_VERSION,
          ExpressionAttributeNames: { '#id': NAMES['#id'], '#version': NAMES['#version'], '#expiresAt': NAMES['#expiresAt'] },
          ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) }, ':now': { N: String(nowEpoch) } },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromSessionItem(required(response.Attributes, 'DeleteItem ALL_OLD'));
    });
  }

  /** Turns a refused condition into an outcome carrying the item as DynamoDB saw it; every other error propagates. */
  private async conditional(write: () => Promise<Session>): Promise<ConditionalOutcome> {
    try {
      return { applied: true, session: await write() };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      return { applied: false, current: err.Item === undefined ? undefined : fromSessionItem(err.Item) };
    }
  }
}

function key(sessionId: string): Record<string, { S: string }> {
  return { [SESSION_ATTRIBUTES.sessionId]: { S: sessionId } };
}

function required<T>(value: T | undefined, what: string): T {
  // The write succeeded, so DynamoDB returns the item; its absence means the API contract changed under us.
  if (value === undefined) throw new Error(`${what} returned no attributes`);
  return value;
}
