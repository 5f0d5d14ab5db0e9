/**
 * Brings the singleton Lambda providers that aws-cdk-lib adds on its own (S3 auto-delete, default security group
 * restriction) under the platform's rules: conventional names, tags, and a log group that is destroyed with the stack.
 */
import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EnvironmentConfig, PROJECT_NAME, ResourceNames } from '../config';

/** Construct ids aws-cdk-lib gives its singleton providers, and the purpose used in their names. */
export const CDK_PROVIDER_PURPOSES: Readonly<Record<string, string>> = {
  'Custom::S3AutoDeleteObjectsCustomResourceProvider': 'cdk-s3-auto-delete',
  'Custom::VpcRestrictDefaultSGCustomResourceProvider': 'cdk-vpc-default-sg',
};

/**
 * Names and tags each singleton provider in `stack` and routes its logs to an explicit log group.
 * Without this its function would create `/aws/lambda/...` itself at run time, which a stack delete leaves behind.
 * Call at the end of the stack's constructor, after every construct that may add a provider.
 */
export function adoptCdkProviders(stack: Stack, config: EnvironmentConfig, names: ResourceNames, encryptionKey: kms.IKey): void {
  for (const [providerId, purpose] of Object.entries(CDK_PROVIDER_PURPOSES)) {
    const provider = stack.node.tryFindChild(providerId);
    if (!provider) continue;
    const handler = provider.node.tryFindChild('Handler');
    const role = provider.node.tryFindChild('Role');
    if (!(handler instanceof CfnResource) || !(role instanceof CfnResource)) {
      throw new Error(`aws-cdk-lib changed the layout of ${providerId}: expected CfnResource children Handler and Role`);
    }
    const functionName = names.of('lambda', purpose);
    const logGroup = new logs.LogGroup(stack, `${purpose}-log-group`, {
      logGroupName: names.logGroup('lambda', purpose),
      retention: config.logRetention,
      encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const tags = [
      { Key: 'Environment', Value: config.kind },
      { Key: 'Region', Value: config.region },
      { Key: 'Project', Value: PROJECT_NAME },
      { Key: 'EnvironmentSuffix', Value: config.environmentSuffix },
    ];
    handler.addPropertyOverride('FunctionName', functionName);
    handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName, LogFormat: 'JSON' });
    handler.addPropertyOverride('Tags', tags);
    role.addPropertyOverride('RoleName', names.of('role', purpose));
    role.addPropertyOverride('Tags', tags);
  }
}
