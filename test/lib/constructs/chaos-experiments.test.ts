/**
 * The FIS experiment templates of a stage (lib/constructs/chaos-experiments.ts): actions, targets by ARN, the stop
 * condition, each role's trust and permissions, the encrypted log group and its delivery policy; present in Staging,
 * absent from Prod (config.chaos.enabled), and the FIS extension only on a processor that can be targeted.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CHAOS_EXPERIMENTS } from '../../../lib/config';
import { FIS_LAMBDA_EXTENSION_PARAMETER } from '../../../lib/constructs/chaos-experiments';
import { synthesizeStage, testConfig } from '../../support/cdk-app';

const config = testConfig('chaos');
const STAGING_ACCOUNT = config.staging.account;
let staging: Template;
let stagingData: Template;
let prod: Template;

beforeAll(() => {
  const stagingStage = synthesizeStage(config.staging);
  staging = Template.fromStack(stagingStage.stage.serviceStack);
  stagingData = stagingStage.data;
  prod = Template.fromStack(synthesizeStage(config.prod).stage.serviceStack);
});

const degradedAlarmArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsPlatformDegraded'), 'Arn'] };
const clusterArn = `arn:aws:rds:us-east-1:${STAGING_ACCOUNT}:cluster:aurora-trading-us-east-1-stg`;
/** For jest's own matchers (toMatchObject, objectContaining), which do not read CDK's Match. */
const processorArn = { 'Fn::GetAtt': [expect.stringMatching(/^OrdersProcessorFunction/), 'Arn'] };
const faultObjects = `arn:aws:s3:::s3-config-us-east-1-stg-${STAGING_ACCOUNT}/fis-lambda-faults/*`;

/** The template tagged `Name` = `fis-{experiment}-us-east-1-stg`, as the game day finds it. */
function template(experiment: string): Record<string, unknown> {
  const found = Object.values(staging.findResources('AWS::FIS::ExperimentTemplate', { Properties: { Tags: { Name: `fis-${experiment}-us-east-1-stg` } } }));
  expect(found).toHaveLength(1);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
}

/** The statements of the role named `role-fis-{experiment}-us-east-1-stg`. */
function roleStatements(experiment: string): Array<Record<string, unknown>> {
  const roles = staging.findResources('AWS::IAM::Role', { Properties: { RoleName: `role-fis-${experiment}-us-east-1-stg` } });
  const [roleId] = Object.keys(roles);
  const policies = Object.values(staging.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })) as Array<{ Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }>;
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement ?? [];
}

function actionsOf(statements: Array<Record<string, unknown>>): string[] {
  return statements.flatMap((statement) => ([] as string[]).concat(statement['Action'] as string | string[])).sort();
}

describe('in Staging (chaos enabled)', () => {
  it('ships exactly one template per experiment, named by convention and tagged with the experiment', () => {
    expect(Object.keys(staging.findResources('AWS::FIS::ExperimentTemplate'))).toHaveLength(CHAOS_EXPERIMENTS.length);
    for (const experiment of CHAOS_EXPERIMENTS) {
      staging.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
        Tags: Match.objectLike({ Name: `fis-${experiment}-us-east-1-stg`, Experiment: experiment, EnvironmentSuffix: 'stg' }),
      });
    }
  });

  it.each(CHAOS_EXPERIMENTS)('%s stops on the composite "platform degraded" alarm and logs to the encrypted experiment log group', (experiment) => {
    staging.hasResourceProperties('AWS::FIS::ExperimentTemplate', {
      Tags: Match.objectLike({ Name: `fis-${experiment}-us-east-1-stg` }),
      StopConditions: [{ Source: 'aws:cloudwatch:alarm', Value: degradedAlarmArn }],
      LogConfiguration: { LogSchemaVersion: 2, CloudWatchLogsConfiguration: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChaosLogGroup'), 'Arn'] } } },
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^Chaos${experiment.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase())}Role`), 'Arn'] },
    });
  });

  it('the stop alarm is the composite over the critical alarms', () => {
    staging.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'alarm-platform-degraded-us-east-1-stg' });
  });

  it('aurora-failover fails over this stage\'s cluster, by ARN', () => {
    expect(template('aurora-failover')).toMatchObject({
      Targets: { Cluster: { ResourceType: 'aws:rds:cluster', ResourceArns: [clusterArn], SelectionMode: 'ALL' } },
      Actions: { FailoverCluster: { ActionId: 'aws:rds:failover-db-cluster', Targets: { Clusters: 'Cluster' } } },
    });
    expect(template('aurora-failover')['Targets']).not.toHaveProperty('Cluster.ResourceTags');
  });

  it('az-network denies all traffic of the isolated subnets of the writer\'s AZ and fails the writer over only if it is there', () => {
    const properties = template('az-network');
    expect(properties).toMatchObject({
      Actions: {
        DisruptSubnets: { ActionId: 'aws:network:disrupt-connectivity', Parameters: { duration: 'PT5M', scope: 'all' }, Targets: { Subnets: 'Subnets' } },
        FailoverWriterInAz: { ActionId: 'aws:rds:failover-db-cluster', Targets: { Clusters: 'ClusterWithWriterInAz' } },
      },
      Targets: {
        ClusterWithWriterInAz: { ResourceType: 'aws:rds:cluster', ResourceArns: [clusterArn], Parameters: { writerAvailabilityZoneIdentifiers: 'us-east-1a' }, SelectionMode: 'ALL' },
        Subnets: { ResourceType: 'aws:ec2:subnet', SelectionMode: 'ALL' },
      },
      ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'skip' },
    });
    // Exactly the subnets of us-east-1a, by ARN: one isolated subnet per AZ in this VPC.
    const subnetArns = (properties['Targets'] as { Subnets: { ResourceArns: unknown[] } }).Subnets.ResourceArns;
    expect(subnetArns).toHaveLength(1);
    const subnetsInA = Object.entries(stagingData.findResources('AWS::EC2::Subnet', { Properties: { AvailabilityZone: 'us-east-1a' } }));
    expect(subnetsInA).toHaveLength(1);
    expect(JSON.stringify(subnetArns[0])).toContain(`arn:aws:ec2:us-east-1:${STAGING_ACCOUNT}:subnet/`);
    expect(JSON.stringify(subnetArns[0])).toContain(subnetsInA[0]?.[0] ?? 'missing');
  });

  it('processor-faults adds latency, then errors that skip the handler, in a share of the processor\'s invocations', () => {
    expect(template('processor-faults')).toMatchObject({
      Targets: { Processor: { ResourceType: 'aws:lambda:function', ResourceArns: [processorArn], SelectionMode: 'ALL' } },
      Actions: {
        AddLatency: { ActionId: 'aws:lambda:invocation-add-delay', Parameters: { duration: 'PT3M', invocationPercentage: '50', startupDelayMilliseconds: '5000' }, Targets: { Functions: 'Processor' } },
        InjectErrors: {
          ActionId: 'aws:lambda:invocation-error',
          Parameters: { duration: 'PT3M', invocationPercentage: '50', preventExecution: 'true' },
          Targets: { Functions: 'Processor' },
          StartAfter: ['AddLatency'],
        },
      },
    });
  });

  it('targets nothing by tag', () => {
    for (const experiment of CHAOS_EXPERIMENTS) {
      for (const target of Object.values(template(experiment)['Targets'] as Record<string, Record<string, unknown>>)) {
        expect(target).not.toHaveProperty('ResourceTags');
        expect(target['ResourceArns']).toEqual(expect.any(Array));
      }
    }
  });

  it.each(CHAOS_EXPERIMENTS)('role-fis-%s trusts FIS only for experiments of this account (confused deputy)', (experiment) => {
    staging.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `role-fis-${experiment}-us-east-1-stg`,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'fis.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': STAGING_ACCOUNT },
              ArnLike: { 'aws:SourceArn': `arn:aws:fis:us-east-1:${STAGING_ACCOUNT}:experiment/*` },
            },
          },
        ],
      },
    });
    staging.hasResourceProperties('AWS::IAM::Role', { RoleName: `role-fis-${experiment}-us-east-1-stg`, ManagedPolicyArns: Match.absent() });
  });

  it.each(CHAOS_EXPERIMENTS)('role-fis-%s may set up its log delivery, but not rewrite log resource policies', (experiment) => {
    const statements = roleStatements(experiment);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Sid: 'DeliverExperimentLogs', Action: ['logs:CreateLogDelivery', 'logs:DescribeResourcePolicies'], Resource: '*' }),
      expect.objectContaining({ Sid: 'FindExperimentLogGroup', Action: 'logs:DescribeLogGroups', Resource: `arn:aws:logs:us-east-1:${STAGING_ACCOUNT}:log-group:*` }),
    ]));
    expect(actionsOf(statements)).not.toContain('logs:PutResourcePolicy');
  });

  it('role-fis-aurora-failover may fail over this cluster and nothing else', () => {
    const statements = roleStatements('aurora-failover');
    expect(actionsOf(statements)).toEqual(['logs:CreateLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'rds:DescribeDBClusters', 'rds:FailoverDBCluster']);
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['rds:DescribeDBClusters', 'rds:FailoverDBCluster'], Resource: clusterArn }));
  });

  it('role-fis-az-network may only manage network ACLs that FIS created and re-associate the disrupted subnets', () => {
    const statements = roleStatements('az-network');
    const networkAcls = `arn:aws:ec2:us-east-1:${STAGING_ACCOUNT}:network-acl/*`;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'ec2:CreateNetworkAcl', Resource: networkAcls, Condition: { StringEquals: { 'aws:RequestTag/managedByFIS': 'true' } } }),
      expect.objectContaining({ Action: 'ec2:CreateTags', Resource: networkAcls, Condition: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl', 'aws:RequestTag/managedByFIS': 'true' } } }),
      expect.objectContaining({ Action: ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'], Resource: networkAcls, Condition: { StringEquals: { 'ec2:ResourceTag/managedByFIS': 'true' } } }),
      expect.objectContaining({ Action: 'ec2:ReplaceNetworkAclAssociation', Resource: expect.arrayContaining([networkAcls]) }),
      expect.objectContaining({ Action: ['rds:DescribeDBClusters', 'rds:FailoverDBCluster'], Resource: clusterArn }),
    ]));
    const associate = statements.find((statement) => statement['Action'] === 'ec2:ReplaceNetworkAclAssociation');
    // The ACL side plus exactly one subnet (us-east-1a's), never subnet/*.
    expect(associate?.['Resource']).toHaveLength(2);
    expect(JSON.stringify(associate?.['Resource'])).not.toContain('subnet/*');
    const describe = statements.find((statement) => statement['Sid'] === 'DescribeNetwork');
    expect(describe?.['Action']).toEqual(['ec2:DescribeManagedPrefixLists', 'ec2:DescribeNetworkAcls', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs']);
  });

  it('role-fis-processor-faults may write fault configurations in the FIS folder and inspect the processor only', () => {
    const statements = roleStatements('processor-faults');
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['s3:DeleteObject', 's3:PutObject'], Resource: faultObjects }),
      expect.objectContaining({ Action: 'kms:GenerateDataKey', Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
      expect.objectContaining({ Action: 'lambda:GetFunction', Resource: processorArn }),
    ]));
    expect(actionsOf(statements)).not.toContain('tag:GetResources');
  });

  it('gives the processor the FIS extension (arm64 layer from AWS\'s public parameter) and its configuration location', () => {
    staging.hasParameter('*', { Type: 'AWS::SSM::Parameter::Value<String>', Default: FIS_LAMBDA_EXTENSION_PARAMETER });
    staging.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-order-processor-us-east-1-stg',
      // Beside the Powertools layer every PlatformFunction has (lib/constructs/powertools-layer.ts).
      Layers: Match.arrayWith([{ Ref: Match.stringLikeRegexp('fislambdaextensionAWSFISextensionarm64') }]),
      Environment: {
        Variables: Match.objectLike({
          AWS_LAMBDA_EXEC_WRAPPER: '/opt/aws-fis/bootstrap',
          AWS_FIS_CONFIGURATION_LOCATION: `arn:aws:s3:::s3-config-us-east-1-stg-${STAGING_ACCOUNT}/fis-lambda-faults/`,
        }),
      },
    });
  });

  it('lets the processor read only the FIS folder of the config bucket', () => {
    const [policy] = Object.values(staging.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^OrdersProcessorRole') }] } })) as Array<{ Properties: { PolicyDocument: { Statement: unknown[] } } }>;
    expect(policy?.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::s3-config-us-east-1-stg-${STAGING_ACCOUNT}`, Condition: { StringLike: { 's3:prefix': ['fis-lambda-faults/*'] } } }),
      expect.objectContaining({ Action: 's3:GetObject', Resource: faultObjects }),
      expect.objectContaining({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
    ]));
  });

  it('logs to a KMS-encrypted, destroyable log group whose name the stage key\'s CloudWatch Logs statement covers', () => {
    staging.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/trading/stg/fis/experiments', KmsKeyId: Match.anyValue(), RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
    // The key's statement for logs.us-east-1.amazonaws.com: encryption context log-group:/trading/stg/*.
    const keys = Object.values(stagingData.findResources('AWS::KMS::Key')) as Array<{ Properties: { KeyPolicy: { Statement: Array<Record<string, unknown>> } } }>;
    const logsStatement = keys[0]?.Properties.KeyPolicy.Statement.find((statement) => statement['Sid'] === 'AllowCloudWatchLogsForStageLogGroups');
    expect(JSON.stringify(logsStatement)).toContain(`arn:aws:logs:us-east-1:${STAGING_ACCOUNT}:log-group:/trading/stg/*`);
  });

  it('lets only this account\'s log delivery write the experiment log streams, with a stack-owned policy', () => {
    const policies = Object.values(staging.findResources('AWS::Logs::ResourcePolicy', { Properties: { PolicyName: 'logpolicy-fis-experiments-us-east-1-stg' } })) as Array<{ Properties: { PolicyDocument: unknown } }>;
    expect(policies).toHaveLength(1);
    const document = JSON.stringify(policies[0]?.Properties.PolicyDocument);
    for (const fragment of [
      '\\"Principal\\":{\\"Service\\":\\"delivery.logs.amazonaws.com\\"}',
      '\\"Action\\":[\\"logs:CreateLogStream\\",\\"logs:PutLogEvents\\"]',
      ':log-stream:*',
      `\\"aws:SourceAccount\\":\\"${STAGING_ACCOUNT}\\"`,
      `\\"aws:SourceArn\\":\\"arn:aws:logs:us-east-1:${STAGING_ACCOUNT}:*\\"`,
    ]) {
      expect(document).toContain(fragment);
    }
    staging.hasResource('AWS::FIS::ExperimentTemplate', { DependsOn: [Match.stringLikeRegexp('^ChaosLogDeliveryPolicy')] });
  });
});

describe('in Prod (chaos disabled by config)', () => {
  it('ships no experiment template, experiment role, log group or delivery policy', () => {
    prod.resourceCountIs('AWS::FIS::ExperimentTemplate', 0);
    expect(Object.keys(prod.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('^role-fis-') } }))).toEqual([]);
    expect(Object.keys(prod.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.stringLikeRegexp('/fis/') } }))).toEqual([]);
    expect(Object.keys(prod.findResources('AWS::Logs::ResourcePolicy', { Properties: { PolicyName: Match.stringLikeRegexp('fis') } }))).toEqual([]);
  });

  it('runs the processor without the FIS extension', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-order-processor-us-east-1-prod',
      Layers: Match.not(Match.arrayWith([{ Ref: Match.stringLikeRegexp('fislambdaextension') }])),
      Environment: { Variables: Match.not(Match.objectLike({ AWS_LAMBDA_EXEC_WRAPPER: Match.anyValue() })) },
    });
  });
});
