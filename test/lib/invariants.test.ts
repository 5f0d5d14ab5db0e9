/**
 * Invariants over every synthesized template of every environment (sandbox, staging, prod): names, tags,
 * destroyability, encryption at rest and IAM. New resource types must be added to the tables below.
 */
import { CHAOS_EXPERIMENTS, EnvironmentConfig, REQUIRED_TAG_KEYS } from '../../lib/config';
import { AWS_AUTOMATION_CONNECTIONS, connectionBudget } from '../../lib/config/connection-budget';
import { registerPolicyEngines } from '../../lib/compliance/policy-engines';
import { pinnedPowertoolsVersion, powertoolsLayerParameterName } from '../../lib/constructs/powertools-layer';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { TradingPlatformStage } from '../../lib/stages/trading-platform-stage';
import { CloudFormationResource, SynthesizedTemplate, allTemplates, createTestApp, testConfig } from '../support/cdk-app';

interface StageTemplates {
  readonly config: EnvironmentConfig;
  readonly templates: SynthesizedTemplate[];
}

const config = testConfig('inv');
let stages: StageTemplates[];

beforeAll(() => {
  // The sandbox stage on its own, and the pipeline app: its own stack (tooling, suffix cicd) and the Staging and Prod
  // stages it deploys. Together: every template the project synthesizes.
  const sandboxApp = createTestApp();
  registerPolicyEngines(sandboxApp);
  new TradingPlatformStage(sandboxApp, 'Stage', { config: config.sandbox });
  const pipelineApp = createTestApp();
  registerPolicyEngines(pipelineApp);
  new PipelineStack(pipelineApp, 'TradingPlatformPipeline', { config });
  const pipelineTemplates = allTemplates(pipelineApp.synth());
  const ofStage = (suffix: string) => pipelineTemplates.filter(({ stackName }) => stackName.endsWith(`-${suffix}`));
  stages = [
    { config: config.sandbox, templates: allTemplates(sandboxApp.synth()) },
    { config: config.staging, templates: ofStage('stg') },
    { config: config.prod, templates: ofStage('prod') },
    { config: { ...config.staging, account: config.pipeline.account, environmentSuffix: 'cicd' }, templates: pipelineTemplates.filter(({ stackName }) => stackName === 'TradingPlatformPipeline') },
  ];
});

/**
 * Roles and CodeBuild projects CDK Pipelines generates inside its `Pipeline` construct keep CDK's generated names
 * (other accounts reference them by those names) and carry CDK's own grants; see docs/architecture.md.
 */
function generatedByCdkPipelines(stackName: string, logicalId: string): boolean {
  // Logical ids derive from construct paths: everything below the `Pipeline` construct starts with `Pipeline`.
  return stackName === 'TradingPlatformPipeline' && logicalId.startsWith('Pipeline');
}

/** Every resource of every stage, with its stage's config. */
function everyResource(): { config: EnvironmentConfig; stackName: string; id: string; resource: CloudFormationResource }[] {
  return stages.flatMap(({ config: environment, templates }) =>
    templates.flatMap(({ stackName, template }) =>
      Object.entries(template.Resources).map(([id, resource]) => ({ config: environment, stackName, id, resource })),
    ),
  );
}

const ofType = (type: string) => everyResource().filter(({ resource }) => resource.Type === type);

/** Name property of each nameable type and the prefix the naming helper gives it. */
const NAMED_TYPES: Record<string, { property: string; prefix: string }> = {
  'AWS::Lambda::Function': { property: 'FunctionName', prefix: 'lambda' },
  'AWS::IAM::Role': { property: 'RoleName', prefix: 'role' },
  'AWS::S3::Bucket': { property: 'BucketName', prefix: 's3' },
  'AWS::SQS::Queue': { property: 'QueueName', prefix: 'sqs' },
  'AWS::DynamoDB::Table': { property: 'TableName', prefix: 'dynamodb' },
  'AWS::RDS::DBCluster': { property: 'DBClusterIdentifier', prefix: 'aurora' },
  'AWS::RDS::DBInstance': { property: 'DBInstanceIdentifier', prefix: 'aurora' },
  'AWS::RDS::DBClusterParameterGroup': { property: 'DBClusterParameterGroupName', prefix: 'rdspg' },
  'AWS::RDS::DBSubnetGroup': { property: 'DBSubnetGroupName', prefix: 'rdssubnets' },
  'AWS::EC2::SecurityGroup': { property: 'GroupName', prefix: 'sg' },
  'AWS::SecretsManager::Secret': { property: 'Name', prefix: 'secret' },
  'AWS::SNS::Topic': { property: 'TopicName', prefix: 'sns' },
  'AWS::Events::EventBus': { property: 'Name', prefix: 'eb' },
  'AWS::Events::Rule': { property: 'Name', prefix: 'ebrule' },
  'AWS::Events::Archive': { property: 'ArchiveName', prefix: 'ebarchive' },
  'AWS::Scheduler::Schedule': { property: 'Name', prefix: 'schedule' },
  'AWS::ApiGateway::RestApi': { property: 'Name', prefix: 'apigw' },
  'AWS::WAFv2::WebACL': { property: 'Name', prefix: 'waf' },
  'AWS::CloudWatch::Alarm': { property: 'AlarmName', prefix: 'alarm' },
  'AWS::CloudWatch::CompositeAlarm': { property: 'AlarmName', prefix: 'alarm' },
  'AWS::CloudWatch::Dashboard': { property: 'DashboardName', prefix: 'dashboard' },
  'AWS::CodeBuild::Project': { property: 'Name', prefix: 'codebuild' },
  'AWS::CodePipeline::Pipeline': { property: 'Name', prefix: 'codepipeline' },
};

/** CloudFormation types whose default deletion policy is Snapshot: they must say Delete explicitly. */
const SNAPSHOT_BY_DEFAULT = ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::EC2::Volume'];

/** Types that must carry the standard tags (all support CloudFormation tags). */
const MUST_BE_TAGGED = [
  'AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable', 'AWS::EC2::SecurityGroup', 'AWS::EC2::FlowLog',
  'AWS::KMS::Key', 'AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::RDS::DBSubnetGroup', 'AWS::RDS::DBClusterParameterGroup',
  'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup', 'AWS::SSM::Parameter',
  'AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Stage', 'AWS::WAFv2::WebACL', 'AWS::CloudWatch::Alarm',
  'AWS::FIS::ExperimentTemplate',
];

function tagKeys(tags: unknown): string[] {
  if (Array.isArray(tags)) return tags.map((tag: { Key: string }) => tag.Key);
  if (tags && typeof tags === 'object') return Object.keys(tags);
  return [];
}

describe('every synthesized template', () => {
  it('covers the three environments and the pipeline', () => {
    expect(stages.map((stage) => stage.config.environmentSuffix)).toEqual(['inv', 'stg', 'prod', 'cicd']);
    expect(stages.map((stage) => stage.templates.length)).toEqual([2, 2, 2, 1]);
  });

  it('names every nameable resource {type}-{purpose}-us-east-1-{suffix}', () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const { config: environment, stackName, id, resource } of everyResource()) {
      const rule = NAMED_TYPES[resource.Type];
      if (!rule || generatedByCdkPipelines(stackName, id)) continue;
      checked += 1;
      const name = resource.Properties?.[rule.property];
      const pattern = new RegExp(`^${rule.prefix}-[a-z0-9]+(-[a-z0-9]+)*-us-east-1-${environment.environmentSuffix}(\\.fifo|-${environment.account})?$`);
      if (typeof name !== 'string' || !pattern.test(name)) offenders.push(`${id} (${resource.Type}): ${JSON.stringify(name)}`);
    }
    expect(offenders).toEqual([]);
    // Guards against a vacuous pass: each stage holds functions, roles, buckets, security groups, the database...
    expect(checked).toBeGreaterThan(3 * 20);
  });

  it('names every FIS experiment template by its Name tag fis-{experiment}-us-east-1-{suffix}, only where chaos is enabled', () => {
    // The platform stages (sandbox, Staging, Prod); the pipeline's own stack holds no platform resources.
    const platformStages = stages.slice(0, 3);
    for (const stage of platformStages) {
      const templates = stage.templates.flatMap(({ template }) => Object.values(template.Resources).filter((r) => r.Type === 'AWS::FIS::ExperimentTemplate'));
      const names = templates.map((template) => (template.Properties?.Tags as Record<string, unknown> | undefined)?.['Name']).sort();
      const expected = stage.config.chaos.enabled ? CHAOS_EXPERIMENTS.map((experiment) => `fis-${experiment}-us-east-1-${stage.config.environmentSuffix}`).sort() : [];
      expect(names).toEqual(expected);
    }
    // The sandbox and Staging ship them; Prod does not.
    expect(platformStages.map((stage) => stage.config.chaos.enabled)).toEqual([true, true, false]);
  });

  it('carries the suffix in every log group name, SSM parameter path and KMS alias', () => {
    for (const { config: environment, resource } of ofType('AWS::Logs::LogGroup')) {
      const name = resource.Properties?.LogGroupName;
      // API Gateway fixes its execution log group name to the API id and stage; the stack owns it so it is destroyed.
      if (JSON.stringify(name).includes('API-Gateway-Execution-Logs_')) continue;
      expect(name).toMatch(new RegExp(`^(/trading/${environment.environmentSuffix}/|/aws/rds/cluster/[a-z0-9-]+-${environment.environmentSuffix}/|/aws/events/trading/${environment.environmentSuffix}/)`));
    }
    for (const { config: environment, resource } of ofType('AWS::SSM::Parameter')) {
      expect(resource.Properties?.Name).toMatch(new RegExp(`^/trading/${environment.environmentSuffix}/`));
    }
    for (const { config: environment, resource } of ofType('AWS::KMS::Alias')) {
      expect(resource.Properties?.AliasName).toMatch(new RegExp(`^alias/kms-[a-z-]+-us-east-1-${environment.environmentSuffix}$`));
    }
  });

  it('tags every taggable resource with Environment, Region, Project and EnvironmentSuffix', () => {
    const offenders: string[] = [];
    for (const { config: environment, id, resource } of everyResource()) {
      const tags = resource.Properties?.Tags;
      if (tags === undefined && !MUST_BE_TAGGED.includes(resource.Type)) continue;
      const keys = tagKeys(tags);
      const missing = REQUIRED_TAG_KEYS.filter((key) => !keys.includes(key));
      if (missing.length > 0) offenders.push(`${id} (${resource.Type}) lacks ${missing.join(', ')}`);
      const values = Array.isArray(tags) ? Object.fromEntries((tags as { Key: string; Value: unknown }[]).map((tag) => [tag.Key, tag.Value])) : (tags as Record<string, unknown>);
      if (values && values.EnvironmentSuffix !== undefined && values.EnvironmentSuffix !== environment.environmentSuffix) {
        offenders.push(`${id} has EnvironmentSuffix=${String(values.EnvironmentSuffix)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('is fully destroyable: no Retain or Snapshot policy anywhere, Delete where CloudFormation would snapshot', () => {
    const offenders: string[] = [];
    for (const { id, resource } of everyResource()) {
      for (const policy of [resource.DeletionPolicy, resource.UpdateReplacePolicy]) {
        if (policy !== undefined && policy !== 'Delete') offenders.push(`${id} (${resource.Type}): ${policy}`);
      }
      if (SNAPSHOT_BY_DEFAULT.includes(resource.Type) && resource.DeletionPolicy !== 'Delete') offenders.push(`${id} (${resource.Type}) relies on the Snapshot default`);
    }
    expect(offenders).toEqual([]);
  });

  it('has no deletion or termination protection', () => {
    for (const { resource } of ofType('AWS::RDS::DBCluster')) expect(resource.Properties?.DeletionProtection).toBe(false);
    for (const { resource } of ofType('AWS::RDS::DBInstance')) expect(resource.Properties?.DeletionProtection ?? false).toBe(false);
    for (const { resource } of ofType('AWS::DynamoDB::Table')) expect(resource.Properties?.DeletionProtectionEnabled ?? false).toBe(false);
    for (const { resource } of ofType('AWS::Logs::LogGroup')) expect(resource.Properties?.DeletionProtectionEnabled ?? false).toBe(false);
  });

  it('empties every bucket on deletion', () => {
    for (const stage of stages) {
      const buckets = stage.templates.flatMap(({ template }) => Object.values(template.Resources).filter((r) => r.Type === 'AWS::S3::Bucket'));
      const autoDeletes = stage.templates.flatMap(({ template }) => Object.values(template.Resources).filter((r) => r.Type === 'Custom::S3AutoDeleteObjects'));
      expect(autoDeletes).toHaveLength(buckets.length);
    }
  });

  it('encrypts every data store at rest', () => {
    for (const { resource } of ofType('AWS::S3::Bucket')) expect(resource.Properties?.BucketEncryption).toBeDefined();
    for (const { resource } of ofType('AWS::DynamoDB::Table')) expect(resource.Properties?.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    for (const { resource } of ofType('AWS::RDS::DBCluster')) expect(resource.Properties).toMatchObject({ StorageEncrypted: true, KmsKeyId: expect.anything() });
    for (const { resource } of ofType('AWS::Logs::LogGroup')) expect(resource.Properties?.KmsKeyId).toBeDefined();
    for (const { resource } of ofType('AWS::SQS::Queue')) expect(resource.Properties?.KmsMasterKeyId).toBeDefined();
    for (const { resource } of ofType('AWS::SNS::Topic')) expect(resource.Properties?.KmsMasterKeyId).toBeDefined();
    for (const { resource } of ofType('AWS::KMS::Key')) expect(resource.Properties?.EnableKeyRotation).toBe(true);
    expect(ofType('AWS::Logs::LogGroup').length).toBeGreaterThan(3 * 4);
  });

  it('grants no wildcard action in any IAM policy, and "*" resources only to actions that cannot be scoped', () => {
    const unscopableActions = new Set([
      'xray:PutTraceSegments', 'xray:PutTelemetryRecords',
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
      'cloudwatch:PutMetricData',
      // FIS experiment roles: reading network metadata, and setting up the experiment's log delivery.
      'ec2:DescribeVpcs', 'ec2:DescribeNetworkAcls', 'ec2:DescribeManagedPrefixLists',
      'logs:CreateLogDelivery', 'logs:DescribeResourcePolicies',
      // Read-only, for the pipeline's checks: GetMetricData has no resource-level permissions; DescribeAlarms could be
      // scoped, but returns composite alarms (platform-degraded) only to a permission scoped to * (CloudWatch API
      // Reference, DescribeAlarms).
      'cloudwatch:GetMetricData',
      'cloudwatch:DescribeAlarms',
    ]);
    const offenders: string[] = [];
    const documents = everyResource().filter(({ stackName, id }) => !generatedByCdkPipelines(stackName, id)).flatMap(({ id, resource }) => {
      if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') return [{ id, document: resource.Properties?.PolicyDocument }];
      if (resource.Type === 'AWS::IAM::Role') {
        const inline = (resource.Properties?.Policies ?? []) as { PolicyDocument: unknown }[];
        return inline.map((policy) => ({ id, document: policy.PolicyDocument }));
      }
      return [];
    });
    expect(documents.length).toBeGreaterThanOrEqual(3 * 4);
    for (const { id, document } of documents) {
      const statements = ((document as { Statement: unknown[] }).Statement ?? []) as { Effect: string; Action: string | string[]; Resource?: unknown }[];
      for (const statement of statements) {
        if (statement.Effect !== 'Allow') continue;
        const actions = ([] as string[]).concat(statement.Action);
        for (const action of actions) {
          if (action === '*' || action.endsWith(':*')) offenders.push(`${id}: action ${action}`);
        }
        if (statement.Resource === '*' || (Array.isArray(statement.Resource) && statement.Resource.includes('*'))) {
          for (const action of actions) if (!unscopableActions.has(action)) offenders.push(`${id}: ${action} on *`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('attaches AWS managed policies only to the CDK-generated provider roles', () => {
    const offenders = ofType('AWS::IAM::Role')
      .filter(({ resource }) => resource.Properties?.ManagedPolicyArns !== undefined)
      .map(({ resource }) => String(resource.Properties?.RoleName))
      .filter((name) => !/^role-cdk-[a-z0-9-]+-us-east-1-/.test(name));
    expect(offenders).toEqual([]);
  });
});

describe('locked runtime dependencies', () => {
  it('gives every platform function the Powertools layer of the pinned version, resolved from the public parameter AWS publishes', () => {
    const expected = powertoolsLayerParameterName(pinnedPowertoolsVersion());
    const functions = stages.flatMap(({ templates }) =>
      templates.flatMap(({ stackName, template }) =>
        Object.entries(template.Resources)
          .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
          // PlatformFunction sets POWERTOOLS_SERVICE_NAME; CDK's own provider functions carry no Powertools.
          .filter(([, resource]) => JSON.stringify(resource.Properties?.Environment ?? {}).includes('POWERTOOLS_SERVICE_NAME'))
          .map(([id, resource]) => {
            const layers = (resource.Properties?.Layers ?? []) as { Ref?: string }[];
            const parameters = layers.map((layer) => (layer.Ref === undefined ? undefined : template.Parameters?.[layer.Ref]));
            return {
              function: `${stackName}/${id}`,
              layers: parameters.map((parameter) => ({ type: parameter?.Type, parameter: parameter?.Default })),
            };
          }),
      ),
    );
    expect(functions.length).toBeGreaterThanOrEqual(3 * 7);
    for (const fn of functions) {
      // Where chaos is enabled the processor also carries AWS's FIS extension layer (chaos-experiments.ts).
      expect(fn).toEqual({ function: fn.function, layers: expect.arrayContaining([{ type: 'AWS::SSM::Parameter::Value<String>', parameter: expected }]) });
    }
  });
});

describe('database connection contract', () => {
  // The RDS-managed master secret holds only username and password (docs.aws.amazon.com/AmazonRDS/latest/
  // AuroraUserGuide/rds-secrets-manager.html), so every function that reads it must get the endpoint elsewhere.
  it('gives every function that reads the database secret its host, port and database name', () => {
    const readers = ofType('AWS::Lambda::Function').filter(
      ({ resource }) => (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.['DB_SECRET_ARN'] !== undefined,
    );
    // Migrations, processor, query and health, in each of the three stages.
    expect(readers.length).toBeGreaterThanOrEqual(4 * 3);
    const offenders = readers.flatMap(({ stackName, id, resource }) => {
      const variables = (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      return ['DB_HOST', 'DB_PORT', 'DB_NAME'].filter((name) => variables[name] === undefined).map((name) => `${stackName}/${id}: no ${name}`);
    });
    expect(offenders).toEqual([]);
  });
});

describe('Aurora connection budget', () => {
  interface DbFunction {
    readonly stackName: string;
    readonly name: string;
    readonly poolMax: number;
    /** Health holds one pool per endpoint (writer and reader), each counted on its own instance below. */
    readonly cap: number | 'custom-resource';
  }

  /** Every function that connects, with the most containers it can have and the connections each may hold. */
  function dbFunctions(templates: SynthesizedTemplate[]): DbFunction[] {
    return templates.flatMap(({ stackName, template }) => {
      const resources = Object.entries(template.Resources);
      const mappings = resources.filter(([, resource]) => resource.Type === 'AWS::Lambda::EventSourceMapping');
      return resources.flatMap(([id, resource]) => {
        if (resource.Type !== 'AWS::Lambda::Function') return [];
        const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        if (variables['DB_SECRET_ARN'] === undefined) return [];
        const name = String(resource.Properties?.FunctionName);
        const reserved = resource.Properties?.ReservedConcurrentExecutions;
        const mapping = mappings.find(([, candidate]) => JSON.stringify(candidate.Properties?.FunctionName).includes(id));
        const mappingMax = (mapping?.[1].Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
        const cap = typeof reserved === 'number' ? reserved : typeof mappingMax === 'number' ? mappingMax : /db-migrate/.test(name) ? 'custom-resource' : NaN;
        return [{ stackName, name, poolMax: Number(variables['DB_POOL_MAX'] ?? 1), cap }];
      });
    });
  }

  it('caps every function that connects: reserved concurrency or the event source maximum, and a pool maximum', () => {
    for (const { templates } of stages.slice(0, 3)) {
      const functions = dbFunctions(templates);
      expect(functions.map((fn) => fn.name.replace(/-us-east-1-.*/, '')).sort()).toEqual(['lambda-db-migrate', 'lambda-health', 'lambda-order-processor', 'lambda-order-query']);
      for (const fn of functions) {
        expect({ name: fn.name, capped: fn.cap === 'custom-resource' || Number.isInteger(fn.cap) }).toEqual({ name: fn.name, capped: true });
        expect(fn.poolMax).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('keeps every pool together within the budget of one instance at minimum capacity, the API reads within a third', () => {
    for (const { config: stageConfig, templates } of stages.slice(0, 3)) {
      const budget = connectionBudget(stageConfig);
      const functions = dbFunctions(templates);
      const connections = (match: RegExp): number =>
        functions.filter((fn) => match.test(fn.name)).reduce((sum, fn) => sum + (fn.cap === 'custom-resource' ? 1 : fn.cap) * fn.poolMax, 0);
      // Writer: processor, health's writer pool, migrations; reader: order query, health's reader pool. Plus Aurora's own 3.
      const writer = connections(/order-processor|lambda-health-|db-migrate/) + AWS_AUTOMATION_CONNECTIONS;
      const reader = connections(/order-query|lambda-health-/) + AWS_AUTOMATION_CONNECTIONS;
      expect({ suffix: stageConfig.environmentSuffix, writer, reader }).toEqual({ suffix: stageConfig.environmentSuffix, writer: budget.writer, reader: budget.reader });
      expect(writer).toBeLessThanOrEqual(budget.poolLimit);
      expect(reader).toBeLessThanOrEqual(budget.poolLimit);
      expect(connections(/order-query|lambda-health-/)).toBeLessThanOrEqual(budget.apiReadLimit);
    }
  });
});
