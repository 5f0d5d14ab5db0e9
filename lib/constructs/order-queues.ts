/**
 * The durable heart of the order flow: a FIFO queue (ordered per account, de-duplicated by client order id)
 * and its FIFO dead-letter queue, both KMS-encrypted and TLS-only.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { grantSendToQueue } from './grants';

export interface OrderQueuesProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** Timeout of the consuming function; the visibility timeout is six times it (AWS guidance for SQS event sources). */
  readonly consumerTimeout: Duration;
}

/**
 * Default settings: high-throughput FIFO (deduplication per message group, throughput per group), 4-day
 * retention on the queue and 14 days (the maximum) on the DLQ so an operator has two weeks to redrive; the DLQ
 * accepts dead letters from the orders queue only (redrive allow policy `byQueue`).
 */
export class OrderQueues extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: OrderQueuesProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const queueName = props.names.of('fifoQueue', 'orders');
    // By name, not by reference: the orders queue's redrive policy already refers to this queue, so a reference back
    // would be a cycle.
    const ordersQueueByName = sqs.Queue.fromQueueArn(this, 'OrdersQueueByName', Stack.of(this).formatArn({ service: 'sqs', resource: queueName }));
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: props.names.of('fifoQueue', 'orders-dlq'),
      fifo: true,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Declares it a dead-letter queue, and of the orders queue only: no other queue can park messages here.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.BY_QUEUE, sourceQueues: [ordersQueueByName] },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This is the dead-letter queue; its messages are inspected and redriven to the orders queue by an operator (docs/runbook.md), never to a further queue.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      fifo: true,
      // The API sets the deduplication id to the client's order id: a retried POST never queues twice.
      contentBasedDeduplication: false,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Send orders (used by the API Gateway integration role): SendMessage on this queue and the KMS actions it needs. */
  grantSend(grantee: iam.IGrantable): void {
    grantSendToQueue(grantee, this.queue, this.encryptionKey, 'SendOrders');
  }
}
