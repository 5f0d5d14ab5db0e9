/**
 * Bake: after a stage's checks pass, watch every alarm of that stage for the configured window and fail if one is in
 * ALARM (scripts/pipeline-bake.sh with the stage's alarm-reader role). Before the approval in Staging; in Prod, a
 * failure fails the stage, which then rolls back by itself (lib/pipeline/stage-rollback.ts).
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { alarmBakeSession } from '../constructs/alarm-reader-role';

/** The pipeline stage this bake may find running as a rollback execution (Prod). */
export interface RollbackAwareness {
  readonly pipelineName: string;
  /** ARN of the pipeline, for codepipeline:GetPipelineState; built from names, so the step does not depend on the pipeline. */
  readonly pipelineArn: string;
  readonly stageName: string;
}

export interface AlarmBakeStepProps {
  readonly alarmReaderRoleArn: CfnOutput;
  /** Account of the stage; the step may assume only the alarm-reader role there. */
  readonly stageAccount: string;
  /** Name of that role (deterministic from the naming convention). */
  readonly alarmReaderRoleName: string;
  /** The bake window (pipeline config, `pipeline.bakeWindows`). */
  readonly window: Duration;
  readonly alarmNamePrefix: string;
  readonly alarmNameSuffix: string;
  /** Alarms that must exist: the composite platform-degraded alarm. */
  readonly requiredAlarmNames: readonly string[];
  /**
   * Set where the stage rolls back by itself: a rollback execution then waits for the alarms to clear.
   * @default - always fail on the first alarm in ALARM (Staging)
   */
  readonly rollback?: RollbackAwareness;
}

export class AlarmBakeStep extends pipelines.CodeBuildStep {
  constructor(id: string, props: AlarmBakeStepProps) {
    const session = alarmBakeSession(props.window);
    const rolePolicyStatements = [
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [`arn:aws:iam::${props.stageAccount}:role/${props.alarmReaderRoleName}`] }),
    ];
    if (props.rollback) rolePolicyStatements.push(new iam.PolicyStatement({ actions: ['codepipeline:GetPipelineState'], resources: [props.rollback.pipelineArn] }));
    super(id, {
      envFromCfnOutputs: { ALARM_READER_ROLE_ARN: props.alarmReaderRoleArn },
      env: {
        BAKE_MINUTES: String(props.window.toMinutes()),
        BAKE_SESSION_SECONDS: String(session.toSeconds()),
        ALARM_NAME_PREFIX: props.alarmNamePrefix,
        ALARM_NAME_SUFFIX: props.alarmNameSuffix,
        REQUIRED_ALARMS: props.requiredAlarmNames.join(','),
        ...(props.rollback ? { ROLLBACK_PIPELINE_NAME: props.rollback.pipelineName, ROLLBACK_STAGE_NAME: props.rollback.stageName } : {}),
      },
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['bash scripts/pipeline-bake.sh'],
      // The project default (60 minutes) would cut a longer bake off; the session already holds the margin.
      timeout: Duration.minutes(session.toMinutes() + 10),
      rolePolicyStatements,
    });
  }
}
