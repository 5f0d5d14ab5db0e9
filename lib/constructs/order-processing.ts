/**
 * The order functions: the processor (SQS FIFO event source, writes to the Aurora writer, publishes events) and
 * the query function (reads the Aurora reader), both in the isolated subnets with their own security groups.
 */
import { Duration, Names, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { POOL_MAX } from '../config/connection-budget';
import { DEFAULT_REDELIVERY } from '../../lambda/order-processor/redelivery-schedule';
import { Construct } from 'constructs';
import { OrdersConfig, ResourceNames } from '../config';
import { TradingDatabase } from './database';
import { Network } from './network';
import { OrderQueues } from './order-queues';
import { PlatformFunction } from './platform-function';
import { RuntimeParameters } from './runtime-parameters';
import { TradingEventBus } from './trading-event-bus';

/** Processor timeout: a batch of 10 with retries and backoff fits well inside. */
export const ORDER_PROCESSOR_TIMEOUT = Duration.seconds(30);

export interface OrderProcessingProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly config: OrdersConfig;
  /** Reserved concurrency of the order query function: caps its reader connections. */
  readonly orderQueryConcurrency: number;
  readonly network: Network;
  readonly database: TradingDatabase;
  readonly parameters: RuntimeParameters;
  readonly queues: OrderQueues;
  readonly eventBus: TradingEventBus;
}

/**
 * Default settings: processor batch size 10 (the FIFO maximum) with ReportBatchItemFailures and maxConcurrency from
 * config; parameters cached 30 s; query function 10 s timeout.
 */
export class OrderProcessing extends Construct {
  public readonly processor: PlatformFunction;
  public readonly query: PlatformFunction;

  constructor(scope: Construct, id: string, props: OrderProcessingProps) {
    super(scope, id);
    const processorSecurityGroup = props.network.createClientSecurityGroup(this, 'ProcessorSecurityGroup', props.names, 'order-processor', 'Order processor: PostgreSQL to Aurora, HTTPS to VPC endpoints');
    props.database.allowConnectionsFrom(processorSecurityGroup, 'the order processor');
    this.processor = new PlatformFunction(this, 'Processor', {
      names: props.names,
      purpose: 'order-processor',
      description: 'Validates, risk-checks and stores queued orders exactly once in effect; publishes order events',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup: processorSecurityGroup },
      timeout: ORDER_PROCESSOR_TIMEOUT,
      memorySize: 512,
      environment: {
        ...props.database.connectionEnvironment('writer'),
        EVENT_BUS_NAME: props.eventBus.bus.eventBusName,
        TRADING_ENABLED_PARAMETER: props.parameters.names.tradingEnabled,
        MAX_ORDER_NOTIONAL_PARAMETER: props.parameters.names.maxOrderNotional,
        LARGE_NOTIONAL_THRESHOLD: props.config.largeNotionalThreshold,
        PARAMETER_CACHE_SECONDS: '30',
        DB_POOL_MAX: String(POOL_MAX.orderProcessor),
        // Failed records get a short, growing visibility instead of the queue's 180 s (lambda/order-processor/redelivery.ts).
        ORDERS_QUEUE_URL: props.queues.queue.queueUrl,
        REDELIVERY_BASE_SECONDS: String(DEFAULT_REDELIVERY.baseSeconds),
        REDELIVERY_MAX_SECONDS: String(DEFAULT_REDELIVERY.maxSeconds),
      },
    });
    props.database.grantCredentialsRead(this.processor.function);
    props.parameters.grantRead(this.processor.function);
    props.eventBus.grantPutEvents(this.processor.function);
    const eventSource = new lambdaEventSources.SqsEventSource(props.queues.queue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      // Bounds open database connections: concurrency x pool size stays far below Aurora's max_connections.
      maxConcurrency: props.config.processorMaxConcurrency,
    });
    this.processor.function.addEventSource(eventSource);
    Validations.of(this.processor.function.node.findChild(`SqsEventSource:${Names.nodeUniqueId(props.queues.queue.node)}`)).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: 'SQS event source mappings do not support on-failure destinations; failed orders go to the FIFO dead-letter queue through the queue redrive policy after maxReceiveCount.',
    });

    const querySecurityGroup = props.network.createClientSecurityGroup(this, 'QuerySecurityGroup', props.names, 'order-query', 'Order query: PostgreSQL to Aurora reader, HTTPS to VPC endpoints');
    props.database.allowConnectionsFrom(querySecurityGroup, 'the order query function');
    this.query = new PlatformFunction(this, 'Query', {
      names: props.names,
      purpose: 'order-query',
      description: 'GET /v1/orders/{orderId}: reads an order from the Aurora reader endpoint',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup: querySecurityGroup },
      timeout: Duration.seconds(10),
      memorySize: 256,
      // Each container holds one reader connection: the cap is the connection cap (lib/config/connection-budget.ts).
      reservedConcurrentExecutions: props.orderQueryConcurrency,
      environment: { ...props.database.connectionEnvironment('reader'), DB_POOL_MAX: String(POOL_MAX.orderQuery) },
    });
    props.database.grantCredentialsRead(this.query.function);
  }
}
