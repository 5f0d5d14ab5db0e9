/**
 * What one AWS account and region needs once, before any TradingPlatformStage is deployed into it: the API Gateway
 * account setting and its CloudWatch role, and the RDSOSMetrics log group that RDS Enhanced Monitoring writes every
 * instance's OS metrics to. Deployed by hand once per account (like `cdk bootstrap`), destroyed last.
 */
import { RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeBaselineGuardFindings } from '../compliance/guard-acknowledgements';
import { PLATFORM_REGION, PROJECT_NAME, REQUIRED_TAG_KEYS, ResourceNames, UNTAGGABLE_RESOURCE_TYPES } from '../config';
import { ACCOUNT_BASELINE_SUFFIX, ApiGatewayAccount } from '../constructs/api-gateway-account';
import { ENHANCED_MONITORING_LOG_GROUP } from '../constructs/database';

export interface AccountBaselineStackProps extends StackProps {
  /** 12-digit account the baseline is for. */
  readonly account: string;
}

/** Stack name of the baseline; the same in every account, as there is exactly one per account and region. */
export const ACCOUNT_BASELINE_STACK_NAME = `cfn-account-baseline-${PLATFORM_REGION}`;

export class AccountBaselineStack extends Stack {
  public readonly apiGateway: ApiGatewayAccount;
  /** RDSOSMetrics: owned here so that it has a retention and goes with the baseline, instead of RDS creating it. */
  public readonly enhancedMonitoringLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AccountBaselineStackProps) {
    super(scope, id, {
      stackName: ACCOUNT_BASELINE_STACK_NAME,
      description: 'Trading platform account baseline: API Gateway CloudWatch role and account setting, RDSOSMetrics log group (one per account and region)',
      ...props,
      env: { account: props.account, region: PLATFORM_REGION },
      terminationProtection: false,
    });
    const names = new ResourceNames({ account: props.account, region: PLATFORM_REGION, environmentSuffix: ACCOUNT_BASELINE_SUFFIX });
    const tags: Record<(typeof REQUIRED_TAG_KEYS)[number], string> = { Environment: 'shared', Region: PLATFORM_REGION, Project: PROJECT_NAME, EnvironmentSuffix: ACCOUNT_BASELINE_SUFFIX };
    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value, { excludeResourceTypes: UNTAGGABLE_RESOURCE_TYPES });
    this.apiGateway = new ApiGatewayAccount(this, 'ApiGateway', { names });
    // RDS creates this group on an instance's first metrics if it is missing, with no retention we chose and outside
    // every stack, so `cdk destroy` would leave it behind. Shared by every stage's instances in the account.
    this.enhancedMonitoringLogGroup = new logs.LogGroup(this, 'EnhancedMonitoringLogGroup', {
      logGroupName: ENHANCED_MONITORING_LOG_GROUP,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeBaselineGuardFindings(this);
  }
}

/** The distinct accounts among the given environments: one baseline each, even when environments share an account. */
export function baselineAccounts(environments: readonly { readonly account: string }[]): string[] {
  return [...new Set(environments.map((environment) => environment.account))].sort();
}
