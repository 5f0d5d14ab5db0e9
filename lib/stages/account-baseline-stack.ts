/**
 * What one AWS account and region needs once, before any TradingPlatformStage is deployed into it: the API Gateway
 * account setting and its CloudWatch role. Deployed by hand once per account (like `cdk bootstrap`), destroyed last.
 */
import { Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PLATFORM_REGION, PROJECT_NAME, REQUIRED_TAG_KEYS, ResourceNames, UNTAGGABLE_RESOURCE_TYPES } from '../config';
import { ACCOUNT_BASELINE_SUFFIX, ApiGatewayAccount } from '../constructs/api-gateway-account';

export interface AccountBaselineStackProps extends StackProps {
  /** 12-digit account the baseline is for. */
  readonly account: string;
}

/** Stack name of the baseline; the same in every account, as there is exactly one per account and region. */
export const ACCOUNT_BASELINE_STACK_NAME = `cfn-account-baseline-${PLATFORM_REGION}`;

export class AccountBaselineStack extends Stack {
  public readonly apiGateway: ApiGatewayAccount;

  constructor(scope: Construct, id: string, props: AccountBaselineStackProps) {
    super(scope, id, {
      stackName: ACCOUNT_BASELINE_STACK_NAME,
      description: 'Trading platform account baseline: API Gateway CloudWatch role and account setting (one per account and region)',
      ...props,
      env: { account: props.account, region: PLATFORM_REGION },
      terminationProtection: false,
    });
    const names = new ResourceNames({ account: props.account, region: PLATFORM_REGION, environmentSuffix: ACCOUNT_BASELINE_SUFFIX });
    const tags: Record<(typeof REQUIRED_TAG_KEYS)[number], string> = { Environment: 'shared', Region: PLATFORM_REGION, Project: PROJECT_NAME, EnvironmentSuffix: ACCOUNT_BASELINE_SUFFIX };
    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value, { excludeResourceTypes: UNTAGGABLE_RESOURCE_TYPES });
    this.apiGateway = new ApiGatewayAccount(this, 'ApiGateway', { names });
  }
}

/** The distinct accounts among the given environments: one baseline each, even when environments share an account. */
export function baselineAccounts(environments: readonly { readonly account: string }[]): string[] {
  return [...new Set(environments.map((environment) => environment.account))].sort();
}
