/**
 * One complete deployment of the trading platform (sandbox, staging or prod): the stateful data stack and the
 * stateless service stack. Deployed by the pipeline per environment, or directly as a sandbox.
 */
import { Duration, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeStageGuardFindings } from '../compliance/guard-acknowledgements';
import { EnvironmentConfig } from '../config';
import { DataStack } from './data-stack';
import { ServiceStack } from './service-stack';

/** What the delivery pipeline checks after it deploys the stage, so the stage holds the roles those checks assume. */
export interface PostDeployChecks {
  /** The Staging verification runs against this stage: create its role. */
  readonly verification: boolean;
  /** The bake window the pipeline watches this stage's alarms for (pipeline config). */
  readonly bakeWindow: Duration;
}

export interface TradingPlatformStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /**
   * Account of the delivery pipeline; when set, the stage creates a smoke-test role that account may assume.
   * @default - no smoke-test role (a sandbox deployed by hand)
   */
  readonly deliveryAccount?: string;
  /**
   * The pipeline's checks after the smoke test; their roles are assumable by `deliveryAccount`, which must be set.
   * @default - no verification or alarm-reader role (a sandbox deployed by hand)
   */
  readonly postDeployChecks?: PostDeployChecks;
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
      postDeployChecks: props.postDeployChecks,
    });
    acknowledgeStageGuardFindings(this, props.config.kind);
  }
}
