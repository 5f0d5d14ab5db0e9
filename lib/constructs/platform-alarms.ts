/**
 * The alarms that page a person, each named by convention and wired to the alert topic (alarm and OK), a composite
 * "platform degraded" alarm over the critical ones, and the forwarding of every alarm state change to the event bus.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
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
  /** Encrypts the log group of the deploy-time heartbeat seed. */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
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

/** Metric the health monitor publishes once per run (lambda/health-monitor/report.ts), Sum per hour. */
export const HEARTBEAT_METRIC_NAME = 'HealthMonitorHeartbeat';
/** The monitor runs hourly; the heartbeat alarm fires after this many consecutive hourly periods without a run. */
export const HEARTBEAT_MISSED_PERIODS = 2;

/** Construct id aws-cdk-lib gives the singleton function of AwsCustomResource (aws-custom-resource.ts, PROVIDER_FUNCTION_UUID). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

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
  /** The one heartbeat datapoint published when the stack is created (see seedHeartbeat). */
  public readonly heartbeatSeed: cr.AwsCustomResource;
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
    // One account stuck behind a failing record: its records come back every few seconds (redelivery schedule), so
    // by the 4th receive (about 30 s of failing) the batch's highest receive count shows it, however few records
    // fail per minute. A sum of failures over several periods does not see a single stuck message group.
    const stuckAccount = new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: 'FailedRecordMaxReceiveCount', dimensionsMap: { service: 'order-processor', Environment: props.names.environmentSuffix }, statistic: 'Maximum', period: Duration.minutes(1) });
    critical.push(this.alarm('orders-stuck-account', 'A failing order record has been received 4 times: its account\'s orders are held behind it', stuckAccount, 4, 1));

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
    const heartbeat = new cloudwatch.Metric({ namespace: PLATFORM_METRICS_NAMESPACE, metricName: HEARTBEAT_METRIC_NAME, dimensionsMap: { Environment: props.names.environmentSuffix }, statistic: 'Sum', period: Duration.hours(1) });
    const heartbeatAlarm = this.alarm('health-monitor-heartbeat', 'The hourly health monitor did not run for two hours', heartbeat, 1, HEARTBEAT_MISSED_PERIODS, HEARTBEAT_MISSED_PERIODS, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, cloudwatch.TreatMissingData.BREACHING);
    critical.push(heartbeatAlarm);
    this.heartbeatSeed = this.seedHeartbeat(heartbeatAlarm);

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

  /**
   * A new stack's heartbeat alarm would page at once: missing data is breaching, and every hourly period before the
   * monitor's first run is missing (the first scheduled run is up to an hour after the schedule exists). No choice of
   * M out of N avoids that, since at creation all N periods are empty. So the stack publishes one heartbeat datapoint
   * when it is created, and the alarm is created after it: the current period holds a datapoint, the first scheduled
   * run comes within the next hour, and two consecutive empty hours - the alarm's condition - can only follow a monitor
   * that stopped. Only on create: on later deploys the real heartbeat is there, and a seed would hide a broken monitor
   * for an hour. Not by running the monitor: its Route 53 check fails while the new health check has no observations,
   * so a deploy-time run would alert instead of the heartbeat.
   */
  private seedHeartbeat(heartbeatAlarm: cloudwatch.Alarm): cr.AwsCustomResource {
    const purpose = 'heartbeat-seed';
    const logGroup = new logs.LogGroup(this, 'HeartbeatSeedLogGroup', {
      logGroupName: this.props.names.logGroup('lambda', purpose),
      retention: this.props.logRetention,
      encryptionKey: this.props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'HeartbeatSeedRole', {
      roleName: this.props.names.of('role', purpose),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deploy time: publish the first health-monitor heartbeat of a new stack',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOwnLogGroup', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishHeartbeat',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the condition pins the namespace.
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': PLATFORM_METRICS_NAMESPACE } },
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData (limited to the platform namespace by condition) and the X-Ray trace actions have no resource-level permissions.',
    });
    const seed = new cr.AwsCustomResource(this, 'HeartbeatSeed', {
      resourceType: 'Custom::HeartbeatSeed',
      functionName: this.props.names.of('lambda', purpose),
      role,
      logGroup,
      installLatestAwsSdk: false,
      memorySize: 256,
      timeout: Duration.minutes(1),
      onCreate: {
        service: 'CloudWatch',
        action: 'putMetricData',
        parameters: {
          Namespace: PLATFORM_METRICS_NAMESPACE,
          MetricData: [{ MetricName: HEARTBEAT_METRIC_NAME, Dimensions: [{ Name: 'Environment', Value: this.props.names.environmentSuffix }], Value: 1, Unit: 'Count' }],
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${HEARTBEAT_METRIC_NAME}-seed-${this.props.names.environmentSuffix}`),
      },
    });
    heartbeatAlarm.node.addDependency(seed);

    // aws-cdk-lib's singleton function behind every AwsCustomResource of the stack: traced like every other function.
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    const providerFunction = provider?.node.defaultChild;
    if (!(provider instanceof lambda.Function) || !(providerFunction instanceof lambda.CfnFunction)) {
      throw new Error(`aws-cdk-lib changed the layout of AwsCustomResource: expected a lambda.Function ${AWS_CUSTOM_RESOURCE_PROVIDER_ID} in the stack`);
    }
    providerFunction.tracingConfig = { mode: 'Active' };
    Validations.of(provider).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by CloudFormation through the custom-resource framework; a failure fails the deployment, so a Lambda DLQ would never receive anything.',
    });
    return seed;
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
