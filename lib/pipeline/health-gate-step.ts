/**
 * Post-deploy gate: calls the stage's deep health URL (read from its stack output) with retries and exponential
 * backoff until it answers healthy or the deadline passes; the pipeline does not promote past a failing gate.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';

export interface HealthGateStepProps {
  readonly healthUrl: CfnOutput;
  /** @default Duration.minutes(15) */
  readonly deadline?: Duration;
}

export class HealthGateStep extends pipelines.ShellStep {
  constructor(id: string, props: HealthGateStepProps) {
    const deadline = props.deadline ?? Duration.minutes(15);
    super(id, {
      envFromCfnOutputs: { HEALTH_URL: props.healthUrl },
      commands: [`bash scripts/health-gate.sh "$HEALTH_URL" ${deadline.toSeconds()}`],
    });
  }
}
