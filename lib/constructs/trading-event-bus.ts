/**
 * The platform's custom EventBridge bus: every order and health event is archived for replay, and rules that
 * filter by content route the ones that matter (rejections, large notional, critical severity) to the audit
 * log group and, when one is attached, the alert topic.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { ResourceNames } from '../config';
import { ORDER_EVENT_DETAIL_TYPES } from '../../lambda/shared/order-events';
import { PLATFORM_EVENT_SOURCE } from '../../lambda/shared/platform-events';

/** `source` of every event the platform publishes (the one the functions' publisher stamps on each event). */
export const EVENT_SOURCE = PLATFORM_EVENT_SOURCE;

/** Detail types published on the bus. */
export const EVENT_DETAIL_TYPES = {
  orderAccepted: ORDER_EVENT_DETAIL_TYPES.accepted,
  orderRejected: ORDER_EVENT_DETAIL_TYPES.rejected,
  orderConflict: ORDER_EVENT_DETAIL_TYPES.conflict,
  healthCheckFailed: 'HealthCheckFailed',
  sessionChanged: 'SessionChanged',
} as const;

export interface TradingEventBusProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** @default Duration.days(365) */
  readonly archiveRetention?: Duration;
}

/** A rule's purpose and its content filter. */
interface RoutedRule {
  readonly purpose: string;
  readonly description: string;
  readonly pattern: events.EventPattern;
}

/**
 * Default settings: archive of every platform event for 365 days, encrypted with the stage key; rules `orders-rejected`,
 * `orders-large-notional`, `critical` to the audit log group `/aws/events/trading/{suffix}/audit`.
 */
export class TradingEventBus extends Construct {
  public readonly bus: events.EventBus;
  /** Archive of every platform event, encrypted with the stage key. */
  public readonly archive: events.Archive;
  public readonly auditLogGroup: logs.LogGroup;
  public readonly rules: events.Rule[] = [];
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TradingEventBusProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.names.of('eventBus', 'trading'),
      description: 'Order, session and health events of the trading platform',
      kmsKey: props.encryptionKey,
    });
    this.archive = this.bus.archive('Archive', {
      archiveName: props.names.of('eventArchive', 'trading'),
      description: 'Every platform event, for replay after an incident',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(365),
    });
    // Archived events are encrypted with the stage key, like the bus. Not through the `kmsKey` prop: that adds statements
    // naming this bus to the key's policy, and the key lives in the data stack (a cross-stack cycle) - PlatformKey grants
    // EventBridge the archive permissions by the bus's conventional name instead.
    const cfnArchive = this.archive.node.defaultChild;
    if (!(cfnArchive instanceof events.CfnArchive)) throw new Error('aws-cdk-lib changed the layout of events.Archive: expected a CfnArchive default child');
    cfnArchive.kmsKeyIdentifier = props.encryptionKey.keyArn;

    // EventBridge can only deliver to log groups named /aws/events/...
    this.auditLogGroup = new logs.LogGroup(this, 'AuditLogGroup', {
      logGroupName: `/aws/events/trading/${props.names.environmentSuffix}/audit`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A native resource policy instead of CDK's per-rule custom resource (one more Lambda to run and adopt).
    const auditLogGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: this.auditLogGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    new logs.CfnResourcePolicy(this, 'AuditLogGroupPolicy', {
      policyName: `eventbridge-audit-${props.names.environmentSuffix}`,
      policyDocument: stack.toJsonString({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'EventBridgeWritesAuditLog',
            Effect: 'Allow',
            Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${auditLogGroupArn}:*`,
          },
        ],
      }),
    });

    const routed: RoutedRule[] = [
      {
        purpose: 'orders-rejected',
        description: 'Orders the processor rejected (validation, risk limit, kill switch), and reused clientOrderIds (OrderConflict)',
        pattern: { source: [EVENT_SOURCE], detailType: [EVENT_DETAIL_TYPES.orderRejected, EVENT_DETAIL_TYPES.orderConflict] },
      },
      {
        purpose: 'orders-large-notional',
        description: 'Accepted orders the processor flagged as above the large-notional threshold',
        pattern: { source: [EVENT_SOURCE], detailType: [EVENT_DETAIL_TYPES.orderAccepted], detail: { largeNotional: [true] } },
      },
      {
        purpose: 'critical',
        description: 'Any platform event of critical severity (failed health checks among them)',
        pattern: { source: [EVENT_SOURCE], detail: { severity: ['CRITICAL'] } },
      },
    ];
    // Deliveries that still fail after EventBridge's retries (24 h) land here instead of being dropped.
    this.deadLetterQueue = createDeadLetterQueue(this, 'DeliveryDeadLetterQueue', {
      names: props.names,
      purpose: 'events-dlq',
      encryptionKey: props.encryptionKey,
      deadLetterOf: 'the event bus rule targets',
      handling: 'an operator inspects and replays from the archive (docs/runbook.md).',
    });
    const deadLetterQueue = this.deadLetterQueue;
    const auditTarget: events.IRuleTarget = {
      bind: () => ({ arn: auditLogGroupArn, deadLetterConfig: { arn: deadLetterQueue.queueArn }, retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 } }),
    };
    for (const rule of routed) {
      this.rules.push(
        new events.Rule(this, `Rule-${rule.purpose}`, {
          eventBus: this.bus,
          ruleName: props.names.of('eventRule', rule.purpose),
          description: rule.description,
          eventPattern: rule.pattern,
          targets: [auditTarget],
        }),
      );
    }
    // EventBridge may send to the DLQ only for these rules.
    this.deadLetterQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rules.map((rule) => rule.ruleArn) } },
      }),
    );
  }

  /** Sends critical and rejection events to the alert topic as well (the topic's key must allow EventBridge). */
  addAlertTopic(topic: sns.ITopic): void {
    for (const rule of this.rules) {
      rule.addTarget(new targets.SnsTopic(topic, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) }));
    }
  }

  /** Publish events on the bus. */
  grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.bus.grantPutEventsTo(grantee);
  }
}
