/**
 * Base class of every stack in the platform stage: availability zones come from config (so synth never asks
 * an AWS account), and every resource is tagged with the environment.
 */
import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig, ResourceNames, applyStandardTags } from '../config';

export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

export abstract class PlatformStack extends Stack {
  public readonly config: EnvironmentConfig;
  public readonly names: ResourceNames;

  protected constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.config.region },
      terminationProtection: false,
    });
    this.config = props.config;
    this.names = new ResourceNames(props.config);
    applyStandardTags(this, props.config);
  }

  /** AZs from config: an account-bound stack would otherwise look them up in the account at synth time. */
  override get availabilityZones(): string[] {
    return [...this.config.availabilityZones];
  }
}
