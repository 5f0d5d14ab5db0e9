/**
 * What an operator needs to replay a session change the consumer could not publish: the stream record without the
 * session data, kept durably (an SQS message and an ERROR log line), because the SQS on-failure destination of the
 * event source mapping receives only batch metadata and the stream itself trims records after 24 hours.
 */
import { SendMessageCommand, type SendMessageCommandOutput } from '@aws-sdk/client-sqs';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';
import { isJsonObject } from '../shared/json';
import { worstCaseCallMs, type CallDeadlines } from '../shared/aws-clients';
import { SESSION_ATTRIBUTES } from '../shared/session-item';

export const REPLAY_MESSAGE_KIND = 'SessionChangeReplay';

/**
 * The item attributes a replay needs and that carry no client data; everything else is left out of the images.
 * An allow-list rather than leaving out `data` alone: a hand-edited item may hold anything.
 */
export const REPLAYABLE_ATTRIBUTES: ReadonlySet<string> = new Set([
  SESSION_ATTRIBUTES.sessionId,
  SESSION_ATTRIBUTES.accountId,
  SESSION_ATTRIBUTES.version,
  SESSION_ATTRIBUTES.createdAt,
  SESSION_ATTRIBUTES.updatedAt,
  SESSION_ATTRIBUTES.expiresAt,
  SESSION_ATTRIBUTES.writeToken,
]);

export interface ReplayMessage {
  readonly kind: typeof REPLAY_MESSAGE_KIND;
  /** Of this message's shape, so a replay tool can refuse one it does not know. */
  readonly formatVersion: 1;
  /** Why the change was not published. */
  readonly reason: string;
  /** Whether the cause looked transient (the record was also returned as a batch failure) or needs an operator. */
  readonly retryable: boolean;
  readonly failedAt: string;
  /** Attribute names left out of the images (always `data` for a session item). */
  readonly omittedAttributes: readonly string[];
  /**
   * The stream record as Lambda delivered it, images restricted to REPLAYABLE_ATTRIBUTES: invoking the consumer with
   * `{"Records": [record]}` publishes the change again, with the same streamEventId for consumers to de-duplicate on.
   */
  readonly record: DynamoDBRecord;
}

/** The message for `record`; builds a fresh object field by field, so nothing the record gains later leaks by default. */
export function replayMessage(record: DynamoDBRecord, failure: { readonly reason: string; readonly retryable: boolean }, now: Date): ReplayMessage {
  const stream = record.dynamodb;
  const images = {
    Keys: stream?.Keys === undefined ? undefined : restricted(stream.Keys),
    NewImage: stream?.NewImage === undefined ? undefined : restricted(stream.NewImage),
    OldImage: stream?.OldImage === undefined ? undefined : restricted(stream.OldImage),
  };
  const omitted = new Set(Object.values(images).flatMap((image) => image?.omitted ?? []));
  const dynamodb: StreamRecord | undefined =
    stream === undefined
      ? undefined
      : {
          ...(stream.ApproximateCreationDateTime === undefined ? {} : { ApproximateCreationDateTime: stream.ApproximateCreationDateTime }),
          ...(images.Keys === undefined ? {} : { Keys: images.Keys.kept }),
          ...(images.NewImage === undefined ? {} : { NewImage: images.NewImage.kept }),
          ...(images.OldImage === undefined ? {} : { OldImage: images.OldImage.kept }),
          ...(stream.SequenceNumber === undefined ? {} : { SequenceNumber: stream.SequenceNumber }),
          ...(stream.SizeBytes === undefined ? {} : { SizeBytes: stream.SizeBytes }),
          ...(stream.StreamViewType === undefined ? {} : { StreamViewType: stream.StreamViewType }),
        };
  // @types/aws-lambda types userIdentity as `any`; only the two documented string fields are kept.
  const identity: unknown = record.userIdentity;
  const userIdentity = isJsonObject(identity) ? { type: String(identity['type']), principalId: String(identity['principalId']) } : undefined;
  const copy: DynamoDBRecord = {
    ...(record.eventID === undefined ? {} : { eventID: record.eventID }),
    ...(record.eventName === undefined ? {} : { eventName: record.eventName }),
    ...(record.eventVersion === undefined ? {} : { eventVersion: record.eventVersion }),
    ...(record.eventSource === undefined ? {} : { eventSource: record.eventSource }),
    ...(record.awsRegion === undefined ? {} : { awsRegion: record.awsRegion }),
    ...(record.eventSourceARN === undefined ? {} : { eventSourceARN: record.eventSourceARN }),
    ...(dynamodb === undefined ? {} : { dynamodb }),
    ...(userIdentity === undefined ? {} : { userIdentity }),
  };
  return {
    kind: REPLAY_MESSAGE_KIND,
    formatVersion: 1,
    reason: failure.reason,
    retryable: failure.retryable,
    failedAt: now.toISOString(),
    omittedAttributes: [...omitted].sort(),
    record: copy,
  };
}

/** The image's replayable attributes, and the names of those left out. */
function restricted(image: Readonly<Record<string, AttributeValue>>): { readonly kept: Record<string, AttributeValue>; readonly omitted: readonly string[] } {
  const kept: Record<string, AttributeValue> = {};
  const omitted: string[] = [];
  for (const [name, value] of Object.entries(image)) {
    if (REPLAYABLE_ATTRIBUTES.has(name)) kept[name] = value;
    else omitted.push(name);
  }
  return { kept, omitted };
}

/** Where changes that will not publish by retrying are parked for an operator. */
export interface ReplayQueuePort {
  /** The longest one send can take: checked against the invocation's remaining time before sending. */
  readonly worstCaseCallMs: number;
  send(message: ReplayMessage): Promise<void>;
}

/** The queue behind REPLAY_QUEUE_URL; `deadlines` must be those `client` was built with. */
export function sqsReplayQueue(
  client: { send(command: SendMessageCommand): Promise<SendMessageCommandOutput> },
  queueUrl: string,
  deadlines: CallDeadlines,
): ReplayQueuePort {
  return {
    worstCaseCallMs: worstCaseCallMs(deadlines),
    send: async (message) => {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
}
