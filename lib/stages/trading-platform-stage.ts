/**
 * One complete deployment of the trading platform (sandbox, staging or prod): the stateful data stack and the
 * stateless service stack. Deployed by the pipeline per environment, or directly as a sandbox.
 */
import { Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config';
import { DataStack } from './data-stack';
import { ServiceStack } from './service-stack';

export interface TradingPlatformStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /**
   * Account of the delivery pipeline; when set, the stage creates a smoke-test role that account may assume.
   * @default - no smoke-test role (a sandbox deployed by hand)
   */
  readonly deliveryAccount?: string;
}

export class TradingPlatformStage extends Stage {
  public readonly config: EnvironmentConfig;
  public readonly dataStack: DataStack;
  public readonly serviceStack: ServiceStack;

  constructor(scope: Construct, id: string, props: TradingPlatformStageProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: props.config.region } });
    this.config = props.config;
    this.dataStack = new DataStack(this, 'Data', {
      config: props.config,
      stackName: `cfn-data-${props.config.region}-${props.config.environmentSuffix}`,
      description: `Trading platform ${props.config.environmentSuffix}: network, encryption, Aurora, sessions, buckets, parameters`,
    });
    this.serviceStack = new ServiceStack(this, 'Service', {
      config: props.config,
      stackName: `cfn-service-${props.config.region}-${props.config.environmentSuffix}`,
      description: `Trading platform ${props.config.environmentSuffix}: order API, queue, processor, event bus`,
      key: this.dataStack.key,
      network: this.dataStack.network,
      database: this.dataStack.database,
      sessions: this.dataStack.sessions,
      parameters: this.dataStack.parameters,
      buckets: this.dataStack.buckets,
      deliveryAccount: props.deliveryAccount,
    });
  }
}
