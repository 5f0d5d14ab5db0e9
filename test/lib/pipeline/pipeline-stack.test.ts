/**
 * The delivery pipeline's shape: source → synth → self-mutation → assets → Staging → health gate, smoke test,
 * verification, bake → approval → Prod → health gate, bake (rollback: release-gates.test.ts); encrypted artifacts, no
 * privileged builds, notifications, PR checks, nag coverage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { PipelineStack } from '../../../lib/pipeline/pipeline-stack';
import { PULL_REQUEST_CHECK_COMMANDS } from '../../../lib/pipeline/pull-request-check';
import { RUNTIME_VERSIONS } from '../../../lib/pipeline/toolchain';
import { CODEBUILD_STANDARD_7_0 } from '../../support/aws-contracts/codebuild-image';
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

/** The part of a buildspec these tests read. */
interface BuildSpec {
  readonly phases?: Record<string, { readonly 'runtime-versions'?: Record<string, unknown>; readonly commands?: readonly string[] }>;
  readonly reports?: Record<string, unknown>;
}
interface CodeBuildProject {
  readonly id: string;
  readonly name: string;
  readonly buildSpec: BuildSpec;
}

let template: Template;
let stages: PipelineStage[];
let stack: PipelineStack;
let projects: CodeBuildProject[];

/**
 * A project's buildspec as CodeBuild receives it: inline JSON (tokens, such as a report group ARN, rendered as
 * `<LogicalId.Attribute>`), or the file CDK Pipelines writes into the cloud assembly for asset publishing.
 */
function readBuildSpec(buildSpec: unknown, assemblyDirectory: string): BuildSpec {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const getAtt = (part as { 'Fn::GetAtt'?: readonly string[] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt.join('.')}>`;
    const ref = (part as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    throw new Error(`unexpected token in a buildspec: ${JSON.stringify(part)}`);
  };
  const join = (buildSpec as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const text = join ? join[1].map(render).join(join[0]) : render(buildSpec);
  if (text.trimStart().startsWith('{')) return JSON.parse(text) as BuildSpec;
  return JSON.parse(fs.readFileSync(path.join(assemblyDirectory, text), 'utf8')) as BuildSpec;
}

const commandsOf = (buildSpec: BuildSpec): string[] => Object.values(buildSpec.phases ?? {}).flatMap((phase) => [...(phase.commands ?? [])]);

beforeAll(() => {
  const app = createTestApp();
  registerPolicyEngines(app);
  stack = new PipelineStack(app, 'TradingPlatformPipeline', { config: testConfig() });
  const assembly = app.synth();
  template = Template.fromStack(stack);
  projects = Object.entries(template.findResources('AWS::CodeBuild::Project')).map(([id, resource]) => ({
    id,
    name: String(resource.Properties.Name ?? id),
    buildSpec: readBuildSpec(resource.Properties.Source.BuildSpec, assembly.directory),
  }));
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

  it('deploys Staging, then gates on health, smoke-tests, verifies, bakes, and waits for approval', () => {
    expect(byOrder(actionsOf('Staging'))).toEqual([
      'cfn-data-us-east-1-stg.Prepare', 'cfn-data-us-east-1-stg.Deploy',
      'cfn-service-us-east-1-stg.Prepare', 'cfn-service-us-east-1-stg.Deploy',
      'HealthGate', 'SmokeTest', 'Verify', 'Bake', 'PromoteToProd',
    ]);
  });

  it('deploys Prod, gates on its health, and bakes', () => {
    expect(byOrder(actionsOf('Prod'))).toEqual([
      'cfn-data-us-east-1-prod.Prepare', 'cfn-data-us-east-1-prod.Deploy',
      'cfn-service-us-east-1-prod.Prepare', 'cfn-service-us-east-1-prod.Deploy',
      'HealthGate', 'Bake',
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

describe('pipeline toolchain', () => {
  const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const cdkCliVersion = packageJson.devDependencies['aws-cdk'];

  it('finds the buildspec of every project: synth, self-mutation, assets, health gates, smoke test, verification, bakes, PR check', () => {
    const allCommands = projects.flatMap((project) => commandsOf(project.buildSpec));
    for (const expected of ['bash scripts/pipeline-synth.sh', `npm install -g aws-cdk@${cdkCliVersion}`, 'bash scripts/health-gate.sh "$HEALTH_URL" 900', 'bash scripts/pipeline-smoke-test.sh', 'bash scripts/pipeline-verify.sh', 'bash scripts/pipeline-bake.sh', 'sh scripts/check.sh']) {
      expect(allCommands).toContain(expected);
    }
    expect(allCommands.some((command) => command.startsWith('cdk-assets --path'))).toBe(true);
    expect(projects).toHaveLength(10);
  });

  it('every CodeBuild project selects Node.js 24 and Python 3.12, runtimes the image offers, not its Node.js 18 default', () => {
    expect(CODEBUILD_STANDARD_7_0.runtimes.nodejs.versions['24']).toBeDefined();
    expect(CODEBUILD_STANDARD_7_0.runtimes.python.versions['3.12']).toBeDefined();
    const selected = projects.map((project) => [project.name, project.buildSpec.phases?.['install']?.['runtime-versions']]);
    expect(selected).toEqual(projects.map((project) => [project.name, { nodejs: 24, python: '3.12' }]));
  });

  it('the synth selects the runtimes and runs the tested script', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: {
        BuildSpec: Match.serializedJson(Match.objectLike({
          phases: { install: { 'runtime-versions': { nodejs: 24, python: '3.12' } }, build: { commands: ['bash scripts/pipeline-synth.sh'] } },
        })),
      },
    });
  });

  it('self-mutation installs the aws-cdk version of package.json devDependencies', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Name: 'codepipeline-trading-platform-us-east-1-cicd-selfupdate',
      Source: {
        BuildSpec: Match.serializedJson(Match.objectLike({
          phases: Match.objectLike({ install: { 'runtime-versions': { nodejs: 24, python: '3.12' }, commands: [`npm install -g aws-cdk@${cdkCliVersion}`] } }),
        })),
      },
    });
  });

  it('no project installs an unpinned CDK CLI', () => {
    const installs = projects.flatMap((project) => commandsOf(project.buildSpec).filter((command) => /\baws-cdk\b/.test(command) && /\bnpm (install|i)\b/.test(command)));
    expect(installs).toEqual([`npm install -g aws-cdk@${cdkCliVersion}`]);
  });
});

describe('pipeline security', () => {
  it('encrypts artifacts with its own rotating KMS key', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { ArtifactStore: { Type: 'S3', EncryptionKey: { Type: 'KMS', Id: Match.anyValue() } } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 7 });
  });

  it('lets only AWS services create grants on the artifact key (CT.KMS.PR.3)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyGrantsExceptForAwsServices',
            Effect: 'Deny',
            Action: 'kms:CreateGrant',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          }),
        ]),
      },
    });
  });

  it('keeps its build logs a year, the record of what was tested and deployed (CT.CLOUDWATCH.PR.2)', () => {
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThanOrEqual(3);
    for (const logGroup of logGroups) expect(logGroup.Properties).toEqual(expect.objectContaining({ RetentionInDays: 365, KmsKeyId: expect.anything() }));
  });

  it('runs no CodeBuild project in privileged mode', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects.length).toBeGreaterThanOrEqual(6);
    for (const project of projects) expect(project.Properties.Environment.PrivilegedMode ?? false).toBe(false);
  });

  it('notifies failures, failed stages and waiting approvals on the delivery topic', () => {
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: Match.arrayWith(['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-stage-execution-failed', 'codepipeline-pipeline-manual-approval-needed']),
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
  const prCheck = (): CodeBuildProject => {
    const project = projects.find((candidate) => candidate.name === 'codebuild-pr-check-us-east-1-cicd');
    if (!project) throw new Error('no pull-request check project');
    return project;
  };
  const reportGroupId = (): string => stack.getLogicalId(stack.pullRequestCheck.testReports.node.defaultChild as codebuild.CfnReportGroup);

  it('runs on pull requests from the repository, reporting its status, without privileges', () => {
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Name: 'codebuild-pr-check-us-east-1-cicd',
      Source: Match.objectLike({ Type: 'GITHUB', Location: 'https://github.com/example-org/trading-platform.git', ReportBuildStatus: true }),
      Triggers: { Webhook: true, FilterGroups: [[{ Type: 'EVENT', Pattern: 'PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED' }]] },
      Environment: Match.objectLike({ Image: 'aws/codebuild/standard:7.0', PrivilegedMode: false }),
      Artifacts: Match.objectLike({ Type: 'S3' }),
    });
    template.hasResourceProperties('AWS::CodeBuild::ReportGroup', { Name: 'codebuild-pr-tests-us-east-1-cicd', Type: 'TEST' });
  });

  it('runs the one check script, after installing what the image lacks', () => {
    expect(prCheck().buildSpec.phases).toEqual({
      install: { 'runtime-versions': { nodejs: 24, python: '3.12' }, commands: ['bash scripts/install-prerequisites.sh postgresql moto cfn-lint', 'npm ci --no-audit --no-fund'] },
      build: { commands: ['sh scripts/check.sh'] },
    });
  });

  it('sends the JUnit results to its report group by ARN, so CodeBuild creates no second group', () => {
    expect(prCheck().buildSpec.reports).toEqual({
      [`<${reportGroupId()}.Arn>`]: { files: ['**/*.xml'], 'base-directory': 'reports/junit', 'file-format': 'JUNITXML' },
    });
  });

  it('its role may write reports to that group, and may not create report groups', () => {
    const project = Object.values(template.findResources('AWS::CodeBuild::Project', { Properties: { Name: 'codebuild-pr-check-us-east-1-cicd' } }))[0];
    const roleId = (project?.Properties.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: ['codebuild:BatchPutTestCases', 'codebuild:CreateReport', 'codebuild:UpdateReport'],
          Resource: { 'Fn::GetAtt': [reportGroupId(), 'Arn'] },
        }]),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    expect(statements.flatMap((statement) => [statement.Action].flat()).filter((action) => action === 'codebuild:CreateReportGroup')).toEqual([]);
  });

  it('the root buildspec.yml runs the same commands with the same runtimes', () => {
    const buildspec = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'buildspec.yml'), 'utf8');
    const listed = buildspec.split('\n').filter((line) => /^\s+- /.test(line)).map((line) => line.replace(/^\s+- /, ''));
    expect(listed).toEqual([...PULL_REQUEST_CHECK_COMMANDS.install, ...PULL_REQUEST_CHECK_COMMANDS.build, "'reports/**/*'"]);
    expect(buildspec).toMatch(new RegExp(`\\n      nodejs: ${RUNTIME_VERSIONS.nodejs}\\n      python: ${RUNTIME_VERSIONS.python.replace('.', '\\.')}\\n`));
    expect(buildspec).not.toMatch(/^reports:/m);
  });
});

describe('policy engines on the pipeline', () => {
  it('cdk-nag reaches the pipeline stack\'s own resources', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const stack = new PipelineStack(app, 'TradingPlatformPipeline', { config: testConfig() });
    new sqs.Queue(stack, 'UnencryptedQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('the Control Tower guard reaches them too: an acknowledged kind of finding on a resource nobody acknowledged fails', () => {
    const app = createTestApp();
    registerPolicyEngines(app);
    const stack = new PipelineStack(app, 'TradingPlatformPipeline', { config: testConfig() });
    // Short retention is acknowledged outside Prod stages only, never on the pipeline's own log groups.
    new logs.LogGroup(stack, 'ShortLivedLogGroup', { retention: logs.RetentionDays.ONE_WEEK, encryptionKey: stack.node.findChild('ArtifactKey') as kms.IKey });
    expect(() => app.synth()).toThrow(/CT\.CLOUDWATCH\.PR\.2[\s\S]*TradingPlatformPipeline\/ShortLivedLogGroup[\s\S]*cloudwatch_log_group_retention_period_check/);
  });
});
