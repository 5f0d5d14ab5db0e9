/**
 * Every acknowledged AWS Control Tower (cfn-guard) finding of the project, in one place for review: per rule and per
 * resource, each with the reason it is true. Anything not listed here fails the synth (lib/compliance/policy-engines.ts).
 */
import { CfnDeletionPolicy, CfnResource, Reference, Stack, Stage, Tokenization, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { EnvironmentKind } from '../config';
import { GUARD_PLUGIN_NAME } from './control-tower-guard';

/** The guard rule names (what the report calls `ruleName`) this file acknowledges, with their Control Tower ids. */
export const GUARD_RULES = {
  logGroupEncrypted: { rule: 'cloudwatch_log_group_encrypted_check', control: 'CT.CLOUDWATCH.PR.3' },
  logGroupRetention: { rule: 'cloudwatch_log_group_retention_period_check', control: 'CT.CLOUDWATCH.PR.2' },
  queueEncrypted: { rule: 'sqs_queue_encrypted_check', control: 'CT.SQS.PR.2' },
  queueDeadLetterQueue: { rule: 'sqs_dlq_check', control: 'CT.SQS.PR.1' },
  functionInVpc: { rule: 'lambda_inside_vpc_check', control: 'CT.LAMBDA.PR.3' },
  functionPermissionSource: { rule: 'lambda_function_public_access_prohibited_check', control: 'CT.LAMBDA.PR.2' },
  clusterDeletionProtection: { rule: 'rds_cluster_deletion_protection_enabled_check', control: 'CT.RDS.PR.3' },
  clusterIamAuthentication: { rule: 'rds_cluster_iam_authentication_enabled_check', control: 'CT.RDS.PR.4' },
  bucketKmsEncryption: { rule: 's3_bucket_default_encryption_kms_check', control: 'CT.S3.PR.10' },
  bucketAccessLogging: { rule: 's3_bucket_logging_enabled_check', control: 'CT.S3.PR.2' },
  bucketEventNotifications: { rule: 's3_event_notifications_enabled_check', control: 'CT.S3.PR.4' },
  bucketObjectLock: { rule: 's3_bucket_object_lock_enabled_check', control: 'CT.S3.PR.9' },
} as const;

type GuardRule = (typeof GUARD_RULES)[keyof typeof GUARD_RULES];

/** The CloudWatch Logs retention CT.CLOUDWATCH.PR.2 requires at least. */
const CONTROL_TOWER_MINIMUM_RETENTION_DAYS = 365;

const CROSS_STACK_REASON =
  'the rule resolves only a literal or a Ref/Fn::GetAtt to a resource of the same template, and this is a reference to ' +
  'the data stack of the same stage (Fn::GetStackOutput), which a Control Tower hook sees resolved at deploy time';

function acknowledge(construct: IConstruct, { rule, control }: GuardRule, reason: string): void {
  Validations.of(construct).acknowledge({ id: `${GUARD_PLUGIN_NAME}::${rule}`, reason: `${control}: ${reason}` });
}

/** The construct at `path` (ids joined by `/`) below `root`; a changed layout fails loudly rather than acknowledging nothing. */
function at(root: IConstruct, path: string): IConstruct {
  const found = path.split('/').reduce<IConstruct | undefined>((scope, id) => scope?.node.tryFindChild(id), root);
  if (!found) throw new Error(`Guard acknowledgement for ${root.node.path}/${path}: no such construct; the layout changed, review the acknowledgement`);
  return found;
}

/** The resources a token-bearing value refers to (through Ref / Fn::GetAtt), found without resolving it. */
function referencedResources(value: unknown): IConstruct[] {
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((item) => {
    if (typeof item !== 'string') return [];
    return Tokenization.reverseString(item).tokens.flatMap((token) => (token instanceof Reference ? [token.target] : []));
  });
}

/** True when `value` refers to a resource of `type` that lives in another stack than `owner`. */
function refersToOtherStack(owner: CfnResource, value: unknown, type: string): boolean {
  const targets = referencedResources(value).filter((target) => target instanceof CfnResource && target.cfnResourceType === type);
  return targets.length > 0 && targets.every((target) => Stack.of(target) !== Stack.of(owner));
}

/** True when the permission's SourceArn is an execute-api ARN of a REST API of the permission's own stack. */
function sourceArnNamesOwnRestApi(permission: lambda.CfnPermission): boolean {
  const stack = Stack.of(permission);
  // The ARN is built lazily (API, stage, verb, path); resolved, it must start with this account's execute-api prefix and refer to the API.
  const resolved = JSON.stringify(stack.resolve(permission.sourceArn) ?? null);
  const apiIds = stack.node.findAll().filter((construct): construct is apigateway.CfnRestApi => construct instanceof apigateway.CfnRestApi).map((api) => stack.getLogicalId(api));
  const executeApiPrefix = `arn:${stack.partition}:execute-api:${stack.region}:${stack.account}:`;
  return resolved.includes(JSON.stringify(executeApiPrefix)) && apiIds.some((id) => resolved.includes(JSON.stringify({ Ref: id })));
}

/**
 * Findings every stack can carry, acknowledged only where the code verifies the reason on the resource itself:
 * - encrypted with a key, or placed in subnets, of the data stack (a cross-stack reference the rules cannot resolve);
 * - API Gateway's invoke permissions, whose SourceArn names the API, stage, verb and path (an Fn::Join the rule cannot read);
 * - log retention below a year, outside Prod only;
 * - no Object Lock, on buckets that are deleted with their stack;
 * - what AWS requires of a server access log target bucket (SSE-S3, no logging of itself, no Object Lock).
 */
export function acknowledgeVerifiedGuardFindings(scope: Stage | Stack, shortRetention: Exclude<EnvironmentKind, 'prod'> | undefined): void {
  const logTargets = new Set(accessLogTargets(scope));
  for (const bucket of logTargets) acknowledgeAccessLogBucket(bucket);
  for (const construct of ownConstructs(scope)) {
    if (construct instanceof logs.CfnLogGroup) {
      if (refersToOtherStack(construct, construct.kmsKeyId, kms.CfnKey.CFN_RESOURCE_TYPE_NAME)) {
        acknowledge(construct, GUARD_RULES.logGroupEncrypted, `encrypted with the stage's KMS key; ${CROSS_STACK_REASON}.`);
      }
      if (shortRetention && (construct.retentionInDays ?? Infinity) < CONTROL_TOWER_MINIMUM_RETENTION_DAYS) {
        acknowledge(
          construct,
          GUARD_RULES.logGroupRetention,
          `a ${shortRetention} environment keeps logs ${construct.retentionInDays} days (environment config logRetention), for cost: they are test traffic, not records anyone must keep. Prod keeps them a year and is not acknowledged.`,
        );
      }
    } else if (construct instanceof sqs.CfnQueue) {
      if (refersToOtherStack(construct, construct.kmsMasterKeyId, kms.CfnKey.CFN_RESOURCE_TYPE_NAME)) {
        acknowledge(construct, GUARD_RULES.queueEncrypted, `encrypted with the stage's KMS key; ${CROSS_STACK_REASON}.`);
      }
    } else if (construct instanceof lambda.CfnFunction) {
      const vpcConfig = construct.vpcConfig as lambda.CfnFunction.VpcConfigProperty | undefined;
      if (vpcConfig?.securityGroupIds !== undefined && refersToOtherStack(construct, vpcConfig.subnetIds, ec2.CfnSubnet.CFN_RESOURCE_TYPE_NAME)) {
        acknowledge(construct, GUARD_RULES.functionInVpc, `runs in the isolated subnets of the stage's VPC with its own security group; ${CROSS_STACK_REASON}.`);
      }
    } else if (construct instanceof lambda.CfnPermission) {
      if (construct.principal === 'apigateway.amazonaws.com' && sourceArnNamesOwnRestApi(construct)) {
        acknowledge(
          construct,
          GUARD_RULES.functionPermissionSource,
          'SourceArn limits the invocation to this stack\'s REST API, its stage, verb and path (arn:aws:execute-api:<region>:<account>:<api id>/...); the rule accepts a SourceArn only as a literal or a Ref/Fn::GetAtt, and the API id is known only at deploy time.',
        );
      }
    } else if (construct instanceof s3.CfnBucket && !logTargets.has(construct)) {
      if (construct.cfnOptions.deletionPolicy === CfnDeletionPolicy.DELETE) {
        acknowledge(
          construct,
          GUARD_RULES.bucketObjectLock,
          'the customer requires every resource to be destroyable with no manual step (requirements.md, Deployment Requirements); Object Lock would keep locked versions, and so the bucket, after cdk destroy. Versioning, KMS or SSE-S3, TLS only and no public access protect the objects instead.',
        );
      }
    }
  }
}

/** The constructs of `scope` itself, not of the stages nested in it (the pipeline stack holds Staging and Prod). */
function ownConstructs(scope: Stage | Stack): IConstruct[] {
  const stage = scope instanceof Stage ? scope : Stage.of(scope);
  return scope.node.findAll().filter((construct) => construct !== scope && Stage.of(construct) === stage);
}

/** The bucket(s) other buckets in `scope` deliver their server access logs to. */
function accessLogTargets(scope: Stage | Stack): s3.CfnBucket[] {
  const targets = ownConstructs(scope).flatMap((construct) => {
    if (!(construct instanceof s3.CfnBucket)) return [];
    const logging = construct.loggingConfiguration as s3.CfnBucket.LoggingConfigurationProperty | undefined;
    return referencedResources(logging?.destinationBucketName).filter((target): target is s3.CfnBucket => target instanceof s3.CfnBucket);
  });
  return [...new Set(targets)];
}

/** An S3 server access log bucket: what AWS requires of it, and why it logs nowhere and announces nothing. */
function acknowledgeAccessLogBucket(bucket: s3.CfnBucket): void {
  acknowledge(
    bucket,
    GUARD_RULES.bucketKmsEncryption,
    'server access log target bucket: "You can use default bucket encryption on the target bucket only if you use server-side encryption with Amazon S3 managed keys (SSE-S3) ... Default server-side encryption with AWS KMS keys (SSE-KMS) is not supported" (Amazon S3 user guide, "Enabling Amazon S3 server access logging").',
  );
  acknowledge(
    bucket,
    GUARD_RULES.bucketAccessLogging,
    'this is the server access log bucket itself: "Your target bucket should not have server access logging enabled"; logging into itself "will cause an infinite loop of logs" (Amazon S3 user guide, "Enabling Amazon S3 server access logging").',
  );
  acknowledge(bucket, GUARD_RULES.bucketObjectLock, 'server access log target bucket: "You can\'t enable S3 Object Lock on the target bucket" (Amazon S3 user guide, "Enabling Amazon S3 server access logging").');
  acknowledge(bucket, GUARD_RULES.bucketEventNotifications, 'only S3 log delivery writes here; an event per delivered log file would announce nothing anyone acts on.');
}

const DEAD_LETTER_REASON = 'a dead-letter queue is the end of the line: a queue for its own undeliverable messages would only move them, and it has no SQS source queue to declare in a redrive allow policy because';

/** The findings of one TradingPlatformStage (sandbox, Staging or Prod). Call at the end of its constructor. */
export function acknowledgeStageGuardFindings(stage: Stage, kind: EnvironmentKind): void {
  acknowledgeVerifiedGuardFindings(stage, kind === 'prod' ? undefined : kind);

  const cluster = at(stage, 'Data/Database/Cluster');
  acknowledge(cluster, GUARD_RULES.clusterDeletionProtection, 'the customer requires no deletion protection on databases or any resource (requirements.md, Deployment Requirements: "NO DeletionProtection enabled"); backups are kept 7 days.');
  acknowledge(
    cluster,
    GUARD_RULES.clusterIamAuthentication,
    'the functions authenticate with the RDS-managed secret that RDS rotates every 7 days (design.md allows IAM auth or a rotated secret); IAM auth caps new connections per second, which a failover reconnect storm would hit. Enabling it unused would only satisfy the rule.',
  );

  const deadLetterQueues: Record<string, string> = {
    'Service/EventBus/DeliveryDeadLetterQueue': 'EventBridge sends the events its rules cannot deliver here.',
    'Service/Alerting/DeliveryDeadLetterQueue': 'SNS moves the alerts its subscriptions cannot deliver here.',
    'Service/Health/MonitorDeadLetterQueue': 'the health monitor\'s schedule and asynchronous invocations park their failures here.',
    'Service/Sessions/StreamFailureQueue': 'Lambda writes the session stream\'s failed batches here (on-failure destination), and the stream consumer its replays.',
  };
  for (const [path, source] of Object.entries(deadLetterQueues)) acknowledge(at(stage, path), GUARD_RULES.queueDeadLetterQueue, `${DEAD_LETTER_REASON} ${source}`);

  const outsideVpc: Record<string, string> = {
    'Service/Health/Monitor/Function': 'the health monitor must reach the public API endpoint and the Route 53 API, which no VPC endpoint offers and the isolated subnets cannot reach (design.md, Health monitor).',
    'Service/AWS679f53fac002430cb0da5b7982bd2287':
      'aws-cdk-lib\'s AwsCustomResource provider; it runs once per deployment to call CloudWatch PutMetricData (the heartbeat seed), and the VPC has no CloudWatch monitoring endpoint (none is bought for one call per deploy).',
    'Data/SchemaMigrations/Provider/framework-onEvent': 'aws-cdk-lib\'s custom-resource framework function; it only invokes the migrator (which runs in the VPC) through the Lambda API, which has no endpoint in the VPC.',
    'Data/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler': 'aws-cdk-lib\'s bucket auto-delete provider (a CfnResource we do not own); it runs only when a bucket is deleted and calls only S3.',
    'Data/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler': 'aws-cdk-lib\'s provider that strips the VPC\'s default security group; it runs only at deployment and calls the EC2 API, which has no endpoint in the VPC.',
  };
  for (const [path, reason] of Object.entries(outsideVpc)) acknowledge(at(stage, path), GUARD_RULES.functionInVpc, reason);
}

/** The findings of the delivery pipeline's own stack (not its stages). Call at the end of its constructor. */
export function acknowledgePipelineGuardFindings(stack: Stack): void {
  acknowledgeVerifiedGuardFindings(stack, undefined);
  acknowledge(at(stack, 'ArtifactBucket'), GUARD_RULES.bucketEventNotifications, 'only the pipeline writes and reads its artifacts; CodePipeline records every execution itself, so object events would announce nothing anyone acts on.');
  acknowledge(at(stack, 'NotificationDeadLetterQueue'), GUARD_RULES.queueDeadLetterQueue, `${DEAD_LETTER_REASON} SNS and EventBridge move the delivery notifications they cannot deliver here.`);
  acknowledge(
    at(stack, 'Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler'),
    GUARD_RULES.functionInVpc,
    'aws-cdk-lib\'s bucket auto-delete provider (a CfnResource we do not own); it runs only when a bucket is deleted and calls only S3. The delivery account has no VPC.',
  );
}

/** The findings of an account baseline stack. Call at the end of its constructor. */
export function acknowledgeBaselineGuardFindings(stack: Stack): void {
  acknowledge(
    at(stack, 'EnhancedMonitoringLogGroup'),
    GUARD_RULES.logGroupEncrypted,
    'RDSOSMetrics is one log group per account and region, shared by the instances of every stage in the account, so no stage\'s key can encrypt it (deleting a sandbox would make the others\' metrics unreadable). It holds OS metrics only (CPU, memory, processes), no customer data; CloudWatch Logs encrypts it at rest with its own keys.',
  );
}
