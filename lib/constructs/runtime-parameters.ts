/**
 * Runtime-tunable configuration in SSM Parameter Store under `/trading/{suffix}/`: the trading kill switch
 * and the max order notional. Operators change them without a deploy; functions read them with caching.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { TRADING_ENABLED_PATTERN, USD_AMOUNT_PATTERN } from '../../lambda/shared/runtime-parameters';
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
  /** Literal parameter names, so that other stacks use them without a cross-stack reference. */
  public readonly names: { readonly tradingEnabled: string; readonly maxOrderNotional: string };

  constructor(scope: Construct, id: string, props: RuntimeParametersProps) {
    super(scope, id);
    this.names = {
      tradingEnabled: props.names.parameter(RUNTIME_PARAMETER_PATHS.tradingEnabled),
      maxOrderNotional: props.names.parameter(RUNTIME_PARAMETER_PATHS.maxOrderNotional),
    };
    this.tradingEnabled = new ssm.StringParameter(this, 'TradingEnabled', {
      parameterName: this.names.tradingEnabled,
      description: 'Kill switch: "false" makes the order processor reject every order it processes, those already queued included',
      stringValue: 'true',
      // The rules the functions parse the values with (lambda/shared/runtime-parameters.ts).
      allowedPattern: TRADING_ENABLED_PATTERN,
      tier: ssm.ParameterTier.STANDARD,
    });
    this.maxOrderNotional = new ssm.StringParameter(this, 'MaxOrderNotional', {
      parameterName: this.names.maxOrderNotional,
      description: 'Risk limit (USD): the order processor rejects LIMIT orders whose quantity x limitPrice exceeds it; MARKET orders are not checked',
      stringValue: props.maxOrderNotional,
      allowedPattern: USD_AMOUNT_PATTERN,
      tier: ssm.ParameterTier.STANDARD,
    });
  }

  /** Read every runtime parameter: GetParameter(s) on exactly these ARNs (String parameters, so no KMS). */
  grantRead(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRuntimeParameters',
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: Object.values(this.names).map((name) =>
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        ),
      }),
    );
  }
}
