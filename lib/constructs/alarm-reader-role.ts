/**
 * The role the pipeline's bake step assumes in a stage account to watch that stage's alarms: cloudwatch:DescribeAlarms
 * and nothing else. Staging and Prod each have one; the alarms live with the stage, not in the pipeline account.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';

/** Time a bake step needs on top of its window: assuming the role, the last poll, and the build's own start-up. */
export const BAKE_SESSION_MARGIN = Duration.minutes(20);

/** The session a bake of `bakeWindow` asks for: one session for the whole bake, so it never re-assumes mid-window. */
export function alarmBakeSession(bakeWindow: Duration): Duration {
  return Duration.minutes(bakeWindow.toMinutes() + BAKE_SESSION_MARGIN.toMinutes());
}

export interface AlarmReaderRoleProps {
  readonly names: ResourceNames;
  /** Account of the delivery pipeline, the only one that may assume the role. */
  readonly deliveryAccount: string;
  /** The bake window of this stage (pipeline config): the role's sessions last exactly as long as a bake needs. */
  readonly bakeWindow: Duration;
}

/**
 * Default settings: role `role-alarm-reader-{region}-{suffix}`, assumable by the delivery account, read-only, with a
 * maximum session of the bake's session rounded up to whole hours (IAM: 1 to 12 hours).
 */
export class AlarmReaderRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AlarmReaderRoleProps) {
    super(scope, id);
    const sessionHours = Math.ceil(alarmBakeSession(props.bakeWindow).toMinutes() / 60);
    if (sessionHours > 12) {
      throw new Error(`AlarmReaderRole bakeWindow=${props.bakeWindow.toMinutes()} minutes: a bake session of ${sessionHours} hours exceeds the IAM maximum of 12`);
    }
    this.role = new iam.Role(this, 'Role', {
      roleName: props.names.of('role', 'alarm-reader'),
      assumedBy: new iam.AccountPrincipal(props.deliveryAccount),
      description: 'Pipeline bake: read the state of this stage\'s alarms',
      maxSessionDuration: Duration.hours(sessionHours),
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadAlarmStates', actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Read-only: DescribeAlarms returns composite alarms (the platform-degraded alarm the bake watches) only to a permission scoped to * (CloudWatch API Reference, DescribeAlarms).',
    });
  }
}
