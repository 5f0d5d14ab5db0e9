/**
 * Post-deploy verification of Staging, after the smoke test: runs scripts/pipeline-verify.sh, which assumes the stage's
 * verification role and proves every path only AWS runs (scripts/staging-verification.ts), one named check per path.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';

/** The deployed stage's resources the checks look at, by physical name (known at synth: the naming convention). */
export interface VerificationTargets {
  readonly auditLogGroupName: string;
  readonly accessLogGroupName: string;
  readonly eventBusName: string;
  /** The rule that routes `severity: CRITICAL` events to the audit log and the alert topic. */
  readonly criticalRuleName: string;
  readonly alertTopicName: string;
  /** DescribeAlarms prefix and the stage's part of every alarm name (`alarm-` ... `-us-east-1-stg`). */
  readonly alarmNamePrefix: string;
  readonly alarmNameSuffix: string;
  /** Alarms that must exist: the composite platform-degraded alarm. */
  readonly requiredAlarmNames: readonly string[];
}

export interface VerificationStepProps {
  readonly apiUrl: CfnOutput;
  /** Known only once the stage is deployed, so read from its output. */
  readonly healthCheckId: CfnOutput;
  readonly verificationRoleArn: CfnOutput;
  /** Account of the stage under test; the step may assume only the verification role there. */
  readonly stageAccount: string;
  /** Name of that role (deterministic from the naming convention). */
  readonly verificationRoleName: string;
  readonly targets: VerificationTargets;
  /** Limit price of the valid order: the stage's large-notional threshold, so the audit rule logs its OrderAccepted. */
  readonly orderLimitPrice: string;
  /**
   * Time for every check, including the asynchronous ones (logs, metrics of the critical event, Route 53).
   * @default Duration.minutes(10)
   */
  readonly deadline?: Duration;
}

/** The role session outlasts the checks by this much: the build's start-up and the final alarm read. */
const SESSION_MARGIN = Duration.minutes(10);

export class VerificationStep extends pipelines.CodeBuildStep {
  constructor(id: string, props: VerificationStepProps) {
    const deadline = props.deadline ?? Duration.minutes(10);
    const session = Duration.minutes(deadline.toMinutes() + SESSION_MARGIN.toMinutes());
    // The verification role's maximum session is one hour (lib/constructs/verification-role.ts).
    if (session.toMinutes() > 60) throw new Error(`VerificationStep ${id}: deadline=${deadline.toMinutes()} minutes needs a ${session.toMinutes()}-minute session; the verification role allows 60`);
    const targets = props.targets;
    super(id, {
      // Only what is known after the deploy comes from outputs: each one is a variable in the action's configuration,
      // whose values CodePipeline limits to 1000 characters (API Reference, ActionDeclaration configuration).
      envFromCfnOutputs: { API_URL: props.apiUrl, HEALTH_CHECK_ID: props.healthCheckId, VERIFICATION_ROLE_ARN: props.verificationRoleArn },
      env: {
        AUDIT_LOG_GROUP: targets.auditLogGroupName,
        ACCESS_LOG_GROUP: targets.accessLogGroupName,
        EVENT_BUS_NAME: targets.eventBusName,
        CRITICAL_RULE_NAME: targets.criticalRuleName,
        ALERT_TOPIC_NAME: targets.alertTopicName,
        ALARM_NAME_PREFIX: targets.alarmNamePrefix,
        ALARM_NAME_SUFFIX: targets.alarmNameSuffix,
        REQUIRED_ALARMS: targets.requiredAlarmNames.join(','),
        VERIFY_LIMIT_PRICE: props.orderLimitPrice,
        VERIFY_DEADLINE_SECONDS: String(deadline.toSeconds()),
        VERIFY_SESSION_SECONDS: String(session.toSeconds()),
      },
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['bash scripts/pipeline-verify.sh'],
      timeout: Duration.minutes(session.toMinutes() + 15),
      rolePolicyStatements: [
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [`arn:aws:iam::${props.stageAccount}:role/${props.verificationRoleName}`],
        }),
      ],
    });
  }
}
