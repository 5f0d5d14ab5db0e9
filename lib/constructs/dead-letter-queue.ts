/**
 * A standard (non-FIFO) dead-letter or failure-destination queue with the platform's defaults: KMS, TLS only,
 * 14-day retention (the SQS maximum), destroyable; and the two nag findings every end-of-line queue carries.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

export interface DeadLetterQueueProps {
  readonly names: ResourceNames;
  /** Kebab-case purpose in the queue name, e.g. `health-monitor-dlq`. */
  readonly purpose: string;
  readonly encryptionKey: kms.IKey;
  /** Whose failures land here, e.g. "the health monitor and its schedule". */
  readonly deadLetterOf: string;
  /** What an operator does with a message here (why it is not redriven to a further queue). */
  readonly handling: string;
}

/** Creates the queue in `scope` under `id` and returns it. */
export function createDeadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    queueName: props.names.of('queue', props.purpose),
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(queue).acknowledge(
    { id: 'AwsSolutions-SQS3', reason: `This queue is itself the dead-letter queue of ${props.deadLetterOf}.` },
    { id: 'Serverless-SQSRedrivePolicy', reason: `End of the line for ${props.deadLetterOf}: ${props.handling}` },
  );
  return queue;
}
