/**
 * Runtime-tunable configuration in SSM Parameter Store under `/trading/{suffix}/`: the trading kill switch
 * and the max order notional. Operators change them without a deploy; functions read them with caching.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

/** Parameter paths below `/trading/{suffix}/`, shared with the functions that read them. */
export const RUNTIME_PARAMETER_PATHS = {
  tradingEnabled: 'orders/trading-enabled',
  maxOrderNotional: 'orders/max-order-notional',
} as const;

export interface RuntimeParametersProps {
  readonly names: ResourceNames;
  /** Initial max order notional (decimal string, USD). */
  readonly maxOrderNotional: string;
}

/** Default settings: trading enabled (`true`), standard tier, string parameters validated by pattern. */
export class RuntimeParameters extends Construct {
  public readonly tradingEnabled: ssm.StringParameter;
  public readonly maxOrderNotional: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: RuntimeParametersProps) {
    super(scope, id);
    this.tradingEnabled = new ssm.StringParameter(this, 'TradingEnabled', {
      parameterName: props.names.parameter(RUNTIME_PARAMETER_PATHS.tradingEnabled),
      description: 'Kill switch: "false" makes the order processor reject every new order',
      stringValue: 'true',
      allowedPattern: '^(true|false)$',
      tier: ssm.ParameterTier.STANDARD,
    });
    this.maxOrderNotional = new ssm.StringParameter(this, 'MaxOrderNotional', {
      parameterName: props.names.parameter(RUNTIME_PARAMETER_PATHS.maxOrderNotional),
      description: 'Risk limit: orders whose quantity x price exceeds this USD amount are rejected',
      stringValue: props.maxOrderNotional,
      allowedPattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
      tier: ssm.ParameterTier.STANDARD,
    });
  }

  /** Read every runtime parameter (GetParameter(s) on exactly these ARNs). */
  grantRead(grantee: iam.IGrantable): void {
    this.tradingEnabled.grantRead(grantee);
    this.maxOrderNotional.grantRead(grantee);
  }
}
