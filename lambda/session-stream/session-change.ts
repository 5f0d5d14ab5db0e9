/**
 * Turns one session-table stream record into the `SessionChanged` event detail for the platform bus.
 * Reads only ids, version and timing from the images: the session `data` never leaves the table (privacy).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { ValidationError } from '../shared/errors';
import type { EventSeverity } from '../shared/order-events';
import { integerAttribute, SESSION_ATTRIBUTES, stringAttribute } from '../shared/session-item';

export const SESSION_CHANGED_DETAIL_TYPE = 'SessionChanged';

export const SESSION_CHANGES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
export type SessionChangeKind = (typeof SESSION_CHANGES)[number];

/** The principal DynamoDB's TTL process acts as when it deletes an expired item. */
export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

export interface SessionChangedDetail {
  readonly sessionId: string;
  readonly accountId: string;
  readonly change: SessionChangeKind;
  /** The version after the change; for REMOVE, the version that was removed. */
  readonly version: number;
  /** True only for a REMOVE done by TTL, i.e. the session expired rather than being deleted by its client. */
  readonly expired: boolean;
  /** Audit events are routine; only the platform's failure events carry WARNING or CRITICAL. */
  readonly severity: EventSeverity;
  /** When DynamoDB recorded the change (ISO 8601, second precision as the stream reports it). */
  readonly occurredAt: string;
  /**
   * The stream record's id. A stream batch that partly fails is retried from the first failed record, so events after
   * it may be published twice; consumers de-duplicate on this.
   */
  readonly streamEventId: string;
}

/**
 * The detail for `record`; `now` stands in for a missing ApproximateCreationDateTime. A record without the session
 * shape is a ValidationError, which retrying cannot fix: the handler parks it whole in the replay queue for an
 * operator rather than publishing it half-empty.
 */
export function toSessionChangedDetail(record: DynamoDBRecord, now: Date): SessionChangedDetail {
  const change = SESSION_CHANGES.find((kind) => kind === record.eventName);
  if (change === undefined) throw new ValidationError('eventName', record.eventName, `must be one of ${SESSION_CHANGES.join(', ')}`);
  const stream = record.dynamodb;
  const sessionId = stringAttribute(stream?.Keys ?? {}, SESSION_ATTRIBUTES.sessionId);
  if (sessionId === undefined) throw new ValidationError('dynamodb.Keys.sessionId', stream?.Keys, 'must be a string attribute');
  // REMOVE carries only the old image; INSERT and MODIFY describe the state after the change.
  const imageName = change === 'REMOVE' ? 'OldImage' : 'NewImage';
  const image = stream?.[imageName];
  if (image === undefined) {
    throw new ValidationError(`dynamodb.${imageName}`, undefined, 'is required: the stream must use NEW_AND_OLD_IMAGES');
  }
  const accountId = stringAttribute(image, SESSION_ATTRIBUTES.accountId);
  if (accountId === undefined) {
    throw new ValidationError(`dynamodb.${imageName}.accountId`, sessionId, 'must be a string attribute of the session item');
  }
  const version = integerAttribute(image, SESSION_ATTRIBUTES.version);
  if (version === undefined) {
    throw new ValidationError(`dynamodb.${imageName}.version`, sessionId, 'must be an integer attribute of the session item');
  }
  const createdSeconds = stream?.ApproximateCreationDateTime;
  return {
    sessionId,
    accountId,
    change,
    version,
    expired: change === 'REMOVE' && isTtlDeletion(record),
    severity: 'INFO',
    occurredAt: (typeof createdSeconds === 'number' ? new Date(createdSeconds * 1000) : now).toISOString(),
    streamEventId: record.eventID ?? `${sessionId}:${stream?.SequenceNumber ?? 'unknown'}`,
  };
}

/** DynamoDB marks TTL deletions with `userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' }`. */
function isTtlDeletion(record: DynamoDBRecord): boolean {
  // @types/aws-lambda types userIdentity as `any`; read it as unknown.
  const identity: unknown = record.userIdentity;
  if (typeof identity !== 'object' || identity === null) return false;
  return Reflect.get(identity, 'principalId') === TTL_PRINCIPAL;
}
