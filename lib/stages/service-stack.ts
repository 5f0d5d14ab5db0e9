/**
 * The stateless half of the platform (changes often): order queue and functions, event bus, API, sessions API,
 * health checks, alerting, alarms and dashboard.
 * It receives the data stack's constructs as typed props, never by name.
 */
import { CfnElement, CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { adoptCdkProviders } from '../compliance/cdk-provider-resources';
import { AlarmReaderRole } from '../constructs/alarm-reader-role';
import { Alerting } from '../constructs/alerting';
import { ChaosExperiments } from '../constructs/chaos-experiments';
import { ApiDomain } from '../constructs/api-domain';
import { HEALTH_PATH, HealthChecks } from '../constructs/health-checks';
import { PlatformAlarms } from '../constructs/platform-alarms';
import { PlatformDashboard } from '../constructs/platform-dashboard';
import { SessionService } from '../constructs/session-service';
import { TradingDatabase } from '../constructs/database';
import { Network } from '../constructs/network';
import { API_STAGE_NAME, OrderApi } from '../constructs/order-api';
import { ORDER_PROCESSOR_TIMEOUT, OrderProcessing } from '../constructs/order-processing';
import { OrderQueues } from '../constructs/order-queues';
import { PlatformBuckets } from '../constructs/platform-buckets';
import { PlatformKey } from '../constructs/platform-key';
import { RuntimeParameters } from '../constructs/runtime-parameters';
import { SessionTable } from '../constructs/session-table';
import { TradingEventBus } from '../constructs/trading-event-bus';
import { VerificationRole } from '../constructs/verification-role';
import { PlatformStack, PlatformStackProps } from './platform-stack';
import type { PostDeployChecks } from './trading-platform-stage';

export interface ServiceStackProps extends PlatformStackProps {
  readonly key: PlatformKey;
  readonly network: Network;
  readonly database: TradingDatabase;
  readonly sessions: SessionTable;
  readonly parameters: RuntimeParameters;
  /** The config bucket carries the FIS extension's fault configurations when chaos is enabled. */
  readonly buckets: PlatformBuckets;
  /** @default - no smoke-test role */
  readonly deliveryAccount?: string;
  /** @default - no verification or alarm-reader role */
  readonly postDeployChecks?: PostDeployChecks;
}

export class ServiceStack extends PlatformStack {
  public readonly queues: OrderQueues;
  public readonly eventBus: TradingEventBus;
  public readonly orders: OrderProcessing;
  public readonly api: OrderApi;
  public readonly sessionService: SessionService;
  public readonly alerting: Alerting;
  public readonly health: HealthChecks;
  public readonly alarms: PlatformAlarms;
  public readonly dashboard: PlatformDashboard;
  /** The FIS experiment templates; only where `config.chaos.enabled`. */
  public readonly chaos?: ChaosExperiments;
  public readonly apiUrlOutput: CfnOutput;
  public readonly healthUrlOutput: CfnOutput;
  /** ARN of the role the pipeline's smoke test assumes; only in pipeline-deployed stages. */
  public readonly smokeTestRoleArnOutput?: CfnOutput;
  /** ARN of the role the pipeline's Staging verification assumes; only where `postDeployChecks.verification`. */
  public readonly verificationRoleArnOutput?: CfnOutput;
  /** ARN of the role the pipeline's bake step assumes to read this stage's alarms; only in pipeline-deployed stages. */
  public readonly alarmReaderRoleArnOutput?: CfnOutput;
  /** Id of the Route 53 health check of the API (known only after deploy), for the verification. */
  public readonly healthCheckIdOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const encryptionKey = props.key.key;

    this.queues = new OrderQueues(this, 'OrderQueues', {
      names,
      encryptionKey,
      maxReceiveCount: config.orders.maxReceiveCount,
      consumerTimeout: ORDER_PROCESSOR_TIMEOUT,
    });
    this.eventBus = new TradingEventBus(this, 'EventBus', { names, encryptionKey, logRetention: config.logRetention });
    this.orders = new OrderProcessing(this, 'Orders', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      config: config.orders,
      orderQueryConcurrency: config.database.apiReadConcurrency.orderQuery,
      network: props.network,
      database: props.database,
      parameters: props.parameters,
      queues: this.queues,
      eventBus: this.eventBus,
    });
    this.api = new OrderApi(this, 'Api', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      config: config.api,
      ordersQueue: this.queues,
      orderQuery: this.orders.query.function,
    });

    this.sessionService = new SessionService(this, 'Sessions', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      network: props.network,
      sessions: props.sessions,
      eventBus: this.eventBus,
      api: this.api,
    });
    this.alerting = new Alerting(this, 'Alerting', { names, encryptionKey, alarmEmail: config.alarmEmail });
    this.eventBus.addAlertTopic(this.alerting.topic);
    this.health = new HealthChecks(this, 'Health', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      network: props.network,
      database: props.database,
      sessions: props.sessions,
      parameters: props.parameters,
      queues: this.queues,
      eventBus: this.eventBus,
      alerting: this.alerting,
      api: this.api,
      healthConcurrency: config.database.apiReadConcurrency.health,
    });

    const functions = [
      this.orders.processor,
      this.orders.query,
      this.sessionService.handler,
      this.sessionService.streamConsumer,
      this.health.healthFunction,
      this.health.monitor,
    ].map((fn) => ({ purpose: fn.purpose, function: fn.function, timeout: fn.timeout }));
    const apiName = this.api.api.restApiName;
    const apiStage = this.api.api.deploymentStage.stageName;
    this.alarms = new PlatformAlarms(this, 'Alarms', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      alerting: this.alerting,
      eventBus: this.eventBus,
      databaseConfig: config.database,
      clusterIdentifier: props.database.clusterIdentifier,
      functions,
      apiName,
      apiStage,
      ordersQueue: this.queues.queue,
      deadLetterQueues: [
        { purpose: 'orders-dlq', queue: this.queues.deadLetterQueue },
        { purpose: 'events-dlq', queue: this.eventBus.deadLetterQueue },
        { purpose: 'session-stream-failures', queue: this.sessionService.streamFailureQueue },
        { purpose: 'health-monitor-dlq', queue: this.health.monitorDeadLetterQueue },
        { purpose: 'alerts-dlq', queue: this.alerting.deadLetterQueue },
      ],
      healthCheckId: this.health.healthCheck.attrHealthCheckId,
    });
    this.dashboard = new PlatformDashboard(this, 'Dashboard', {
      names,
      alarms: [this.alarms.degraded, ...this.alarms.alarms],
      functions,
      apiName,
      apiStage,
      ordersQueue: this.queues.queue,
      ordersDeadLetterQueue: this.queues.deadLetterQueue,
      clusterIdentifier: props.database.clusterIdentifier,
      sessionTable: props.sessions.table,
      healthCheckId: this.health.healthCheck.attrHealthCheckId,
    });

    if (config.chaos.enabled) {
      this.chaos = new ChaosExperiments(this, 'Chaos', {
        names,
        encryptionKey,
        logRetention: config.logRetention,
        config: config.chaos,
        network: props.network,
        database: props.database,
        orderProcessor: this.orders.processor,
        faultConfigurationBucketName: props.buckets.configBucketName,
        stopAlarm: this.alarms.degraded,
      });
    }

    if (config.hostedZone) {
      const domain = new ApiDomain(this, 'ApiDomain', {
        hostedZone: config.hostedZone,
        api: this.api.api,
        healthCheckId: this.health.healthCheck.attrHealthCheckId,
      });
      new CfnOutput(this, 'ApiCustomDomain', { value: domain.domainName });
    }

    this.apiUrlOutput = new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the v1 stage' });
    this.healthUrlOutput = new CfnOutput(this, 'HealthUrl', { value: `https://${this.health.apiHost}${HEALTH_PATH}`, description: 'Deep health endpoint (public)' });
    this.healthCheckIdOutput = new CfnOutput(this, 'HealthCheckId', { value: this.health.healthCheck.attrHealthCheckId, description: 'Route 53 health check of the API' });
    new CfnOutput(this, 'OrdersQueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName });
    // Resolved from the account baseline at deploy time: the API's logs depend on this account-level role.
    new CfnOutput(this, 'ApiGatewayCloudWatchRoleArn', { value: this.api.accountCloudWatchRoleArn, description: 'Role of the API Gateway account setting (owned by the account baseline stack)' });

    if (props.deliveryAccount) {
      // The smoke test may place and read orders on this API and do nothing else.
      const smokeTestRole = new iam.Role(this, 'SmokeTestRole', {
        roleName: names.of('role', 'smoke-test'),
        assumedBy: new iam.AccountPrincipal(props.deliveryAccount),
        description: 'Pipeline post-deploy smoke test: signed order round trip only',
        maxSessionDuration: Duration.hours(1),
      });
      smokeTestRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'InvokeOrderRoutes',
          actions: ['execute-api:Invoke'],
          resources: [this.api.api.arnForExecuteApi('POST', '/orders', API_STAGE_NAME), this.api.api.arnForExecuteApi('GET', '/orders/*', API_STAGE_NAME)],
        }),
      );
      Validations.of(smokeTestRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:aws:execute-api:${this.region}:${this.account}:<${this.getLogicalId(this.api.api.node.defaultChild as CfnElement)}>/${API_STAGE_NAME}/GET/orders/*]`,
        reason: 'GET of a single order by id on this API\'s v1 stage: the order id is the path parameter.',
      });
      this.smokeTestRoleArnOutput = new CfnOutput(this, 'SmokeTestRoleArn', { value: smokeTestRole.roleArn });
    }

    const checks = props.postDeployChecks;
    if (checks) {
      if (!props.deliveryAccount) throw new Error(`ServiceStack ${this.stackName}: postDeployChecks needs deliveryAccount, the account allowed to assume the check roles`);
      if (checks.verification) {
        const verification = new VerificationRole(this, 'VerificationRole', {
          names,
          deliveryAccount: props.deliveryAccount,
          api: this.api,
          eventBus: this.eventBus,
          healthCheckId: this.health.healthCheck.attrHealthCheckId,
        });
        this.verificationRoleArnOutput = new CfnOutput(this, 'VerificationRoleArn', { value: verification.role.roleArn });
      }
      const alarmReader = new AlarmReaderRole(this, 'AlarmReaderRole', { names, deliveryAccount: props.deliveryAccount, bakeWindow: checks.bakeWindow });
      this.alarmReaderRoleArnOutput = new CfnOutput(this, 'AlarmReaderRoleArn', { value: alarmReader.role.roleArn });
    }

    adoptCdkProviders(this, config, names, encryptionKey);
  }
}
