/**
 * The alarms that page a person, each named by convention and wired to the alert topic (alarm and OK), a composite
 * "platform degraded" alarm over the critical ones, and the forwarding of every alarm state change to the event bus.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DatabaseConfig, ResourceNames } from '../config';
import { Alerting } from './alerting';
import { PLATFORM_METRICS_NAMESPACE } from './health-checks';
import { TradingEventBus } from './trading-event-bus';

/** API latency target from the customer's success criteria. */
export const API_P99_LATENCY_TARGET = Duration.millis(1000);

export interface MonitoredFunction {
  /** Kebab-case purpose used in the alarm names. */
  readonly purpose: string;
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
}

export interface PlatformAlarmsProps {
  readonly names: ResourceNames;
  readonly alerting: Alerting;
  readonly eventBus: TradingEventBus;
  readonly databaseConfig: DatabaseConfig;
  readonly clusterIdentifier: string;
  readonly functions: readonly MonitoredFunction[];
  readonly apiName: string;
  readonly apiStage: string;
  readonly ordersQueue: sqs.IQueue;
  /** Every dead-letter queue of the stage: any message in one is an alarm. */
  readonly deadLetterQueues: readonly { readonly purpose: string; readonly queue: sqs.IQueue }[];
  readonly healthCheckId: string;
}

/** Aurora Serverless v2 max_connections for a given max ACU (2 GiB per ACU; LEAST(memory/9531392, 5000)). */
export function auroraMaxConnections(maxCapacityAcu: number): number {
  return Math.min(Math.floor((maxCapacityAcu * 2 * 1024 ** 3) / 9531392), 5000);
}

/**
 * Default settings: 1-minute periods for the request path, 5-minute for capacity; alarm and OK both notify;
 * the heartbeat treats missing data as breaching (a monitor that stopped running is itself an incident).
 */
export class PlatformAlarms extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly degraded: cloudwatch.CompositeAlarm;
  private readonly props: PlatformAlarmsProps;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    this.props = props;
    const critical: cloudwatch.IAlarm[] = [];
    const rds = (metricName: string, statistic: string, period = Duration.minutes(5)): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: { DBClusterIdentifier: props.clusterIdentifier }, statistic, period });

    // Database
    critical.push(this.alarm('aurora-cpu', 'Aurora CPU above 80% for 15 minutes', rds('CPUUtilization', 'Average'), 80, 3));
    this.alarm('aurora-connections', 'Aurora connections above 80% of max_connections', rds('DatabaseConnections', 'Maximum'), Math.floor(auroraMaxConnections(props.databaseConfig.maxCapacityAcu) * 0.8), 2);
    critical.push(this.alarm('aurora-replica-lag', 'Aurora reader more than 2 s behind the writer', rds('AuroraReplicaLagMaximum', 'Maximum', Duration.minutes(1)), 2000, 3));
    this.alarm('aurora-acu-utilization', 'Aurora at more than 90% of its maximum capacity', rds('ACUUtilization', 'Average'), 90, 3);

    // Functions
    for (const fn of props.functions) {
      const errorRate = new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
        usingMetrics: {
          errors: fn.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
          invocations: fn.function.metricInvocations({ period: Duration.minutes(1), statistic: 'Sum' }),
        },
        period: Duration.minutes(1),
        label: `${fn.purpose} error rate (%)`,
      });
      const errors = this.alarm(`${fn.purpose}-error-rate`, `${fn.purpose}: more than 1% of invocations failed`, errorRate, 1, 3, 2);
      if (fn.purpose === 'order-processor' || fn.purpose === 'health') critical.push(errors);
      this.alarm(`${fn.purpose}-throttles`, `${fn.purpose}: invocations throttled`, fn.function.metricThrottles({ period: Duration.minutes(1), statistic: 'Sum' }), 1, 3, 2);
      this.alarm(`${fn.purpose}-duration-p99`, `${fn.purpose}: p99 duration above 80% of the timeout`, fn.function.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }), Math.floor(fn.timeout.toMilliseconds() * 0.8), 3);
    }

    // API
    const api = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiName: props.apiName, Stage: props.apiStage }, statistic, period: Duration.minutes(1) });
    critical.push(this.alarm('api-5xx-rate', 'API: more than 1% of requests answered 5XX', api('5XXError', 'Average'), 0.01, 3, 2));
    this.alarm('api-4xx-rate', 'API: more than 10% of requests answered 4XX (clients broken or under attack)', api('4XXError', 'Average'), 0.1, 5, 3);
    critical.push(this.alarm('api-latency-p99', `API: p99 latency above ${API_P99_LATENCY_TARGET.toMilliseconds()} ms`, api('Latency', 'p99'), API_P99_LATENCY_TARGET.toMilliseconds(), 5, 3));

    // Orders the processor could not store or announce after its in-invocation retries: returned to SQS as batch
    // item failures, so they never show in the Lambda Errors metric (EMF metric from the processor).
    const ordersFailed = new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'OrdersFailed', dimensionsMap: { service: 'order-processor', Environment: props.names.environmentSuffix }, statistic: 'Sum', period: Duration.minutes(1) });
    critical.push(this.alarm('orders-failed', 'Orders failed processing (retried by SQS; DLQ after maxReceiveCount) for 3 minutes', ordersFailed, 1, 3));

    const sessionEventsFailed = new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'SessionEventsFailed', dimensionsMap: { service: 'session-stream' }, statistic: 'Sum', period: Duration.minutes(5) });
    this.alarm('session-events-failed', 'Session changes could not be put on the event bus (stream retries, then the failure queue)', sessionEventsFailed, 1, 2);

    // Queues
    critical.push(this.alarm('orders-queue-age', 'Orders waiting more than 60 s in the queue', props.ordersQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }), 60, 3));
    for (const dlq of props.deadLetterQueues) {
      const depth = this.alarm(`${dlq.purpose}-depth`, `${dlq.purpose}: at least one message dead-lettered`, dlq.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 1, 1);
      if (dlq.purpose === 'orders-dlq') critical.push(depth);
    }

    // Health
    const healthStatus = new cloudwatch.Metric({ namespace: 'AWS/Route53', metricName: 'HealthCheckStatus', dimensionsMap: { HealthCheckId: props.healthCheckId }, statistic: 'Minimum', period: Duration.minutes(1) });
    critical.push(this.alarm('health-check-status', 'Route 53: /v1/health is failing from the health checkers', healthStatus, 1, 2, 2, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, cloudwatch.TreatMissingData.BREACHING));
    const heartbeat = new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'HealthMonitorHeartbeat', dimensionsMap: { Environment: props.names.environmentSuffix }, statistic: 'Sum', period: Duration.hours(1) });
    critical.push(this.alarm('health-monitor-heartbeat', 'The hourly health monitor did not run for two hours', heartbeat, 1, 2, 2, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, cloudwatch.TreatMissingData.BREACHING));

    this.degraded = new cloudwatch.CompositeAlarm(this, 'PlatformDegraded', {
      compositeAlarmName: props.names.of('alarm', 'platform-degraded'),
      alarmDescription: 'Any critical alarm of the platform is firing; work the child alarm. Runbook: docs/runbook.md#platform-degraded',
      alarmRule: cloudwatch.AlarmRule.anyOf(...critical.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM))),
    });
    this.degraded.addAlarmAction(new actions.SnsAction(props.alerting.topic));
    this.degraded.addOkAction(new actions.SnsAction(props.alerting.topic));

    // Alarm state changes are emitted on the default bus; forward this stage's to the platform bus and audit log.
    const forwardingRole = new iam.Role(this, 'AlarmForwardingRole', {
      roleName: props.names.of('role', 'alarm-forwarding'),
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'EventBridge: forward this stage\'s alarm state changes to the platform bus',
    });
    new events.Rule(this, 'AlarmStateChanges', {
      ruleName: props.names.of('eventRule', 'alarm-state-changes'),
      description: 'State changes of this stage\'s alarms, forwarded to the platform bus for the audit trail',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ suffix: `-${props.names.environmentSuffix}` }] },
      },
      targets: [new targets.EventBus(props.eventBus.bus, { role: forwardingRole, deadLetterQueue: props.eventBus.deadLetterQueue })],
    });
  }

  private alarm(
    purpose: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    evaluationPeriods: number,
    datapointsToAlarm = evaluationPeriods,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `Alarm-${purpose}`, {
      alarmName: this.props.names.of('alarm', purpose),
      alarmDescription: `${description}. Runbook: docs/runbook.md#${purpose}`,
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm,
      comparisonOperator,
      treatMissingData,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.props.alerting.topic));
    alarm.addOkAction(new actions.SnsAction(this.props.alerting.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
