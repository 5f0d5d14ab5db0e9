/**
 * DynamoDB table of user sessions: on-demand, point-in-time recovery, change stream for the audit trail,
 * TTL expiry, encrypted with the stage key, destroyable.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
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

  constructor(scope: Construct, id: string, props: SessionTableProps) {
    super(scope, id);
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

  /** Read and write items (used by the sessions API). */
  grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** Consume the change stream (used by the audit forwarder). */
  grantStreamRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantStreamRead(grantee);
  }
}
