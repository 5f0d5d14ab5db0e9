/**
 * The stage's customer-managed KMS key: encrypts Aurora, DynamoDB, S3, SQS, SNS, secrets and log groups.
 * Default settings: yearly rotation, grants only by AWS services, DESTROY on removal with the shortest (7-day) pending window.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

export interface PlatformKeyProps {
  readonly names: ResourceNames;
}

/**
 * Lets only AWS services create grants on `key`: denies kms:CreateGrant to every principal unless the grant is for an
 * AWS resource (an integrated service creating it on the caller's behalf, as Aurora, DynamoDB and Performance Insights
 * do) or the caller is an AWS service (KMS developer guide, "kms:GrantIsForAWSResource"; Control Tower CT.KMS.PR.3).
 * Nothing in the platform creates grants itself, and a grant is a way around the key policy that no audit of the
 * policy would show.
 */
export function restrictGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      // Strings, as the condition operator compares them; BoolIfExists so a request without the key is denied too.
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}

/** One customer-managed key per stage, usable by CloudWatch Logs for the stage's own log groups only. */
export class PlatformKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      alias: `alias/${props.names.of('kmsAlias', 'platform')}`,
      description: `Encrypts the trading platform data and logs of ${props.names.environmentSuffix}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    restrictGrantsToAwsServices(this.key);
    // CloudWatch Logs encrypts with the key itself; the encryption context limits it to this stage's log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForStageLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              `${props.names.parameterPrefix}/*`,
              `/aws/rds/cluster/*-${props.names.environmentSuffix}/*`,
              `/aws/events/trading/${props.names.environmentSuffix}/*`,
              // API Gateway fixes the execution log group name (API id + stage); the id is unknown to this stack.
              'API-Gateway-Execution-Logs_*',
            ].map((logGroupPattern) =>
              stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupPattern, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
            ),
          },
        },
      }),
    );
    // CloudWatch alarms publish to the stage's KMS-encrypted alert topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsForAlertTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `alarm-*-${stack.region}-${props.names.environmentSuffix}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    // SNS moves undeliverable alerts into the stage's encrypted dead-letter queue.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSnsForStageDeadLetters',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'sns', resource: `sns-*-${stack.region}-${props.names.environmentSuffix}`, arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
    );
    // EventBridge encrypts the stage's event archive with this key: the archive's encryption context is the bus ARN, and
    // the bus's name is known by convention (no reference to the service stack, which would be a cycle). As documented
    // in https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html (ReEncrypt* spelled out).
    const busArn = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: props.names.of('eventBus', 'trading') });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeForStageArchive',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn } },
      }),
    );
    // The archive page's policy grants DescribeKey without a condition: EventBridge reads the key's ARN and checks that it
    // is symmetric when the archive is created or updated. It reveals key metadata only, never key material.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeDescribeKeyForArchive',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    // EventBridge encrypts the stage's bus with this key, and delivers to the stage's encrypted SQS DLQs and SNS topic.
    // Conditions limit it to this account's resources named for this stage (names carry the suffix).
    const stageResourcePattern = `*-${stack.region}-${props.names.environmentSuffix}*`;
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeForStageResources',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: stageResourcePattern, arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
    );
  }
}
