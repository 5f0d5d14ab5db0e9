/**
 * AWS FIS experiment templates that rehearse the platform's failure modes: an Aurora failover, the loss of one AZ's
 * network, and faults in the order processor. Each stops on the composite alarm and runs with a role of its own.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ChaosConfig, ChaosExperimentName, ResourceNames } from '../config';
import { TradingDatabase } from './database';
import { Network } from './network';
import { PlatformFunction } from './platform-function';

/**
 * Public SSM parameter holding the current 1.x layer version ARN of the FIS Lambda extension for arm64 (the
 * processor's architecture), resolved by CloudFormation at each deploy. AWS FIS user guide, "Available versions of
 * the AWS FIS extension for Lambda": https://docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html
 */
export const FIS_LAMBDA_EXTENSION_PARAMETER = '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x';

/** Folder of the config bucket through which FIS hands active fault configurations to the extension. */
export const FIS_FAULT_CONFIGURATION_PREFIX = 'fis-lambda-faults/';

/** The wrapper script shipped in the extension layer ("Use the AWS FIS aws:lambda:function actions", step 4). */
const FIS_EXEC_WRAPPER = '/opt/aws-fis/bootstrap';

/** FIS experiment logs, schema version 2 (AWS FIS user guide, "Experiment logging for AWS FIS"). */
const LOG_SCHEMA_VERSION = 2;

export interface ChaosExperimentsProps {
  readonly names: ResourceNames;
  /** Encrypts the experiment log group (the stage key; its CloudWatch Logs statement covers `/trading/{suffix}/*`). */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly config: ChaosConfig;
  readonly network: Network;
  readonly database: TradingDatabase;
  /** The function the `processor-faults` experiment injects faults into; it gets the FIS extension as a layer. */
  readonly orderProcessor: PlatformFunction;
  /**
   * Name of the (KMS-encrypted) bucket that holds the fault configurations FIS writes and the extension reads, below
   * FIS_FAULT_CONFIGURATION_PREFIX. A literal, so that grants and acknowledgements need no cross-stack reference.
   */
  readonly faultConfigurationBucketName: string;
  /** Every experiment stops as soon as this alarm is in ALARM (the composite "platform degraded"). */
  readonly stopAlarm: cloudwatch.IAlarm;
}

/** One experiment: its template and the role FIS assumes to run it. */
export interface ChaosExperiment {
  readonly template: fis.CfnExperimentTemplate;
  readonly role: iam.Role;
}

/**
 * Default settings: targets by ARN only (this stage's cluster, subnets and function, never a tag that other stages
 * could carry); one least-privilege role per experiment, assumable only by FIS experiments of this account; every
 * experiment logs to one KMS-encrypted log group (DESTROY) and stops on `stopAlarm`.
 */
export class ChaosExperiments extends Construct {
  public readonly logGroup: logs.LogGroup;
  /** The account-level policy that lets CloudWatch Logs' log delivery write the experiments' logs. */
  public readonly logDeliveryPolicy: logs.CfnResourcePolicy;
  public readonly experiments: Readonly<Record<ChaosExperimentName, ChaosExperiment>>;
  private readonly props: ChaosExperimentsProps;
  private readonly stack: Stack;

  constructor(scope: Construct, id: string, props: ChaosExperimentsProps) {
    super(scope, id);
    this.props = props;
    this.stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.names.logGroup('fis', 'experiments'),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logDeliveryPolicy = this.createLogDeliveryPolicy();

    this.experiments = {
      'aurora-failover': this.auroraFailover(),
      'az-network': this.azNetwork(),
      'processor-faults': this.processorFaults(),
    };
  }

  /**
   * FIS delivers experiment logs through CloudWatch Logs' vended-log delivery (`delivery.logs.amazonaws.com`), which
   * needs this statement on the log group. Without it, the first experiment would have FIS's role create or extend the
   * shared `AWSLogDeliveryWrite20150319` policy: that needs `logs:PutResourcePolicy` (write access to every log
   * group's delivery permissions) and leaves a policy behind after `cdk destroy`. Owned by the stack instead, FIS's
   * roles only create the delivery. Statement as in the CloudWatch Logs user guide, "Logs sent to CloudWatch Logs":
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html#AWS-logs-infrastructure-CWL
   */
  private createLogDeliveryPolicy(): logs.CfnResourcePolicy {
    const logGroupArn = this.stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return new logs.CfnResourcePolicy(this, 'LogDeliveryPolicy', {
      policyName: this.props.names.of('logResourcePolicy', 'fis-experiments'),
      policyDocument: this.stack.toJsonString({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AWSLogDeliveryWrite',
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${logGroupArn}:log-stream:*`,
            // Against the confused deputy: only deliveries this account set up, from this Region.
            Condition: {
              StringEquals: { 'aws:SourceAccount': this.stack.account },
              ArnLike: { 'aws:SourceArn': this.stack.formatArn({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
            },
          },
        ],
      }),
    });
  }

  /** The writer fails over to the reader (promotion tier 1, same size): Aurora's own recovery, on demand. */
  private auroraFailover(): ChaosExperiment {
    const role = this.experimentRole('aurora-failover', 'Fail the Aurora cluster over to its reader');
    role.addToPrincipalPolicy(this.failoverStatement());
    return {
      role,
      template: this.template('aurora-failover', role, {
        description: `Fail over ${this.props.database.clusterIdentifier}: the reader becomes the writer`,
        targets: { Cluster: { resourceType: 'aws:rds:cluster', resourceArns: [this.clusterArn()], selectionMode: 'ALL' } },
        actions: { FailoverCluster: { actionId: 'aws:rds:failover-db-cluster', description: 'Promote the reader', targets: { Clusters: 'Cluster' } } },
      }),
    };
  }

  /**
   * One AZ gone, as AWS's "AZ Availability: Power Interruption" scenario models it for this platform: the AZ's
   * isolated subnets lose all traffic (Lambda ENIs, interface endpoints, a database instance), and the cluster fails
   * over when its writer is in that AZ. A network ACL does not make Aurora fail over by itself; a real AZ loss would.
   * The failover target names the AZ (`writerAvailabilityZoneIdentifiers`) and empty targets are skipped, so after an
   * earlier failover moved the writer away, only the network is cut.
   */
  private azNetwork(): ChaosExperiment {
    const { config, network } = this.props;
    const az = config.disruptedAz;
    const subnets = network.vpc.isolatedSubnets.filter((subnet) => subnet.availabilityZone === az);
    if (subnets.length === 0) throw new Error(`chaos.disruptedAz=${JSON.stringify(az)} holds none of the VPC's isolated subnets`);
    const subnetArns = subnets.map((subnet) => this.stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: subnet.subnetId }));

    const role = this.experimentRole('az-network', `Cut off ${az}'s isolated subnets and fail the writer over`);
    const vpcArn = this.stack.formatArn({ service: 'ec2', resource: 'vpc', resourceName: network.vpc.vpcId });
    const networkAcls = this.stack.formatArn({ service: 'ec2', resource: 'network-acl', resourceName: '*' });
    const createdByFis = { 'aws:RequestTag/managedByFIS': 'true' };
    // The actions and conditions of AWS's AWSFaultInjectionSimulatorNetworkAccess policy for scope "all", narrowed to
    // this VPC and these subnets: FIS clones the subnets' network ACL (tagged managedByFIS=true) with deny-all entries,
    // swaps the association for the duration, then swaps it back and deletes its clone.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'CreateDenyAllAcl', actions: ['ec2:CreateNetworkAcl'], resources: [networkAcls], conditions: { StringEquals: createdByFis } }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'CreateDenyAllAclInPlatformVpc', actions: ['ec2:CreateNetworkAcl'], resources: [vpcArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'TagDenyAllAcl', actions: ['ec2:CreateTags'], resources: [networkAcls], conditions: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl', ...createdByFis } } }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageOwnAcl',
        actions: ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'],
        resources: [networkAcls],
        conditions: { StringEquals: { 'ec2:ResourceTag/managedByFIS': 'true' } },
      }),
    );
    // The subnets are exact; the ACL side is the clone (id unknown until the experiment) and the original one.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SwapAclOfTargetSubnets', actions: ['ec2:ReplaceNetworkAclAssociation'], resources: [...subnetArns, networkAcls] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeNetwork',
        // EC2 Describe actions have no resource-level permissions.
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeNetworkAcls', 'ec2:DescribeManagedPrefixLists'],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(this.failoverStatement());
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindWriterAz',
        actions: ['rds:DescribeDBInstances'],
        resources: this.props.database.instanceIdentifiers.map((identifier) => this.stack.formatArn({ service: 'rds', resource: 'db', resourceName: identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
      }),
    );
    Validations.of(role).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ec2:DescribeVpcs/Subnets/NetworkAcls/ManagedPrefixLists have no resource-level permissions; they only read network metadata.' },
      {
        id: `AwsSolutions-IAM5[Resource::${networkAcls}]`,
        reason: 'The deny-all network ACL FIS creates has an id only at run time; creating, tagging, filling and deleting it is limited to ACLs tagged managedByFIS=true, and re-association to the disrupted subnets by ARN.',
      },
    );

    const minutes = config.networkDisruption.toMinutes({ integral: false });
    return {
      role,
      template: this.template('az-network', role, {
        description: `Deny all traffic of the isolated subnets in ${az} for ${minutes} min; fail the writer over if it is there`,
        targets: {
          Subnets: { resourceType: 'aws:ec2:subnet', resourceArns: subnetArns, selectionMode: 'ALL' },
          ClusterWithWriterInAz: { resourceType: 'aws:rds:cluster', resourceArns: [this.clusterArn()], parameters: { writerAvailabilityZoneIdentifiers: az }, selectionMode: 'ALL' },
        },
        actions: {
          DisruptSubnets: {
            actionId: 'aws:network:disrupt-connectivity',
            description: `All traffic in and out of ${az}'s isolated subnets denied`,
            parameters: { duration: isoDuration(config.networkDisruption), scope: 'all' },
            targets: { Subnets: 'Subnets' },
          },
          FailoverWriterInAz: { actionId: 'aws:rds:failover-db-cluster', description: `Fail over if the writer is in ${az}`, targets: { Clusters: 'ClusterWithWriterInAz' } },
        },
        // The failover target is empty when the writer is elsewhere: skip that action rather than fail the experiment.
        experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'skip' },
      }),
    };
  }

  /**
   * Added latency, then errors, in a share of the processor's invocations, injected by the FIS Lambda extension before
   * the handler runs. FIS's own Lambda actions rather than a fault switch in the handler: lambda/ stays free of test
   * hooks, FIS's stop condition, role and log apply as to the other experiments, and `preventExecution` fails the
   * invocation as a crash would (the whole batch returns to SQS), which no handler-level switch can imitate.
   */
  private processorFaults(): ChaosExperiment {
    const { config, orderProcessor, faultConfigurationBucketName } = this.props;
    const faults = config.processorFaults;
    const bucketArn = this.stack.formatArn({ service: 's3', region: '', account: '', resource: faultConfigurationBucketName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const faultObjects = `${bucketArn}/${FIS_FAULT_CONFIGURATION_PREFIX}*`;
    this.enableFaultInjection(orderProcessor, bucketArn, faultObjects);

    const role = this.experimentRole('processor-faults', 'Inject latency and errors into the order processor');
    // "Use the AWS FIS aws:lambda:function actions", prerequisites: write and delete the fault configurations, read the
    // function's configuration (here: this function only; tag lookups are not needed when targeting by ARN).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteFaultConfigurations', actions: ['s3:PutObject', 's3:DeleteObject'], resources: [faultObjects] }));
    role.addToPrincipalPolicy(this.keyUseViaS3('EncryptFaultConfigurations', 'kms:GenerateDataKey'));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'InspectTargetFunction', actions: ['lambda:GetFunction'], resources: [orderProcessor.function.functionArn] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${faultObjects}]`,
      reason: 'FIS names the fault configuration objects at run time; writing is limited to the config bucket\'s FIS folder.',
    });

    const latencyMs = faults.addedLatency.toMilliseconds();
    const percent = String(faults.invocationPercentage);
    return {
      role,
      template: this.template('processor-faults', role, {
        description: `Order processor: +${latencyMs} ms, then errors, each in ${percent}% of invocations for ${faults.duration.toMinutes({ integral: false })} min`,
        targets: { Processor: { resourceType: 'aws:lambda:function', resourceArns: [orderProcessor.function.functionArn], selectionMode: 'ALL' } },
        actions: {
          AddLatency: {
            actionId: 'aws:lambda:invocation-add-delay',
            description: 'A slow dependency, as the invocation sees it',
            parameters: { duration: isoDuration(faults.duration), invocationPercentage: percent, startupDelayMilliseconds: String(latencyMs) },
            targets: { Functions: 'Processor' },
          },
          InjectErrors: {
            actionId: 'aws:lambda:invocation-error',
            description: 'Invocations fail without running the handler: the whole batch returns to SQS',
            parameters: { duration: isoDuration(faults.duration), invocationPercentage: percent, preventExecution: 'true' },
            targets: { Functions: 'Processor' },
            startAfter: ['AddLatency'],
          },
        },
      }),
    };
  }

  /**
   * The extension as a layer, its two required variables, and read access to the fault configurations
   * ("Use the AWS FIS aws:lambda:function actions", "Configure Lambda functions"). The extension reads S3 through the
   * VPC's S3 gateway endpoint; while no experiment runs it polls once a minute.
   */
  private enableFaultInjection(target: PlatformFunction, bucketArn: string, faultObjects: string): void {
    const extensionArn = ssm.StringParameter.valueForStringParameter(this, FIS_LAMBDA_EXTENSION_PARAMETER);
    target.function.addLayers(lambda.LayerVersion.fromLayerVersionArn(this, 'FisLambdaExtension', extensionArn));
    target.function.addEnvironment('AWS_FIS_CONFIGURATION_LOCATION', `${bucketArn}/${FIS_FAULT_CONFIGURATION_PREFIX}`);
    target.function.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', FIS_EXEC_WRAPPER);
    target.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ListFaultConfigurations', actions: ['s3:ListBucket'], resources: [bucketArn], conditions: { StringLike: { 's3:prefix': [`${FIS_FAULT_CONFIGURATION_PREFIX}*`] } } }),
    );
    target.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadFaultConfigurations', actions: ['s3:GetObject'], resources: [faultObjects] }));
    target.role.addToPrincipalPolicy(this.keyUseViaS3('DecryptFaultConfigurations', 'kms:Decrypt'));
    Validations.of(target.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${faultObjects}]`,
      reason: 'The FIS extension reads the fault configurations FIS writes at run time, only below the config bucket\'s FIS folder.',
    });
  }

  /**
   * The experiment's role: trusted by FIS only for experiments of this account in this Region (aws:SourceAccount and
   * aws:SourceArn against the confused deputy, as "IAM roles for AWS FIS experiments" shows), allowed to set up the
   * experiment's log delivery, and nothing else until the caller adds the experiment's own actions.
   */
  private experimentRole(purpose: ChaosExperimentName, description: string): iam.Role {
    const role = new iam.Role(this, `${pascal(purpose)}Role`, {
      roleName: this.props.names.of('role', `fis-${purpose}`),
      description: `AWS FIS experiment ${purpose}: ${description}`,
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.stack.account },
          ArnLike: { 'aws:SourceArn': this.stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }) },
        },
      }),
    });
    // "Logs sent to CloudWatch Logs": the log group's resource policy exists (createLogDeliveryPolicy), so FIS only
    // reads it and creates the delivery. CreateLogDelivery and DescribeResourcePolicies have no resource-level
    // permissions; AWS asks for DescribeLogGroups on log-group:* rather than one group.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DeliverExperimentLogs', actions: ['logs:CreateLogDelivery', 'logs:DescribeResourcePolicies'], resources: ['*'] }));
    const anyLogGroup = this.stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindExperimentLogGroup', actions: ['logs:DescribeLogGroups'], resources: [anyLogGroup] }));
    Validations.of(role).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'logs:CreateLogDelivery and logs:DescribeResourcePolicies (experiment log delivery) have no resource-level permissions.' },
      { id: `AwsSolutions-IAM5[Resource::${anyLogGroup}]`, reason: 'CloudWatch Logs documents logs:DescribeLogGroups for log delivery on log-group:*, not on a single group; it reads metadata only.' },
    );
    return role;
  }

  private template(
    purpose: ChaosExperimentName,
    role: iam.IRole,
    definition: Pick<fis.CfnExperimentTemplateProps, 'description' | 'targets' | 'actions' | 'experimentOptions'>,
  ): fis.CfnExperimentTemplate {
    const template = new fis.CfnExperimentTemplate(this, `${pascal(purpose)}Template`, {
      ...definition,
      roleArn: role.roleArn,
      stopConditions: [{ source: 'aws:cloudwatch:alarm', value: this.props.stopAlarm.alarmArn }],
      // A property CDK types as `any`: written with CloudFormation's own key names.
      logConfiguration: { logSchemaVersion: LOG_SCHEMA_VERSION, cloudWatchLogsConfiguration: { LogGroupArn: this.logGroup.logGroupArn } },
      tags: { Name: this.props.names.of('experimentTemplate', purpose), Experiment: purpose },
    });
    // Log delivery is checked when an experiment starts: the policy must be there before anyone can start one.
    template.node.addDependency(this.logDeliveryPolicy);
    return template;
  }

  private failoverStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: 'FailOverPlatformCluster', actions: ['rds:FailoverDBCluster', 'rds:DescribeDBClusters'], resources: [this.clusterArn()] });
  }

  private keyUseViaS3(sid: string, action: 'kms:Decrypt' | 'kms:GenerateDataKey'): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid, actions: [action], resources: [this.props.encryptionKey.keyArn], conditions: { StringEquals: { 'kms:ViaService': `s3.${this.stack.region}.amazonaws.com` } } });
  }

  private clusterArn(): string {
    return this.stack.formatArn({ service: 'rds', resource: 'cluster', resourceName: this.props.database.clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }
}

/** FIS durations are ISO 8601 (`PT5M`); config validation keeps them whole seconds. */
function isoDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  return seconds % 60 === 0 ? `PT${seconds / 60}M` : `PT${seconds}S`;
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}
