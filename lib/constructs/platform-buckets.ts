/**
 * The platform's S3 buckets: application configuration and audit logs (both versioned, KMS-encrypted),
 * and the server access log bucket they write to. TLS only, no public access, lifecycle rules, auto-delete.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

export interface PlatformBucketsProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
}

/** Settings every bucket of the platform shares; kept here so no bucket can forget one. */
const SECURE_BUCKET_DEFAULTS = {
  versioned: true,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.DESTROY,
  autoDeleteObjects: true,
} as const;

const ABORT_INCOMPLETE_UPLOADS = Duration.days(7);

/**
 * Default settings: config bucket keeps noncurrent versions 90 days; audit bucket moves objects to Glacier
 * Instant Retrieval after 90 days and Deep Archive after 365, keeps noncurrent versions 365 days; access logs
 * (SSE-S3, which S3 log delivery requires) expire after 365 days; config and audit object events to EventBridge.
 */
export class PlatformBuckets extends Construct {
  public readonly configBucket: s3.Bucket;
  public readonly auditBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  /** The config bucket's name as a literal, for grants in other stacks without a cross-stack reference. */
  public readonly configBucketName: string;

  constructor(scope: Construct, id: string, props: PlatformBucketsProps) {
    super(scope, id);
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      ...SECURE_BUCKET_DEFAULTS,
      bucketName: props.names.of('bucket', 'access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS },
      ],
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would loop. Object-level API activity is in CloudTrail.',
    });

    this.configBucketName = props.names.of('bucket', 'config');
    this.configBucket = new s3.Bucket(this, 'ConfigBucket', {
      ...SECURE_BUCKET_DEFAULTS,
      bucketName: this.configBucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'config/',
      lifecycleRules: [
        { id: 'expire-noncurrent-config', noncurrentVersionExpiration: Duration.days(90), noncurrentVersionsToRetain: 10, abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS },
      ],
    });

    this.auditBucket = new s3.Bucket(this, 'AuditBucket', {
      ...SECURE_BUCKET_DEFAULTS,
      bucketName: props.names.of('bucket', 'audit'),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'audit/',
      lifecycleRules: [
        {
          id: 'audit-to-colder-storage',
          transitions: [
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
            { storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: Duration.days(365) },
          ],
          noncurrentVersionExpiration: Duration.days(365),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS,
        },
      ],
    });

    // Object-level changes of configuration and audit records go to the account's default event bus, where a rule can
    // alert on them (Control Tower CT.S3.PR.4). Set on the CloudFormation bucket itself: the L2 `eventBridgeEnabled`
    // adds a CDK notification-handler Lambda outside the VPC that creates its own log group at run time.
    for (const bucket of [this.configBucket, this.auditBucket]) {
      (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    }
  }

  /** Read application configuration objects. */
  grantConfigRead(grantee: iam.IGrantable): iam.Grant {
    return this.configBucket.grantRead(grantee);
  }

  /** Append audit records; no delete or overwrite of existing versions is granted. */
  grantAuditWrite(grantee: iam.IGrantable): iam.Grant {
    return this.auditBucket.grantPut(grantee);
  }
}
