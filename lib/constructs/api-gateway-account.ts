/**
 * The API Gateway account setting of one account and region: the CloudWatch role API Gateway uses to write execution
 * logs and access logs of every REST API there, created once per account (the account baseline), never per stage.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

/** Suffix of the account baseline's names: it belongs to the account, not to one environment. */
export const ACCOUNT_BASELINE_SUFFIX = 'account';

/** Where the baseline publishes the role ARN; every stage resolves it at deploy time, so a missing baseline fails early. */
export const API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER = `/trading/${ACCOUNT_BASELINE_SUFFIX}/apigateway/cloudwatch-role-arn`;

/** Log group name patterns of every stage's API logs (see OrderApi): access logs and API Gateway's execution logs. */
export const API_LOG_GROUP_PATTERNS = {
  access: '/trading/*/apigateway/access',
  execution: 'API-Gateway-Execution-Logs_*',
} as const;

export interface ApiGatewayAccountProps {
  /** Names for the account baseline (suffix ACCOUNT_BASELINE_SUFFIX). */
  readonly names: ResourceNames;
}

/**
 * Default settings: one role `role-apigw-cloudwatch-{region}-account` that may write only the platform's API log groups
 * (the access log groups `/trading/{suffix}/apigateway/access` and `API-Gateway-Execution-Logs_*`), the
 * `AWS::ApiGateway::Account` setting pointing at it, and its ARN in SSM.
 * The role needs no KMS permission: CloudWatch Logs encrypts with the stage key itself, through the key policy's
 * statement for logs.{region}.amazonaws.com (PlatformKey).
 */
export class ApiGatewayAccount extends Construct {
  public readonly role: iam.Role;
  public readonly account: apigateway.CfnAccount;
  public readonly roleArnParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: ApiGatewayAccountProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupArn = (pattern: string) => stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: pattern, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    // `*` at the end covers the group itself and its streams (`...:log-stream:name`), which PutLogEvents names.
    const accessLogs = logGroupArn(`${API_LOG_GROUP_PATTERNS.access}*`);
    const executionLogs = logGroupArn(API_LOG_GROUP_PATTERNS.execution);
    const anyLogGroup = logGroupArn('*');

    this.role = new iam.Role(this, 'CloudWatchRole', {
      roleName: props.names.of('role', 'apigw-cloudwatch'),
      // The trust policy API Gateway documents for this role (set-up-logging.html), without conditions: AWS does not
      // document that API Gateway sends aws:SourceAccount when it assumes it, and a condition it does not meet would
      // silently stop all API logging in the account. The role can only write this account's API log groups.
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway account setting: write the execution and access logs of the trading APIs in this account and region',
    });
    // The actions of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs, limited to the platform's API log groups.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteApiLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 'logs:GetLogEvents', 'logs:FilterLogEvents'],
        resources: [accessLogs, executionLogs],
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindLogGroups', actions: ['logs:DescribeLogGroups'], resources: [anyLogGroup] }));
    Validations.of(this.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${accessLogs}]`,
        reason: 'One account-level role writes the access logs of every stage in the account; each stage names its group /trading/{suffix}/apigateway/access, and the streams below it are named by API Gateway.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executionLogs}]`,
        reason: 'API Gateway names execution log groups after the API id at run time (API-Gateway-Execution-Logs_{apiId}/{stage}); the grant covers only those groups.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${anyLogGroup}]`,
        reason: 'logs:DescribeLogGroups lists log groups and cannot be scoped to names; it returns metadata only (AmazonAPIGatewayPushToCloudWatchLogs grants it on *).',
      },
    );

    this.account = new apigateway.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    this.roleArnParameter = new ssm.StringParameter(this, 'RoleArnParameter', {
      parameterName: API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER,
      stringValue: this.role.roleArn,
      description: 'Role of the API Gateway account setting (AWS::ApiGateway::Account) in this account and region',
    });
    this.roleArnParameter.node.addDependency(this.account);
  }
}
