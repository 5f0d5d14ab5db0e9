/**
 * The session table through the DynamoDB API: strongly consistent reads and conditional writes that, when refused,
 * return the item as it was (ReturnValuesOnConditionCheckFailure), so no second read is needed to say why.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createAwsClient, worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import type { Observability } from '../shared/observability';
import { fromSessionItem, SESSION_ATTRIBUTES, toSessionItem, type Session } from '../shared/session-item';
import type { ConditionalOutcome, SessionChange, SessionStore } from './session-service';

/** Only `send` is used, so tests pass a client pointed at moto (or at a fault proxy in front of it). */
export type DynamoDbPort = Pick<DynamoDBClient, 'send'>;

/**
 * Deadlines of the deployed function's DynamoDB calls. DynamoDB answers in milliseconds through the gateway endpoint,
 * so half a second to connect and 1.5 s per attempt already mean a fault; three attempts (the SDK's standard
 * retries) take at most 3 x 2 s + 0.5 s + 1 s of backoff = 7.5 s, inside the function's 10 s timeout.
 */
export const SESSION_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 3 };

export interface SessionStoreOptions {
  /** @default SESSION_CALL_DEADLINES */
  readonly deadlines?: CallDeadlines;
  /** X-Ray subsegments per call. @default none */
  readonly observability?: Pick<Observability, 'tracer'>;
  /** Extra client settings (endpoint, credentials), for tests. @default none */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The store with a client from the shared factory, built with the same deadlines the store's time checks assume. */
export function createSessionStore(tableName: string, options: SessionStoreOptions = {}): DynamoDbSessionStore {
  const deadlines = options.deadlines ?? SESSION_CALL_DEADLINES;
  const client = createAwsClient(DynamoDBClient, {
    deadlines,
    ...(options.observability === undefined ? {} : { observability: options.observability }),
    ...(options.extra === undefined ? {} : { extra: options.extra }),
  });
  return new DynamoDbSessionStore(client, tableName, deadlines);
}

/** Placeholders for the attribute names; `data` is a DynamoDB reserved word, so names always go through these. */
const NAMES = {
  '#id': SESSION_ATTRIBUTES.sessionId,
  '#data': SESSION_ATTRIBUTES.data,
  '#version': SESSION_ATTRIBUTES.version,
  '#updatedAt': SESSION_ATTRIBUTES.updatedAt,
  '#expiresAt': SESSION_ATTRIBUTES.expiresAt,
  '#writeToken': SESSION_ATTRIBUTES.writeToken,
} as const;

/** The item exists, is at the expected version and has not expired: the precondition of every update and delete. */
const LIVE_AT_VERSION = 'attribute_exists(#id) AND #version = :expected AND #expiresAt > :now';

export class DynamoDbSessionStore implements SessionStore {
  readonly worstCaseCallMs: number;

  /** `deadlines` must be the ones `client` was built with (createSessionStore does both). */
  constructor(
    private readonly client: DynamoDbPort,
    private readonly tableName: string,
    deadlines: CallDeadlines = SESSION_CALL_DEADLINES,
  ) {
    this.worstCaseCallMs = worstCaseCallMs(deadlines);
  }

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
          // The token is written in the same conditional write as the version it names, so it can never describe another.
          UpdateExpression: 'SET #data = :data, #version = :version, #updatedAt = :updatedAt, #expiresAt = :expiresAt, #writeToken = :writeToken',
          ConditionExpression: LIVE_AT_VERSION,
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':data': { S: change.data },
            ':version': { N: String(change.version) },
            ':updatedAt': { S: change.updatedAt },
            ':expiresAt': { N: String(change.expiresAt) },
            ':expected': { N: String(expectedVersion) },
            ':now': { N: String(nowEpoch) },
            ':writeToken': { S: change.writeToken },
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

  /**
   * Turns a refused condition into an outcome carrying the item as DynamoDB saw it (ReturnValuesOnConditionCheckFailure
   * ALL_OLD) and whether the SDK had sent the write more than once; every other error propagates.
   */
  private async conditional(write: () => Promise<Session>): Promise<ConditionalOutcome> {
    try {
      return { applied: true, session: await write() };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // The retry middleware records on the final error how many attempts it made.
      const resent = (err.$metadata.attempts ?? 1) > 1;
      return { applied: false, current: err.Item === undefined ? undefined : fromSessionItem(err.Item), resent };
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
