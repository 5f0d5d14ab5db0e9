/**
 * DynamoDB table of user sessions: on-demand, point-in-time recovery, change stream for the audit trail,
 * TTL expiry, encrypted with the stage key, destroyable.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

/** Attribute names shared with the session handlers. */
export const SESSION_TABLE_SCHEMA = {
  partitionKey: 'sessionId',
  ttlAttribute: 'expiresAt',
  versionAttribute: 'version',
} as const;

export interface SessionTableProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
}

/** Default settings: PAY_PER_REQUEST, PITR on, stream NEW_AND_OLD_IMAGES, TTL on `expiresAt`, customer-managed KMS. */
export class SessionTable extends Construct {
  public readonly table: dynamodb.Table;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: SessionTableProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.names.of('table', 'sessions'),
      partitionKey: { name: SESSION_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: SESSION_TABLE_SCHEMA.ttlAttribute,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /**
   * Item reads and writes (sessions API). Identity policy with exact actions, plus the two KMS actions DynamoDB
   * needs for a customer-managed key, instead of the grant methods' wildcard KMS actions.
   */
  grantReadWriteData(grantee: iam.IGrantable): void {
    this.grant(grantee, 'SessionItems', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [this.table.tableArn]);
  }

  /** The deep health probe: a consistent GetItem of its sentinel key goes through the same path as the sessions API. */
  grantHealthProbe(grantee: iam.IGrantable): void {
    this.grant(grantee, 'ProbeSessionTable', ['dynamodb:GetItem'], [this.table.tableArn]);
  }

  /** Table status only (health monitor): DescribeTable, no item access. */
  grantDescribe(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DescribeSessionTable', actions: ['dynamodb:DescribeTable'], resources: [this.table.tableArn] }),
    );
  }

  /** Consume the change stream (audit forwarder). */
  grantStreamRead(grantee: iam.IGrantable): void {
    const streamArn = this.table.tableStreamArn;
    if (!streamArn) throw new Error('The session table has no stream');
    // The event source mapping is given the stream ARN, so ListStreams (which needs "*") is not required.
    this.grant(grantee, 'SessionStream', ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [streamArn]);
  }

  private grant(grantee: iam.IGrantable, sid: string, actions: string[], resources: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Kms`,
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
