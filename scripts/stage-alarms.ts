/**
 * The alarms of one deployed stage, read with CloudWatch DescribeAlarms, and the verdict the verification and the
 * bake both give on them: every platform alarm out of ALARM, and the ones the pipeline relies on present.
 */
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/** Which alarms belong to the stage. Names are `alarm-{purpose}-{region}-{suffix}` (lib/config/naming.ts). */
export interface StageAlarmSelector {
  /** DescribeAlarms' AlarmNamePrefix, e.g. `alarm-`. */
  readonly namePrefix: string;
  /** The stage's part of every name, e.g. `-us-east-1-stg`: DescribeAlarms filters by prefix only. */
  readonly nameSuffix: string;
  /** Alarms that must exist, e.g. the composite platform-degraded alarm: a bake that watches nothing proves nothing. */
  readonly requiredNames: readonly string[];
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface StageAlarm {
  readonly name: string;
  readonly kind: 'metric' | 'composite';
  readonly state: AlarmState;
  readonly reason: string;
}

export interface AlarmVerdict {
  readonly healthy: boolean;
  readonly alarms: readonly StageAlarm[];
  readonly firing: readonly StageAlarm[];
  readonly missing: readonly string[];
  /** One line for the build log: how many alarms in which state, and what is wrong. */
  readonly summary: string;
}

/** DescribeAlarms returns at most 100 alarms a page; a stage has about 40, so this bounds a runaway pagination. */
const MAX_PAGES = 20;

/**
 * Every metric and composite alarm of the stage. Composite alarms are returned only when AlarmTypes names them and
 * only to a caller whose DescribeAlarms permission is scoped to * (CloudWatch API Reference, DescribeAlarms).
 */
export async function readStageAlarms(cloudWatch: Pick<CloudWatchClient, 'send'>, selector: StageAlarmSelector): Promise<StageAlarm[]> {
  const alarms: StageAlarm[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: selector.namePrefix, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    for (const alarm of answer.MetricAlarms ?? []) alarms.push(toStageAlarm('metric', alarm.AlarmName, alarm.StateValue, alarm.StateReason));
    for (const alarm of answer.CompositeAlarms ?? []) alarms.push(toStageAlarm('composite', alarm.AlarmName, alarm.StateValue, alarm.StateReason));
    nextToken = answer.NextToken;
    if (!nextToken) return alarms.filter((alarm) => alarm.name.endsWith(selector.nameSuffix));
  }
  throw new Error(`DescribeAlarms returned more than ${MAX_PAGES} pages for prefix ${JSON.stringify(selector.namePrefix)}`);
}

function toStageAlarm(kind: StageAlarm['kind'], name: string | undefined, state: string | undefined, reason: string | undefined): StageAlarm {
  if (name === undefined || (state !== 'OK' && state !== 'ALARM' && state !== 'INSUFFICIENT_DATA')) {
    throw new Error(`DescribeAlarms returned a ${kind} alarm without a name or with an unknown state: ${JSON.stringify({ name, state })}`);
  }
  return { name, kind, state, reason: reason ?? '' };
}

/**
 * Healthy when every required alarm exists and none is in ALARM. INSUFFICIENT_DATA is not a failure: a new stage's
 * alarms start there, and most of the platform's treat missing data as not breaching.
 */
export function judgeAlarms(alarms: readonly StageAlarm[], selector: StageAlarmSelector): AlarmVerdict {
  const names = new Set(alarms.map((alarm) => alarm.name));
  const missing = selector.requiredNames.filter((name) => !names.has(name));
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM');
  const count = (state: AlarmState): number => alarms.filter((alarm) => alarm.state === state).length;
  const parts = [`${alarms.length} alarm(s) *${selector.nameSuffix}: ${count('OK')} OK, ${count('ALARM')} ALARM, ${count('INSUFFICIENT_DATA')} INSUFFICIENT_DATA`];
  if (firing.length > 0) parts.push(`in ALARM: ${firing.map((alarm) => `${alarm.name} (${alarm.reason})`).join('; ')}`);
  if (missing.length > 0) parts.push(`missing: ${missing.join(', ')}`);
  return { healthy: missing.length === 0 && firing.length === 0, alarms, firing, missing, summary: parts.join('; ') };
}
