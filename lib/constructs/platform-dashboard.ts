/**
 * One CloudWatch dashboard per stage: API, functions, queues, database, sessions and health on one page, with the
 * alarm status of every alarm at the top so an operator sees what is firing before reading graphs.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { PLATFORM_METRICS_NAMESPACE } from './health-checks';
import { API_P99_LATENCY_TARGET, MonitoredFunction } from './platform-alarms';

export interface PlatformDashboardProps {
  readonly names: ResourceNames;
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly functions: readonly MonitoredFunction[];
  readonly apiName: string;
  readonly apiStage: string;
  readonly ordersQueue: sqs.IQueue;
  readonly ordersDeadLetterQueue: sqs.IQueue;
  readonly clusterIdentifier: string;
  readonly sessionTable: dynamodb.ITable;
  readonly healthCheckId: string;
}

/** Default settings: 3-hour default range, 1-minute graphs, p99 latency with the 1000 ms target drawn in. */
export class PlatformDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    const minute = Duration.minutes(1);
    const api = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiName: props.apiName, Stage: props.apiStage }, statistic, period: minute, label });
    const rds = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: { DBClusterIdentifier: props.clusterIdentifier }, statistic, period: minute, label });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.names.of('dashboard', 'platform'),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }));
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '## API', width: 24, height: 1 }),
    );
    this.dashboard.addWidgets(
      graph('Requests', [api('Count', 'Sum', 'requests')]),
      graph('Error rate', [api('4XXError', 'Average', '4XX'), api('5XXError', 'Average', '5XX')]),
      graph('Latency', [api('Latency', 'p50', 'p50'), api('Latency', 'p99', 'p99'), api('IntegrationLatency', 'p99', 'integration p99')], {
        leftAnnotations: [{ value: API_P99_LATENCY_TARGET.toMilliseconds(), label: 'p99 target', color: cloudwatch.Color.RED }],
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Functions', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      graph('Invocations', props.functions.map((fn) => fn.function.metricInvocations({ period: minute, label: fn.purpose }))),
      graph('Errors', props.functions.map((fn) => fn.function.metricErrors({ period: minute, label: fn.purpose }))),
      graph('Duration p99', props.functions.map((fn) => fn.function.metricDuration({ period: minute, statistic: 'p99', label: fn.purpose }))),
    );
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Orders queue', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      graph('Backlog', [props.ordersQueue.metricApproximateNumberOfMessagesVisible({ period: minute, label: 'visible' }), props.ordersQueue.metricApproximateNumberOfMessagesNotVisible({ period: minute, label: 'in flight' })]),
      graph('Age of oldest order (s)', [props.ordersQueue.metricApproximateAgeOfOldestMessage({ period: minute, label: 'age' })]),
      graph('Dead-lettered orders', [props.ordersDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, label: 'DLQ depth' })]),
    );
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Database', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      graph('CPU and capacity', [rds('CPUUtilization', 'Average', 'CPU %'), rds('ACUUtilization', 'Average', 'ACU %')]),
      graph('Connections', [rds('DatabaseConnections', 'Maximum', 'connections')]),
      graph('Replica lag (ms)', [rds('AuroraReplicaLagMaximum', 'Maximum', 'max replica lag')]),
    );
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Sessions and health', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      graph('Session table', [
        props.sessionTable.metricConsumedReadCapacityUnits({ period: minute, label: 'RCU' }),
        props.sessionTable.metricConsumedWriteCapacityUnits({ period: minute, label: 'WCU' }),
        props.sessionTable.metricSystemErrorsForOperations({ period: minute, label: 'system errors' }),
      ]),
      graph('Route 53 health check', [
        new cloudwatch.Metric({ namespace: 'AWS/Route53', metricName: 'HealthCheckStatus', dimensionsMap: { HealthCheckId: props.healthCheckId }, statistic: 'Minimum', period: minute, label: 'status (1 = healthy)' }),
        new cloudwatch.Metric({ namespace: 'AWS/Route53', metricName: 'HealthCheckPercentageHealthy', dimensionsMap: { HealthCheckId: props.healthCheckId }, statistic: 'Average', period: minute, label: '% checkers healthy' }),
      ]),
      graph('Health monitor', [
        new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'HealthMonitorHeartbeat', dimensionsMap: { Environment: props.names.environmentSuffix }, statistic: 'Sum', period: Duration.hours(1), label: 'runs per hour' }),
        new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'HealthEndpointLatency', dimensionsMap: { Environment: props.names.environmentSuffix }, statistic: 'Maximum', period: Duration.hours(1), label: '/v1/health latency (ms)' }),
      ]),
    );
  }
}
