/**
 * The stateless half of the platform (changes often): the order queue and functions, the event bus and the API.
 * It receives the data stack's constructs as typed props, never by name.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { adoptCdkProviders } from '../compliance/cdk-provider-resources';
import { TradingDatabase } from '../constructs/database';
import { Network } from '../constructs/network';
import { OrderApi } from '../constructs/order-api';
import { ORDER_PROCESSOR_TIMEOUT, OrderProcessing } from '../constructs/order-processing';
import { OrderQueues } from '../constructs/order-queues';
import { PlatformKey } from '../constructs/platform-key';
import { RuntimeParameters } from '../constructs/runtime-parameters';
import { SessionTable } from '../constructs/session-table';
import { TradingEventBus } from '../constructs/trading-event-bus';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ServiceStackProps extends PlatformStackProps {
  readonly key: PlatformKey;
  readonly network: Network;
  readonly database: TradingDatabase;
  readonly sessions: SessionTable;
  readonly parameters: RuntimeParameters;
}

export class ServiceStack extends PlatformStack {
  public readonly queues: OrderQueues;
  public readonly eventBus: TradingEventBus;
  public readonly orders: OrderProcessing;
  public readonly api: OrderApi;
  public readonly apiUrlOutput: CfnOutput;

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

    this.apiUrlOutput = new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the v1 stage' });
    new CfnOutput(this, 'OrdersQueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName });

    adoptCdkProviders(this, config, names, encryptionKey);
  }
}
