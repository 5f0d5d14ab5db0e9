/**
 * Everything that tells whether the platform is up: the deep `GET /v1/health` endpoint, the Route 53 HTTPS health
 * check on it (30 s, threshold 3, string match), and the hourly health monitor run by EventBridge Scheduler.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { POOL_MAX } from '../config/connection-budget';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { ResourceNames } from '../config';
import { Alerting } from './alerting';
import { TradingDatabase } from './database';
import { Network } from './network';
import { API_STAGE_NAME, OrderApi } from './order-api';
import { OrderQueues } from './order-queues';
import { PlatformFunction } from './platform-function';
import { RuntimeParameters } from './runtime-parameters';
import { SessionTable } from './session-table';
import { TradingEventBus } from './trading-event-bus';
import { grantInvokeFunction, grantKeyUseVia, grantSendToQueue } from './grants';

/** The substring Route 53 looks for in the first 5,120 bytes of a healthy answer. */
export const HEALTHY_BODY_MATCH = '"status":"ok"';
/** Path of the deep health endpoint below the API host. */
export const HEALTH_PATH = `/${API_STAGE_NAME}/health`;
/** Namespace of the platform's own metrics (EMF from functions, PutMetricData from the monitor). */
export const PLATFORM_METRICS_NAMESPACE = 'TradingPlatform';

export interface HealthChecksProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly network: Network;
  readonly database: TradingDatabase;
  readonly sessions: SessionTable;
  readonly parameters: RuntimeParameters;
  readonly queues: OrderQueues;
  readonly eventBus: TradingEventBus;
  readonly alerting: Alerting;
  readonly api: OrderApi;
  /** Reserved concurrency of the deep health function: caps the Aurora connections a flood of it can hold. */
  readonly healthConcurrency: number;
}

/**
 * Default settings: health verdict cached 5 s per container, 2 s per dependency; Route 53 HTTPS_STR_MATCH every 30 s,
 * failure threshold 3, from every checker region; monitor `rate(1 hour)`, 2 retries, DLQ.
 */
export class HealthChecks extends Construct {
  public readonly healthFunction: PlatformFunction;
  public readonly healthCheck: route53.CfnHealthCheck;
  public readonly monitor: PlatformFunction;
  public readonly monitorDeadLetterQueue: sqs.Queue;
  public readonly schedule: scheduler.CfnSchedule;
  /** Host name the health check (and a DNS alias, when configured) targets. */
  public readonly apiHost: string;

  constructor(scope: Construct, id: string, props: HealthChecksProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const securityGroup = props.network.createClientSecurityGroup(this, 'SecurityGroup', props.names, 'health', 'Deep health check: PostgreSQL to Aurora, HTTPS to VPC endpoints');
    props.database.allowConnectionsFrom(securityGroup, 'the deep health check');
    this.healthFunction = new PlatformFunction(this, 'Health', {
      names: props.names,
      purpose: 'health',
      description: 'GET /v1/health: checks Aurora writer and reader, the session table and runtime config',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup },
      timeout: Duration.seconds(10),
      memorySize: 256,
      // The endpoint is public: without a cap, every concurrent request is a container holding a writer and a
      // reader connection (101 containers held 199). Requests beyond it are throttled, never the processor.
      reservedConcurrentExecutions: props.healthConcurrency,
      environment: {
        ...props.database.connectionEnvironment('writer'),
        DB_READER_HOST: props.database.cluster.clusterReadEndpoint.hostname,
        DB_POOL_MAX: String(POOL_MAX.healthPerEndpoint),
        SESSION_TABLE_NAME: props.sessions.table.tableName,
        TRADING_ENABLED_PARAMETER: props.parameters.names.tradingEnabled,
        MAX_ORDER_NOTIONAL_PARAMETER: props.parameters.names.maxOrderNotional,
        HEALTH_CACHE_SECONDS: '5',
        // Route 53 expects the answer within about 2 s of connecting; checks run in parallel, so 1.5 s bounds the whole.
        HEALTH_CHECK_TIMEOUT_MS: '1500',
      },
    });
    props.database.grantCredentialsRead(this.healthFunction.function);
    props.parameters.grantRead(this.healthFunction.function);
    props.sessions.grantHealthProbe(this.healthFunction.function);

    const healthMethod = props.api.v1.addResource('health').addMethod('GET', new apigateway.LambdaIntegration(this.healthFunction.function, { proxy: true }), {
      authorizationType: apigateway.AuthorizationType.NONE,
    });
    Validations.of(healthMethod).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: 'The health endpoint is public by design: Route 53 health checkers and the pipeline gate call it unsigned. It returns only ok/fail per dependency, is cached for 5 s, and is behind WAF rate limiting.' },
      { id: 'AwsSolutions-COG4', reason: 'Public health endpoint (see APIG4): no caller identity is needed or wanted.' },
    );

    this.apiHost = `${props.api.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.healthCheck = new route53.CfnHealthCheck(this, 'HealthCheck', {
      healthCheckConfig: {
        type: 'HTTPS_STR_MATCH',
        fullyQualifiedDomainName: this.apiHost,
        port: 443,
        resourcePath: HEALTH_PATH,
        searchString: HEALTHY_BODY_MATCH,
        requestInterval: 30,
        failureThreshold: 3,
        enableSni: true,
        measureLatency: true,
      },
      healthCheckTags: [
        { key: 'Name', value: props.names.of('healthCheck', 'api') },
        { key: 'EnvironmentSuffix', value: props.names.environmentSuffix },
      ],
    });

    // The monitor is invoked asynchronously by Scheduler: what still fails after Lambda's retries lands here.
    this.monitorDeadLetterQueue = createDeadLetterQueue(this, 'MonitorDeadLetterQueue', {
      names: props.names,
      purpose: 'health-monitor-dlq',
      encryptionKey: props.encryptionKey,
      deadLetterOf: 'the health monitor and its schedule',
      handling: 'a failed run is investigated, not replayed (the next run is an hour later).',
    });
    this.monitor = new PlatformFunction(this, 'Monitor', {
      names: props.names,
      purpose: 'health-monitor',
      description: 'Hourly: calls /v1/health, reads Route 53 status, DLQ depth and table status; publishes metrics; alerts',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      // Outside the VPC: it must reach the public API endpoint and the Route 53 API, which no VPC endpoint offers.
      timeout: Duration.seconds(60),
      memorySize: 256,
      asyncDeadLetterQueue: this.monitorDeadLetterQueue,
      environment: {
        HEALTH_URL: `https://${this.apiHost}${HEALTH_PATH}`,
        HEALTH_CHECK_ID: this.healthCheck.attrHealthCheckId,
        ORDERS_DLQ_URL: props.queues.deadLetterQueue.queueUrl,
        SESSION_TABLE_NAME: props.sessions.table.tableName,
        ALERT_TOPIC_ARN: props.alerting.topic.topicArn,
        EVENT_BUS_NAME: props.eventBus.bus.eventBusName,
        METRICS_NAMESPACE: PLATFORM_METRICS_NAMESPACE,
        HTTP_TIMEOUT_MS: '5000',
      },
    });
    // No Lambda-level retries: a failed run has already alerted once, and the next run is an hour away.
    // The failure destination is the same DLQ; its sqs:SendMessage and KMS grants are added explicitly below.
    const deadLetterQueueArn = this.monitorDeadLetterQueue.queueArn;
    this.monitor.function.configureAsyncInvoke({ retryAttempts: 0, onFailure: { bind: () => ({ destination: deadLetterQueueArn }) } });
    const monitorRole = this.monitor.function;
    monitorRole.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadHealthCheckStatus',
        actions: ['route53:GetHealthCheckStatus'],
        resources: [`arn:${stack.partition}:route53:::healthcheck/${this.healthCheck.attrHealthCheckId}`],
      }),
    );
    monitorRole.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadDlqDepth', actions: ['sqs:GetQueueAttributes'], resources: [props.queues.deadLetterQueue.queueArn] }),
    );
    monitorRole.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishPlatformMetrics',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the condition pins the namespace.
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': PLATFORM_METRICS_NAMESPACE } },
      }),
    );
    props.sessions.grantDescribe(monitorRole);
    props.alerting.grantPublish(monitorRole);
    props.eventBus.grantPutEvents(monitorRole);

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      roleName: props.names.of('role', 'health-monitor-schedule'),
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'EventBridge Scheduler: invoke the health monitor, dead-letter failed invocations',
    });
    grantInvokeFunction(schedulerRole, this.monitor.function, 'InvokeHealthMonitor');
    grantSendToQueue(schedulerRole, this.monitorDeadLetterQueue, props.encryptionKey, 'DeadLetterScheduleRuns');
    // Lambda sends failed asynchronous invocations to the encrypted DLQ with the function's own role.
    grantKeyUseVia(monitorRole, props.encryptionKey, 'sqs', 'DeadLetterMonitorRunsKms');
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name: props.names.of('schedule', 'health-monitor'),
      description: 'Hourly deep health validation of the trading platform',
      scheduleExpression: 'rate(1 hour)',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.monitor.function.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 900 },
        deadLetterConfig: { arn: this.monitorDeadLetterQueue.queueArn },
      },
    });
  }
}
