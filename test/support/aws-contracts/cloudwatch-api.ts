/**
 * What CloudWatch answers to DescribeAlarms and GetMetricData, as AWS documents them, for the verification and the
 * bake. The SDK in package.json speaks CloudWatch's AWS JSON 1.0 protocol (X-Amz-Target
 * `GraniteServiceVersion20100801.<Operation>`), so the answers are the documented response elements as JSON, with
 * timestamps as epoch seconds (Smithy, "AWS JSON 1.0 protocol": https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmFixture {
  readonly name: string;
  readonly state: AlarmStateValue;
  readonly kind?: 'metric' | 'composite';
  readonly reason?: string;
}

/**
 * DescribeAlarms' answer (CloudWatch API Reference, DescribeAlarms, Response Elements:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html): MetricAlarms and
 * CompositeAlarms (the latter only when AlarmTypes asks for them), and NextToken while there are more.
 */
export function describeAlarmsAnswer(alarms: readonly AlarmFixture[], nextToken?: string): string {
  const toAlarm = (alarm: AlarmFixture) => ({
    AlarmName: alarm.name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:222222222222:alarm:${alarm.name}`,
    StateValue: alarm.state,
    StateReason: alarm.reason ?? (alarm.state === 'ALARM' ? 'Threshold Crossed: 3 out of the last 3 datapoints were greater than or equal to the threshold (1.0).' : 'Threshold Crossed: no datapoints were breaching.'),
    StateUpdatedTimestamp: 1_795_190_400,
  });
  return JSON.stringify({
    MetricAlarms: alarms.filter((alarm) => (alarm.kind ?? 'metric') === 'metric').map(toAlarm),
    CompositeAlarms: alarms.filter((alarm) => alarm.kind === 'composite').map(toAlarm),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  });
}

/**
 * GetMetricData's answer (CloudWatch API Reference, GetMetricData, Response Elements:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html): one MetricDataResult per
 * query Id with Timestamps and Values. A metric EventBridge did not send (it sends FailedInvocations and Invocations
 * only when they are not zero) comes back with no values, not with a zero.
 */
export function getMetricDataAnswer(valuesById: Readonly<Record<string, readonly number[]>>, ids: readonly string[]): string {
  return JSON.stringify({
    MetricDataResults: ids.map((id) => {
      const values = valuesById[id] ?? [];
      return { Id: id, Label: id, Timestamps: values.map((_, index) => 1_795_190_400 + index * 60), Values: values, StatusCode: 'Complete' };
    }),
    Messages: [],
  });
}
