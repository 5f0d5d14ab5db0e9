/**
 * The events Lambda's event source mappings deliver to our functions: SQS FIFO records and DynamoDB stream records.
 * Built as AWS documents them, so that a handler test feeds what AWS feeds, not what the handler expects.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { AttributeValue, DynamoDBRecord, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface SqsFifoRecordFields {
  readonly body: string;
  readonly messageGroupId: string;
  readonly messageDeduplicationId: string;
  /** @default a fresh id */
  readonly messageId?: string;
  /** @default a value larger than any earlier one in this process */
  readonly sequenceNumber?: string;
  /** @default '1' */
  readonly approximateReceiveCount?: string;
  /** Epoch milliseconds as a string. @default now */
  readonly sentTimestamp?: string;
  /** String message attributes by name; the API integration sends `apiRequestId`. @default none */
  readonly stringAttributes?: Readonly<Record<string, string>>;
  /** @default the orders FIFO queue of a sandbox */
  readonly queueArn?: string;
}

let counter = 0;
const nextSequence = (): string => `${18_849_496_460_467_696_128n + BigInt((counter += 1))}`;

/**
 * One record of an SQS FIFO event, field for field as the "Example Amazon SQS message event (FIFO queue)" of
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html: every attribute is a string (numbers too), FIFO
 * records carry SequenceNumber, MessageGroupId and MessageDeduplicationId, and message attributes are
 * `{stringValue, stringListValues: [], binaryListValues: [], dataType}` (lower-case keys, unlike SQS's own API).
 */
export function sqsFifoRecord(fields: SqsFifoRecordFields): SQSRecord {
  const sent = fields.sentTimestamp ?? String(Date.now());
  counter += 1;
  return {
    messageId: fields.messageId ?? `0e9c8a3e-5f51-4c3b-9a0e-${String(counter).padStart(12, '0')}`,
    receiptHandle: `AQEB${Buffer.from(`receipt-${counter}`).toString('base64')}`,
    body: fields.body,
    attributes: {
      ApproximateReceiveCount: fields.approximateReceiveCount ?? '1',
      SentTimestamp: sent,
      SequenceNumber: fields.sequenceNumber ?? nextSequence(),
      MessageGroupId: fields.messageGroupId,
      SenderId: 'AROAEXAMPLEAPIGATEWAY:BackplaneAssumeRoleSession',
      MessageDeduplicationId: fields.messageDeduplicationId,
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: lambdaMessageAttributes(fields.stringAttributes ?? {}),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: fields.queueArn ?? `arn:aws:sqs:${REGION}:${ACCOUNT}:sqs-orders-${REGION}-dev.fifo`,
    awsRegion: REGION,
  };
}

function lambdaMessageAttributes(attributes: Readonly<Record<string, string>>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [name, { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' }]),
  );
}

/**
 * What the event source mapping makes of a message it received: the ReceiveMessage answer (all system attributes
 * requested, as Lambda does) reshaped into the record above. moto's FIFO queues supply SequenceNumber and the group
 * and deduplication ids, like SQS; where moto omits an attribute the record falls back to AWS's documented form.
 */
export function sqsRecordFromMessage(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const required = (value: string | undefined, what: string): string => {
    if (value === undefined) throw new Error(`ReceiveMessage answered without ${what}`);
    return value;
  };
  const stringAttributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) => (value.StringValue === undefined ? [] : [[name, value.StringValue]])),
  );
  const record = sqsFifoRecord({
    body: message.Body ?? '',
    messageId: required(message.MessageId, 'MessageId'),
    messageGroupId: required(attributes['MessageGroupId'], 'MessageGroupId'),
    messageDeduplicationId: required(attributes['MessageDeduplicationId'], 'MessageDeduplicationId'),
    sequenceNumber: required(attributes['SequenceNumber'], 'SequenceNumber'),
    approximateReceiveCount: required(attributes['ApproximateReceiveCount'], 'ApproximateReceiveCount'),
    sentTimestamp: required(attributes['SentTimestamp'], 'SentTimestamp'),
    stringAttributes,
    queueArn,
  });
  return {
    ...record,
    receiptHandle: required(message.ReceiptHandle, 'ReceiptHandle'),
    md5OfBody: message.MD5OfBody ?? '',
    attributes: {
      ...record.attributes,
      ...(attributes['SenderId'] === undefined ? {} : { SenderId: attributes['SenderId'] }),
      ...(attributes['ApproximateFirstReceiveTimestamp'] === undefined ? {} : { ApproximateFirstReceiveTimestamp: attributes['ApproximateFirstReceiveTimestamp'] }),
    },
  };
}

export interface DynamoDbStreamRecordFields {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Record<string, AttributeValue>;
  readonly newImage?: Record<string, AttributeValue>;
  readonly oldImage?: Record<string, AttributeValue>;
  /** Epoch seconds (a number, unlike SQS's string milliseconds). @default now */
  readonly approximateCreationDateTime?: number;
  /** @default a value larger than any earlier one in this process */
  readonly sequenceNumber?: string;
  /** A deletion by Time to Live carries DynamoDB's service identity. @default false */
  readonly byTimeToLive?: boolean;
  /** @default the session table's stream of a sandbox */
  readonly streamArn?: string;
}

/** The principal of a TTL deletion (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html). */
export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

/**
 * One record of a DynamoDB stream event for a NEW_AND_OLD_IMAGES stream, as in the example event of
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html and the StreamRecord of the DynamoDB Streams API
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html): eventVersion "1.1",
 * ApproximateCreationDateTime in epoch seconds, images only where the change has them (INSERT has no OldImage,
 * REMOVE no NewImage), and `userIdentity` `{type: "Service", principalId: "dynamodb.amazonaws.com"}` on TTL deletions.
 */
export function dynamoDbStreamRecord(fields: DynamoDbStreamRecordFields): DynamoDBRecord {
  counter += 1;
  const images = { ...(fields.newImage === undefined ? {} : { NewImage: fields.newImage }), ...(fields.oldImage === undefined ? {} : { OldImage: fields.oldImage }) };
  const sizeBytes = Buffer.byteLength(JSON.stringify({ ...fields.keys, ...images }));
  return {
    eventID: `c4ca4238a0b923820dcc509a6f75849${counter.toString(16)}`,
    eventName: fields.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    eventSourceARN: fields.streamArn ?? `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/table-sessions-${REGION}-dev/stream/2030-01-01T00:00:00.000`,
    dynamodb: {
      ApproximateCreationDateTime: fields.approximateCreationDateTime ?? Math.floor(Date.now() / 1000),
      Keys: fields.keys,
      ...images,
      SequenceNumber: fields.sequenceNumber ?? `${4_421_584_500_000_000_017_450_439_091n + BigInt(counter)}`,
      SizeBytes: sizeBytes,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...(fields.byTimeToLive === true ? { userIdentity: { type: 'Service', principalId: TTL_PRINCIPAL } } : {}),
  };
}
