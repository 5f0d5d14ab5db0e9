/**
 * The gates Prod relies on, read from the synthesized AWS::CodePipeline::Pipeline (never from hashed ids): a change on
 * main that drops or reorders the health gate, smoke test, verification, bake or approval, or the Prod bake and its
 * rollback, fails these tests before self-mutation could apply it (docs/deployment.md, "Guarding the gates"). Also what
 * each new step reads (outputs, names, windows) and the stage roles it assumes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { AppConfig } from '../../../lib/config';
import { PipelineStack } from '../../../lib/pipeline/pipeline-stack';
import { TradingPlatformStage } from '../../../lib/stages/trading-platform-stage';
import { createTestApp, testConfig } from '../../support/cdk-app';

const ROOT = path.join(__dirname, '..', '..', '..');

interface Action {
  readonly Name: string;
  readonly ActionTypeId: { readonly Category: string; readonly Provider: string };
  readonly RunOrder?: number;
  readonly Configuration?: { readonly ProjectName?: { readonly Ref: string }; readonly EnvironmentVariables?: string } & Record<string, unknown>;
}
interface PipelineStage {
  readonly Name: string;
  readonly Actions: readonly Action[];
  readonly OnFailure?: unknown;
}
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

let config: AppConfig;
let stack: PipelineStack;
let pipelineTemplate: Template;
let pipeline: Resource | undefined;
let stages: readonly PipelineStage[];
let staging: Template;
let prod: Template;

beforeAll(() => {
  const app = createTestApp();
  registerPolicyEngines(app);
  config = testConfig();
  stack = new PipelineStack(app, 'TradingPlatformPipeline', { config });
  app.synth();
  pipelineTemplate = Template.fromStack(stack);
  [pipeline] = Object.values(pipelineTemplate.findResources('AWS::CodePipeline::Pipeline')) as Resource[];
  stages = (pipeline?.Properties['Stages'] ?? []) as PipelineStage[];
  staging = Template.fromStack(stack.staging.serviceStack);
  prod = Template.fromStack(stack.prod.serviceStack);
});

const stage = (name: string): PipelineStage => {
  const found = stages.find((candidate) => candidate.Name === name);
  if (!found) throw new Error(`no pipeline stage ${name}`);
  return found;
};
const action = (stageName: string, name: string): Action => {
  const found = stage(stageName).Actions.find((candidate) => candidate.Name === name);
  if (!found) throw new Error(`no action ${name} in ${stageName}`);
  return found;
};
/** The actions after the deployment of a stage, in run order, with their run orders. */
const postDeploy = (stageName: string): [string, number][] =>
  stage(stageName)
    .Actions.filter((candidate) => candidate.ActionTypeId.Provider !== 'CloudFormation')
    .map((candidate): [string, number] => [candidate.Name, candidate.RunOrder ?? 1])
    .sort((a, b) => a[1] - b[1]);
const lastDeployRunOrder = (stageName: string): number => Math.max(...stage(stageName).Actions.filter((candidate) => candidate.ActionTypeId.Provider === 'CloudFormation').map((candidate) => candidate.RunOrder ?? 1));

/** The CodeBuild project an action runs, by the Ref in its configuration. */
const projectOf = (stageName: string, name: string): Resource => {
  const ref = action(stageName, name).Configuration?.ProjectName?.Ref;
  const project = ref ? (pipelineTemplate.toJSON().Resources as Record<string, Resource>)[ref] : undefined;
  if (!project) throw new Error(`${stageName}/${name} runs no CodeBuild project of this stack`);
  return project;
};
const commandsOf = (project: Resource): string[] => {
  const buildSpec = JSON.parse(String((project.Properties['Source'] as { BuildSpec: string }).BuildSpec)) as { phases: Record<string, { commands?: string[] }> };
  return Object.values(buildSpec.phases).flatMap((phase) => phase.commands ?? []);
};
const envOf = (project: Resource): Record<string, string> =>
  Object.fromEntries(((project.Properties['Environment'] as { EnvironmentVariables?: { Name: string; Value: string }[] }).EnvironmentVariables ?? []).map((variable) => [variable.Name, variable.Value]));
/** The action's variables from stack outputs, with the stack's hashed namespace replaced by its construct path. */
const outputsReadBy = (stageName: string, name: string): [string, string][] =>
  (JSON.parse(action(stageName, name).Configuration?.EnvironmentVariables ?? '[]') as { name: string; value: string }[]).map((variable) => [variable.name, variable.value.replace(/Service[0-9A-F]{8}\./, 'Service.')]);
/** Statements of the IAM policies attached to a project's role. */
const statementsOf = (project: Resource): { Action: string | string[]; Resource: unknown }[] => {
  const roleId = (project.Properties['ServiceRole'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(pipelineTemplate.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
};

describe('the gates Prod relies on', () => {
  it('Staging runs HealthGate, SmokeTest, Verify, Bake and PromoteToProd after its deploy, one at a time, in that order', () => {
    const actions = postDeploy('Staging');
    expect(actions.map(([name]) => name)).toEqual(['HealthGate', 'SmokeTest', 'Verify', 'Bake', 'PromoteToProd']);
    const runOrders = actions.map(([, runOrder]) => runOrder);
    // Strictly increasing: no gate runs beside another, so each sees the one before it pass.
    expect(runOrders).toEqual([...new Set(runOrders)].sort((a, b) => a - b));
    expect(runOrders[0]).toBeGreaterThan(lastDeployRunOrder('Staging'));
  });

  it('the approval is a manual approval, nothing runs after it, and Prod is the very next stage', () => {
    const approval = action('Staging', 'PromoteToProd');
    expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    expect(Math.max(...stage('Staging').Actions.map((candidate) => candidate.RunOrder ?? 1))).toBe(approval.RunOrder);
    expect(stages.map((candidate) => candidate.Name).slice(-2)).toEqual(['Staging', 'Prod']);
  });

  it('Prod runs HealthGate then Bake after its deploy, and rolls the stage back by itself when any of them fails', () => {
    const actions = postDeploy('Prod');
    expect(actions.map(([name]) => name)).toEqual(['HealthGate', 'Bake']);
    expect(actions[0]?.[1]).toBeGreaterThan(lastDeployRunOrder('Prod'));
    expect(actions[1]?.[1]).toBeGreaterThan(actions[0]?.[1] ?? Infinity);
    expect(stage('Prod').OnFailure).toEqual({ Result: 'ROLLBACK' });
    // Staging is left as it failed, for whoever investigates; nothing there is promoted without the approval.
    expect(stage('Staging').OnFailure).toBeUndefined();
  });

  it('is a V2 pipeline outside PARALLEL mode, the only kind that can roll a stage back', () => {
    expect(pipeline?.Properties['PipelineType']).toBe('V2');
    expect(pipeline?.Properties['ExecutionMode'] ?? 'SUPERSEDED').not.toBe('PARALLEL');
  });

  it.each<[string, string, string]>([
    ['Staging', 'HealthGate', 'bash scripts/health-gate.sh "$HEALTH_URL" 900'],
    ['Staging', 'SmokeTest', 'bash scripts/pipeline-smoke-test.sh'],
    ['Staging', 'Verify', 'bash scripts/pipeline-verify.sh'],
    ['Staging', 'Bake', 'bash scripts/pipeline-bake.sh'],
    ['Prod', 'HealthGate', 'bash scripts/health-gate.sh "$HEALTH_URL" 900'],
    ['Prod', 'Bake', 'bash scripts/pipeline-bake.sh'],
  ])('%s %s runs its tested script', (stageName, name, command) => {
    expect(commandsOf(projectOf(stageName, name))).toContain(command);
    const script = command.split(' ')[1] ?? '';
    expect(fs.existsSync(path.join(ROOT, script))).toBe(true);
  });

  it('the wrappers hand over to the TypeScript checks their tests cover', () => {
    expect(fs.readFileSync(path.join(ROOT, 'scripts/pipeline-verify.sh'), 'utf8')).toMatch(/exec npx ts-node --transpile-only "\$here\/staging-verification\.ts"\n?$/);
    expect(fs.readFileSync(path.join(ROOT, 'scripts/pipeline-bake.sh'), 'utf8')).toMatch(/exec npx ts-node --transpile-only "\$here\/alarm-bake\.ts"\n?$/);
  });

  it('CODEOWNERS makes the delivery owners review every change to the gates, their scripts and these tests', () => {
    const owners = fs.readFileSync(path.join(ROOT, '.github', 'CODEOWNERS'), 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const owned = new Map(owners.map((line) => line.trim().split(/\s+/)).map(([pattern, ...teams]) => [pattern ?? '', teams]));
    for (const pattern of ['/lib/pipeline/', '/lib/config/', '/lib/compliance/', '/scripts/', '/test/lib/pipeline/', '/test/scripts/', '/.github/', '/buildspec.yml', '/package.json', '/jest.config.js']) {
      expect([pattern, owned.get(pattern)]).toEqual([pattern, ['@example-org/delivery-owners']]);
    }
  });

  it('docs/deployment.md names the branch protection the gates rely on', () => {
    const deployment = fs.readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');
    for (const rule of ['codebuild-pr-check-us-east-1-cicd', 'Require a pull request before merging', 'Require review from Code Owners', 'Require status checks to pass', 'Do not allow bypassing', 'Restrict who can push']) {
      expect([rule, deployment.includes(rule)]).toEqual([rule, true]);
    }
  });
});

describe('bake windows', () => {
  /** How long an alarm of the stage needs at least to go to ALARM: its evaluation window (periods x Period). */
  const windowsOf = (template: Template): [string, number][] =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => {
      const properties = alarm.Properties as { AlarmName: string; Period?: number; EvaluationPeriods: number; Metrics?: { MetricStat?: { Period: number }; Period?: number }[] };
      const period = properties.Period ?? Math.max(...(properties.Metrics ?? []).map((metric) => metric.MetricStat?.Period ?? metric.Period ?? 0));
      return [properties.AlarmName, (period * properties.EvaluationPeriods) / 60];
    });

  it.each<[string, 'staging' | 'prod']>([['Staging', 'staging'], ['Prod', 'prod']])('the %s bake lasts the configured window', (stageName, key) => {
    expect(envOf(projectOf(stageName, 'Bake'))['BAKE_MINUTES']).toBe(String(config.pipeline.bakeWindows[key].toMinutes()));
  });

  it('Staging bakes at least as long as its slowest alarm needs to fire, except the hourly monitor\'s heartbeat', () => {
    // The heartbeat needs two missed hourly runs; it is watched by the bake in Prod as in Staging, but no bake waits for it.
    const windows = windowsOf(staging).filter(([name]) => !name.includes('health-monitor-heartbeat'));
    const slowest = windows.reduce((longest, current) => (current[1] > longest[1] ? current : longest));
    expect(slowest[1]).toBeGreaterThan(0);
    expect(config.pipeline.bakeWindows.staging.toMinutes()).toBeGreaterThanOrEqual(slowest[1]);
    expect(config.pipeline.bakeWindows.prod.toMinutes()).toBeGreaterThan(config.pipeline.bakeWindows.staging.toMinutes());
  });
});

describe('Verify (Staging)', () => {
  it('reads the API URL, the health check id and the verification role from the Staging service stack\'s outputs', () => {
    expect(outputsReadBy('Staging', 'Verify')).toEqual([
      ['API_URL', '#{TradingPlatformPipelineStagingService.ApiUrl}'],
      ['HEALTH_CHECK_ID', '#{TradingPlatformPipelineStagingService.HealthCheckId}'],
      ['VERIFICATION_ROLE_ARN', '#{TradingPlatformPipelineStagingService.VerificationRoleArn}'],
    ]);
    staging.hasOutput('HealthCheckId', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('HealthCheck'), 'HealthCheckId'] } });
    staging.hasOutput('VerificationRoleArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('VerificationRole'), 'Arn'] } });
  });

  it('looks at exactly the resources the Staging template names: audit and access log groups, bus, critical rule, alert topic, alarms', () => {
    const env = envOf(projectOf('Staging', 'Verify'));
    const names = (type: string, property: string): string[] => Object.values(staging.findResources(type)).map((resource) => String(resource.Properties[property]));
    expect(names('AWS::Logs::LogGroup', 'LogGroupName')).toEqual(expect.arrayContaining([env['AUDIT_LOG_GROUP'], env['ACCESS_LOG_GROUP']]));
    expect(names('AWS::Events::EventBus', 'Name')).toEqual([env['EVENT_BUS_NAME']]);
    expect(names('AWS::SNS::Topic', 'TopicName')).toContain(env['ALERT_TOPIC_NAME']);
    // The rule the check watches is the one that routes critical events, to the audit log and to the alert topic.
    staging.hasResourceProperties('AWS::Events::Rule', {
      Name: env['CRITICAL_RULE_NAME'],
      EventPattern: { source: ['trading.platform'], detail: { severity: ['CRITICAL'] } },
      Targets: Match.arrayWith([Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('AlertingTopic') } })]),
    });
    // ACCESS_LOG_GROUP is the group the API stage writes its access log to.
    const [accessLogGroupId] = Object.entries(staging.findResources('AWS::Logs::LogGroup')).find(([, group]) => group.Properties.LogGroupName === env['ACCESS_LOG_GROUP']) ?? [];
    staging.hasResourceProperties('AWS::ApiGateway::Stage', { AccessLogSetting: { DestinationArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: accessLogGroupId }])] } } });
    expect(names('AWS::CloudWatch::CompositeAlarm', 'AlarmName')).toEqual([env['REQUIRED_ALARMS']]);
    for (const alarm of [...names('AWS::CloudWatch::Alarm', 'AlarmName'), ...names('AWS::CloudWatch::CompositeAlarm', 'AlarmName')]) {
      expect(alarm.startsWith(env['ALARM_NAME_PREFIX'] ?? '?') && alarm.endsWith(env['ALARM_NAME_SUFFIX'] ?? '?')).toBe(true);
    }
  });

  it('places its valid order at Staging\'s large-notional threshold, so the audit rule logs its OrderAccepted', () => {
    expect(envOf(projectOf('Staging', 'Verify'))).toMatchObject({ VERIFY_LIMIT_PRICE: config.staging.orders.largeNotionalThreshold, VERIFY_DEADLINE_SECONDS: '600', VERIFY_SESSION_SECONDS: '1200' });
    staging.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { largeNotional: [true] } } });
  });

  it('may assume the Staging verification role and nothing else, and outlasts its deadline', () => {
    const project = projectOf('Staging', 'Verify');
    expect(statementsOf(project).filter((statement) => statement.Action === 'sts:AssumeRole').map((statement) => statement.Resource)).toEqual(['arn:aws:iam::222222222222:role/role-verification-us-east-1-stg']);
    expect(Number(project.Properties['TimeoutInMinutes'])).toBeGreaterThan(20);
  });

  it('keeps every action\'s output variables within the 1000 characters CodePipeline allows a configuration value', () => {
    for (const candidate of stages.flatMap((each) => each.Actions)) expect([candidate.Name, (candidate.Configuration?.EnvironmentVariables ?? '').length <= 1000]).toEqual([candidate.Name, true]);
  });
});

describe('Bake', () => {
  it('Staging watches its alarms with the Staging alarm-reader role, for the window, and never reads the pipeline', () => {
    const project = projectOf('Staging', 'Bake');
    expect(outputsReadBy('Staging', 'Bake')).toEqual([['ALARM_READER_ROLE_ARN', '#{TradingPlatformPipelineStagingService.AlarmReaderRoleArn}']]);
    expect(envOf(project)).toEqual({ BAKE_MINUTES: '20', BAKE_SESSION_SECONDS: '2400', ALARM_NAME_PREFIX: 'alarm-', ALARM_NAME_SUFFIX: '-us-east-1-stg', REQUIRED_ALARMS: 'alarm-platform-degraded-us-east-1-stg' });
    expect(statementsOf(project).filter((statement) => statement.Action === 'sts:AssumeRole' || statement.Action === 'codepipeline:GetPipelineState').map((statement) => [statement.Action, statement.Resource])).toEqual([
      ['sts:AssumeRole', 'arn:aws:iam::222222222222:role/role-alarm-reader-us-east-1-stg'],
    ]);
    expect(Number(project.Properties['TimeoutInMinutes'])).toBeGreaterThan(40);
  });

  it('Prod watches its alarms for its longer window and may read only this pipeline\'s state, to recognise a rollback execution', () => {
    const project = projectOf('Prod', 'Bake');
    expect(outputsReadBy('Prod', 'Bake')).toEqual([['ALARM_READER_ROLE_ARN', '#{TradingPlatformPipelineProdService.AlarmReaderRoleArn}']]);
    expect(envOf(project)).toMatchObject({ BAKE_MINUTES: '60', BAKE_SESSION_SECONDS: '4800', ALARM_NAME_SUFFIX: '-us-east-1-prod', REQUIRED_ALARMS: 'alarm-platform-degraded-us-east-1-prod', ROLLBACK_PIPELINE_NAME: pipeline?.Properties['Name'], ROLLBACK_STAGE_NAME: 'Prod' });
    expect(statementsOf(project).filter((statement) => statement.Action === 'sts:AssumeRole' || statement.Action === 'codepipeline:GetPipelineState').map((statement) => [statement.Action, statement.Resource])).toEqual([
      ['sts:AssumeRole', 'arn:aws:iam::333333333333:role/role-alarm-reader-us-east-1-prod'],
      ['codepipeline:GetPipelineState', 'arn:aws:codepipeline:us-east-1:111111111111:codepipeline-trading-platform-us-east-1-cicd'],
    ]);
    // The project's own timeout must not cut the bake off (the project default is 60 minutes).
    expect(Number(project.Properties['TimeoutInMinutes'])).toBeGreaterThan(80);
  });
});

describe('the roles the checks assume in the stage accounts', () => {
  const trustedByDeliveryAccount = { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRole', Principal: { AWS: 'arn:aws:iam::111111111111:root' } })] } };

  it('Staging\'s verification role may make exactly the checks\' calls, and write only orders and the verification event', () => {
    staging.hasResourceProperties('AWS::IAM::Role', { RoleName: 'role-verification-us-east-1-stg', MaxSessionDuration: 3600, ...trustedByDeliveryAccount });
    const [policy] = Object.values(staging.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('VerificationRole') }] } }));
    const statements = policy?.Properties.PolicyDocument.Statement as { Sid: string; Action: string | string[]; Condition?: unknown }[];
    expect(statements.map((statement) => [statement.Sid, statement.Action])).toEqual([
      ['InvokeOrderRoutes', 'execute-api:Invoke'],
      ['PutVerificationEvent', 'events:PutEvents'],
      ['ReadAuditAndAccessLogs', 'logs:FilterLogEvents'],
      ['ReadHealthCheckStatus', 'route53:GetHealthCheckStatus'],
      ['ReadMetricsAndAlarms', ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData']],
    ]);
    expect(statements.find((statement) => statement.Sid === 'PutVerificationEvent')?.Condition).toEqual({ StringEquals: { 'events:source': ['trading.platform'], 'events:detail-type': ['PipelineVerification'] } });
  });

  it('each stage has an alarm-reader role that may only describe alarms, for sessions as long as its bake', () => {
    for (const [template, suffix, hours] of [[staging, 'stg', 1], [prod, 'prod', 2]] as const) {
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: `role-alarm-reader-us-east-1-${suffix}`, MaxSessionDuration: hours * 3600, ...trustedByDeliveryAccount });
      template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: [{ Sid: 'ReadAlarmStates', Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: '*' }] } });
    }
  });

  it('Prod has no verification role: nothing may put a synthetic critical event there', () => {
    expect(Object.values(prod.findResources('AWS::IAM::Role')).map((role) => role.Properties.RoleName)).not.toContain('role-verification-us-east-1-prod');
    expect(stack.prod.serviceStack.verificationRoleArnOutput).toBeUndefined();
  });

  it('a stage without a delivery account cannot take post-deploy checks', () => {
    const app = createTestApp();
    expect(() => new TradingPlatformStage(app, 'Orphan', { config: config.sandbox, postDeployChecks: { verification: true, bakeWindow: config.pipeline.bakeWindows.staging } })).toThrow(/postDeployChecks needs deliveryAccount/);
  });
});

describe('rollback notices', () => {
  it('a rollback execution of the pipeline is announced on the delivery topic, dead-lettered if undeliverable', () => {
    pipelineTemplate.hasResourceProperties('AWS::Events::Rule', {
      Name: 'ebrule-pipeline-rollbacks-us-east-1-cicd',
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change'],
        detail: { pipeline: ['codepipeline-trading-platform-us-east-1-cicd'], state: ['STARTED'], 'execution-trigger': { 'trigger-type': ['AutomatedRollback', 'ManualRollback'] } },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('NotificationTopic') }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('NotificationDeadLetterQueue'), 'Arn'] } }, InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('ROLLBACK started') }) })],
    });
  });

  it('EventBridge may use the pipeline key for that rule only', () => {
    pipelineTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowEventBridgeRollbackNotices',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' }, ArnEquals: { 'aws:SourceArn': 'arn:aws:events:us-east-1:111111111111:rule/ebrule-pipeline-rollbacks-us-east-1-cicd' } },
          },
        ]),
      },
    });
  });
});
