/**
 * The account baseline: one API Gateway account setting per account and region, whose role can write the access and
 * execution logs of every stage deployed there, and nothing else.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { REQUIRED_TAG_KEYS } from '../../../lib/config';
import { registerPolicyEngines } from '../../../lib/compliance/policy-engines';
import { API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER } from '../../../lib/constructs/api-gateway-account';
import { ACCOUNT_BASELINE_STACK_NAME, AccountBaselineStack, baselineAccounts } from '../../../lib/stages/account-baseline-stack';
import { TradingPlatformStage } from '../../../lib/stages/trading-platform-stage';
import { createTestApp, testConfig } from '../../support/cdk-app';

const ACCOUNT = '444444444444';
let baseline: Template;
let stage: Template;

beforeAll(() => {
  // The baseline and a stage in the same app, with cdk-nag on: synth throws on any unacknowledged finding.
  const app = createTestApp();
  registerPolicyEngines(app);
  const baselineStack = new AccountBaselineStack(app, 'Baseline', { account: ACCOUNT });
  const platform = new TradingPlatformStage(app, 'Test', { config: testConfig().sandbox });
  app.synth();
  baseline = Template.fromStack(baselineStack);
  stage = Template.fromStack(platform.serviceStack);
});

/** IAM's ARN matching: `*` matches any run of characters, `?` one character. */
function iamArnMatches(pattern: string, arn: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(arn);
}

function writeStatement(): { Action: string[]; Resource: unknown[] } {
  const [policy] = Object.values(baseline.findResources('AWS::IAM::Policy'));
  const statements = policy?.Properties.PolicyDocument.Statement as { Sid: string; Action: string[]; Resource: unknown[] }[];
  const statement = statements.find((candidate) => candidate.Sid === 'WriteApiLogs');
  if (!statement) throw new Error('no WriteApiLogs statement');
  return statement;
}

describe('account baseline', () => {
  it('is one stack per account, with one API Gateway account setting pointing at its own role', () => {
    expect(ACCOUNT_BASELINE_STACK_NAME).toBe('cfn-account-baseline-us-east-1');
    baseline.resourceCountIs('AWS::ApiGateway::Account', 1);
    baseline.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CloudWatchRole'), 'Arn'] } });
    baseline.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'role-apigw-cloudwatch-us-east-1-account',
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' })],
      },
    });
  });

  it('lets the role write every stage\'s access log group and API Gateway\'s execution log groups (streams included)', () => {
    const { Action, Resource } = writeStatement();
    expect(Action).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:CreateLogGroup', 'logs:DescribeLogStreams']));
    const patterns = Resource.map((resource) => JSON.stringify(resource)).map((text) => JSON.parse(text) as string);
    const [accessLogGroup] = Object.values(stage.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/trading/test/apigateway/access' } }));
    expect(accessLogGroup).toBeDefined();
    const arns = [
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/trading/test/apigateway/access`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/trading/test/apigateway/access:log-stream:d3d9446802a44259755d38e6d163e820`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:API-Gateway-Execution-Logs_a1b2c3d4e5/v1`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:API-Gateway-Execution-Logs_a1b2c3d4e5/v1:log-stream:c9f0f895fb98ab9159f51fd0297e236d`,
    ];
    for (const arn of arns) expect(patterns.some((pattern) => iamArnMatches(pattern, arn))).toBe(true);
    // ...and no other log group of the stage, nor another account's.
    for (const arn of [`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/trading/test/lambda/health`, `arn:aws:logs:us-east-1:111111111111:log-group:/trading/test/apigateway/access`]) {
      expect(patterns.some((pattern) => iamArnMatches(pattern, arn))).toBe(false);
    }
  });

  it('needs no KMS permission (CloudWatch Logs uses the stage key itself) and no managed policy', () => {
    const [policy] = Object.values(baseline.findResources('AWS::IAM::Policy'));
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).not.toContain('kms:');
    const [role] = Object.values(baseline.findResources('AWS::IAM::Role'));
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('publishes the role ARN where every stage resolves it at deploy time', () => {
    baseline.hasResourceProperties('AWS::SSM::Parameter', { Name: API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER, Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('CloudWatchRole'), 'Arn'] } });
    expect(Object.keys(stage.findParameters('*', { Default: API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER }))).toHaveLength(1);
  });

  it('is destroyable and tagged like the rest of the platform', () => {
    const resources = Object.values(baseline.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; Properties?: { Tags?: { Key: string }[] | Record<string, string> } }>);
    for (const resource of resources) {
      expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
      const tags = resource.Properties?.Tags;
      if (tags) expect(Array.isArray(tags) ? tags.map((tag) => tag.Key) : Object.keys(tags)).toEqual(expect.arrayContaining([...REQUIRED_TAG_KEYS]));
    }
    expect(resources.filter((resource) => resource.Properties?.Tags !== undefined).map((resource) => resource.Type).sort()).toEqual(['AWS::IAM::Role', 'AWS::Logs::LogGroup', 'AWS::SSM::Parameter']);
  });

  it('owns the account\'s RDSOSMetrics log group, where Enhanced Monitoring of every stage writes: a year, destroyed with it', () => {
    baseline.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: 'RDSOSMetrics', RetentionInDays: 365 },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  it('is created once per distinct account, however many environments share it', () => {
    expect(baselineAccounts([{ account: '222222222222' }, { account: '444444444444' }, { account: '222222222222' }])).toEqual(['222222222222', '444444444444']);
  });
});
