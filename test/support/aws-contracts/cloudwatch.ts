/**
 * How a CloudWatch metric alarm turns datapoints into a state, as far as the platform's alarms rely on it:
 * - the alarm evaluates a window of Period x EvaluationPeriods; without an EvaluationWindow setting it is a sliding
 *   window that "advances each time the alarm is evaluated, forming a rolling time window"
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation-window.html,
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_EvaluationWindow.html);
 * - a period without a datapoint is missing, and with TreatMissingData=breaching "missing data points are treated as
 *   'bad' and breaching the threshold" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html);
 * - DatapointsToAlarm breaching periods out of EvaluationPeriods put the alarm in ALARM ("M out of N").
 */

export interface MetricAlarmModel {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** ALARM when the period's Sum is below this (ComparisonOperator LessThanThreshold). */
  readonly threshold: number;
  readonly treatMissingData: 'breaching' | 'notBreaching';
}

/**
 * True when the alarm is in ALARM when evaluated at `atSeconds`, given the timestamps (seconds) of datapoints of value
 * 1 (a heartbeat). The sliding window ends at the evaluation; its periods are counted back from there.
 */
export function isInAlarm(alarm: MetricAlarmModel, datapointTimes: readonly number[], atSeconds: number): boolean {
  const period = alarm.periodSeconds;
  let breaching = 0;
  for (let index = 0; index < alarm.evaluationPeriods; index += 1) {
    const periodEnd = atSeconds - index * period;
    const sum = datapointTimes.filter((time) => time <= atSeconds && time > periodEnd - period && time <= periodEnd).length;
    const missing = sum === 0;
    if (missing ? alarm.treatMissingData === 'breaching' : sum < alarm.threshold) breaching += 1;
  }
  return breaching >= alarm.datapointsToAlarm;
}
