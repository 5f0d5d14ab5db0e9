/**
 * The stage's alert topic: every alarm, failed health check and critical event ends here. KMS-encrypted,
 * TLS-only publishing, with the on-call e-mail from config subscribed.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { ResourceNames } from '../config';
import { grantKeyUseVia } from './grants';

export interface AlertingProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  /** @default - no e-mail subscription (sandboxes) */
  readonly alarmEmail?: string;
}

/** Default settings: topic `sns-alerts-us-east-1-{suffix}`, SSL enforced, e-mail subscription when configured. */
export class Alerting extends Construct {
  public readonly topic: sns.Topic;
  public readonly deadLetterQueue: sqs.Queue;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.names.of('topic', 'alerts'),
      displayName: `Trading platform alerts (${props.names.environmentSuffix})`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // Undeliverable notifications (a bouncing mailbox) are kept for 14 days instead of being lost.
    this.deadLetterQueue = createDeadLetterQueue(this, 'DeliveryDeadLetterQueue', {
      names: props.names,
      purpose: 'alerts-dlq',
      encryptionKey: props.encryptionKey,
      deadLetterOf: 'the alert subscriptions',
      handling: 'undeliverable alerts are read by an operator.',
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail, { deadLetterQueue: this.deadLetterQueue }));
    }
  }

  /** Publish alerts (health monitor): sns:Publish on this topic and the KMS actions SNS needs for it. */
  grantPublish(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PublishAlerts', actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    grantKeyUseVia(grantee, this.encryptionKey, 'sns', 'PublishAlertsKms');
  }
}
