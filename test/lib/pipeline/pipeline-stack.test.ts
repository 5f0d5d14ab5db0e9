/**
 * The delivery pipeline's shape: source → synth → self-mutation → assets → Staging → health gate + smoke test →
 * approval → Prod → health gate; encrypted artifacts, no privileged builds, notifications, PR checks, nag coverage.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { registerNagPacks } from '../../../lib/compliance/nag';
import { PipelineStack } from '../../../lib/pipeline/pipeline-stack';
import { createTestApp, testConfig } from '../../support/cdk-app';

interface Action {
  readonly Name: string;
  readonly ActionTypeId: { readonly Category: string; readonly Provider: string };
  readonly RunOrder?: number;
  readonly Configuration?: Record<string, unknown>;
}
interface PipelineStage {
  readonly Name: string;
  readonly Actions: Action[];
}

let template: Template;
let stages: PipelineStage[];

beforeAll(() => {
  const app = createTestApp();
  registerNagPacks(app);
  const stack = new PipelineStack(app, 'TradingPlatformPipeline', { config: testConfig() });
  app.synth();
  template = Template.fromStack(stack);
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  stages = pipeline?.Properties.Stages as PipelineStage[];
});

const actionsOf = (stage: string): Action[] => stages.find((candidate) => candidate.Name === stage)?.Actions ?? [];
const byOrder = (actions: Action[]): string[] => [...actions].sort((a, b) => (a.RunOrder ?? 1) - (b.RunOrder ?? 1)).map((action) => action.Name);

describe('pipeline shape', () => {
  it('runs source, synth, self-mutation, assets, Staging, then Prod', () => {
    expect(stages.map((stage) => stage.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'Staging', 'Prod']);
  });

  it('pulls main through CodeConnections', () => {
    const [source] = actionsOf('Source');
    expect(source?.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'CodeStarSourceConnection' });
    expect(source?.Configuration).toMatchObject({ FullRepositoryId: 'example-org/trading-platform', BranchName: 'main', ConnectionArn: expect.stringMatching(/^arn:aws:codeconnections:/) });
  });

  it('synthesizes with the tested script (npm ci, npm test, synth with cdk-nag), without Docker', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: { BuildSpec: Match.stringLikeRegexp('bash scripts/pipeline-synth.sh') },
    });
  });

  it('mutates itself before deploying anything', () => {
    expect(actionsOf('UpdatePipeline').map((action) => action.Name)).toEqual(['SelfMutate']);
  });

  it('publishes all file assets from one CodeBuild action', () => {
    expect(actionsOf('Assets').map((action) => action.Name)).toEqual(['FileAssets']);
  });

  it('deploys Staging, then gates on health, smoke-tests, and waits for approval', () => {
    expect(byOrder(actionsOf('Staging'))).toEqual([
      'cfn-data-us-east-1-stg.Prepare', 'cfn-data-us-east-1-stg.Deploy',
      'cfn-service-us-east-1-stg.Prepare', 'cfn-service-us-east-1-stg.Deploy',
      'HealthGate', 'SmokeTest', 'PromoteToProd',
    ]);
  });

  it('deploys Prod and gates on its health', () => {
    expect(byOrder(actionsOf('Prod'))).toEqual([
      'cfn-data-us-east-1-prod.Prepare', 'cfn-data-us-east-1-prod.Deploy',
      'cfn-service-us-east-1-prod.Prepare', 'cfn-service-us-east-1-prod.Deploy',
      'HealthGate',
    ]);
  });

  it.each([['Staging', 'Staging'], ['Prod', 'Prod']])('the %s health gate reads the HealthUrl output of that stage', (stage, stackPrefix) => {
    const gate = actionsOf(stage).find((action) => action.Name === 'HealthGate');
    const variables = JSON.parse(String(gate?.Configuration?.EnvironmentVariables)) as { name: string; value: string }[];
    expect(variables).toHaveLength(1);
    expect(variables[0]?.name).toBe('HEALTH_URL');
    expect(variables[0]?.value).toMatch(new RegExp(`^#\\{TradingPlatformPipeline${stackPrefix}Service[0-9A-F]{8}\\.HealthUrl\\}$`));
  });

  it('the smoke test reads the API URL and the smoke-test role of Staging, and may only assume that role', () => {
    const smoke = actionsOf('Staging').find((action) => action.Name === 'SmokeTest');
    const variables = JSON.parse(String(smoke?.Configuration?.EnvironmentVariables)) as { name: string; value: string }[];
    expect(variables.map((variable) => [variable.name, variable.value.replace(/Service[0-9A-F]{8}/, 'Service')])).toEqual([
      ['API_URL', '#{TradingPlatformPipelineStagingService.ApiUrl}'],
      ['SMOKE_TEST_ROLE_ARN', '#{TradingPlatformPipelineStagingService.SmokeTestRoleArn}'],
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: 'arn:aws:iam::222222222222:role/role-smoke-test-us-east-1-stg' }]) },
    });
  });

  it('asks for approval with a notification and a link to the Staging dashboard', () => {
    const approval = actionsOf('Staging').find((action) => action.Name === 'PromoteToProd');
    expect(approval?.ActionTypeId.Category).toBe('Approval');
    expect(approval?.Configuration).toMatchObject({
      NotificationArn: { Ref: expect.stringMatching(/NotificationTopic/) },
      ExternalEntityLink: expect.stringContaining('dashboard-platform-us-east-1-stg'),
    });
  });
});

describe('pipeline security', () => {
  it('encrypts artifacts with its own rotating KMS key', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { ArtifactStore: { Type: 'S3', EncryptionKey: { Type: 'KMS', Id: Match.anyValue() } } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 7 });
  });

  it('runs no CodeBuild project in privileged mode', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThanOrEqual(6);
    for (const project of projects) expect(project.Properties.Environment.PrivilegedMode ?? false).toBe(false);
  });

  it('notifies failures and waiting approvals on the delivery topic', () => {
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: Match.arrayWith(['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-manual-approval-needed']),
      Targets: [{ TargetAddress: { Ref: Match.stringLikeRegexp('NotificationTopic') }, TargetType: 'SNS' }],
    });
  });

  it('is fully destroyable: no Retain or Snapshot policy', () => {
    const resources = Object.entries(template.toJSON().Resources as Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }>);
    const kept = resources.filter(([, resource]) => [resource.DeletionPolicy, resource.UpdateReplacePolicy].some((policy) => policy !== undefined && policy !== 'Delete'));
    expect(kept.map(([id]) => id)).toEqual([]);
  });
});

describe('pull-request check', () => {
  it('runs the root buildspec on pull requests, reporting test results to a report group', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Name: 'codebuild-pr-check-us-east-1-cicd',
      Source: Match.objectLike({ Type: 'GITHUB', Location: 'https://github.com/example-org/trading-platform.git', ReportBuildStatus: true }),
      Triggers: { Webhook: true, FilterGroups: [[{ Type: 'EVENT', Pattern: 'PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED' }]] },
      Environment: Match.objectLike({ PrivilegedMode: false }),
      Artifacts: Match.objectLike({ Type: 'S3' }),
    });
    template.hasResourceProperties('AWS::CodeBuild::ReportGroup', { Name: 'codebuild-pr-tests-us-east-1-cicd', Type: 'TEST' });
  });
});

describe('cdk-nag on the pipeline', () => {
  it('reaches the pipeline stack\'s own resources', () => {
    const app = createTestApp();
    registerNagPacks(app);
    const stack = new PipelineStack(app, 'TradingPlatformPipeline', { config: testConfig() });
    new sqs.Queue(stack, 'UnencryptedQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
