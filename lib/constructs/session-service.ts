/**
 * Session state over HTTP: the sessions function behind `/v1/sessions[/{sessionId}]` (optimistic locking,
 * strongly consistent reads) and the stream consumer that puts every session change on the event bus for audit.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { ResourceNames } from '../config';
import { Network } from './network';
import { OrderApi, acknowledgeIamAuthorization } from './order-api';
import { PlatformFunction } from './platform-function';
import { SessionTable } from './session-table';
import { TradingEventBus } from './trading-event-bus';
import { grantSendToQueue } from './grants';

/** Sliding session lifetime: each use pushes expiry this far out. */
export const SESSION_TTL = Duration.hours(1);

export interface SessionServiceProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly network: Network;
  readonly sessions: SessionTable;
  readonly eventBus: TradingEventBus;
  readonly api: OrderApi;
}

/**
 * Default settings: sessions function in the VPC (DynamoDB through the gateway endpoint); stream consumer in the VPC
 * too (EventBridge, SQS and X-Ray through interface endpoints; Lambda reads the stream itself), batches of 100, bisect on error, 5 retries, failed batches to an SQS on-failure destination. The same queue
 * is the consumer's replay queue: a change it cannot publish for good is parked there whole (minus session data),
 * because the on-failure destination itself only ever receives a batch's shard and sequence numbers.
 */
export class SessionService extends Construct {
  public readonly handler: PlatformFunction;
  public readonly streamConsumer: PlatformFunction;
  public readonly streamFailureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SessionServiceProps) {
    super(scope, id);
    const securityGroup = props.network.createClientSecurityGroup(this, 'SecurityGroup', props.names, 'sessions', 'Sessions API: HTTPS to the DynamoDB gateway endpoint and VPC endpoints');
    this.handler = new PlatformFunction(this, 'Handler', {
      names: props.names,
      purpose: 'sessions',
      description: 'Sessions API: create, read (strongly consistent), update with optimistic locking, delete',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup },
      timeout: Duration.seconds(10),
      memorySize: 256,
      environment: {
        SESSION_TABLE_NAME: props.sessions.table.tableName,
        SESSION_TTL_SECONDS: String(SESSION_TTL.toSeconds()),
      },
    });
    props.sessions.grantReadWriteData(this.handler.function);

    const sessionsResource = props.api.v1.addResource('sessions');
    const integration = new apigateway.LambdaIntegration(this.handler.function, { proxy: true });
    const create = sessionsResource.addMethod('POST', integration, { authorizationType: apigateway.AuthorizationType.IAM });
    const session = sessionsResource.addResource('{sessionId}');
    const methods = [create, ...['GET', 'PUT', 'DELETE'].map((verb) =>
      session.addMethod(verb, integration, {
        authorizationType: apigateway.AuthorizationType.IAM,
        requestParameters: { 'method.request.path.sessionId': true },
        requestValidator: props.api.bodyValidator,
      }),
    )];
    for (const method of methods) acknowledgeIamAuthorization(method);

    this.streamFailureQueue = createDeadLetterQueue(this, 'StreamFailureQueue', {
      names: props.names,
      purpose: 'session-stream-failures',
      encryptionKey: props.encryptionKey,
      deadLetterOf: 'the session stream (on-failure destination and the consumer\'s replay queue)',
      handling: 'an operator replays parked records by invoking the consumer with them, and metadata-only records from the consumer\'s ERROR log lines (docs/runbook.md).',
    });
    this.streamConsumer = new PlatformFunction(this, 'StreamConsumer', {
      names: props.names,
      purpose: 'session-stream',
      description: 'Forwards session table changes (without session data) to the platform event bus for the audit trail',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup: props.network.createClientSecurityGroup(this, 'StreamConsumerSecurityGroup', props.names, 'session-stream', 'Session stream consumer: HTTPS to the EventBridge, SQS and X-Ray endpoints') },
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { EVENT_BUS_NAME: props.eventBus.bus.eventBusName, REPLAY_QUEUE_URL: this.streamFailureQueue.queueUrl },
    });
    props.eventBus.grantPutEvents(this.streamConsumer.function);
    props.sessions.grantStreamRead(this.streamConsumer.function);
    // L1 mapping: the L2 event source would also grant wildcard KMS actions and ListStreams on "*".
    const streamArn = props.sessions.table.tableStreamArn;
    if (!streamArn) throw new Error('The session table has no stream');
    // For the event source mapping's on-failure records (sent with the function's role) and the consumer's own replay messages.
    grantSendToQueue(this.streamConsumer.function, this.streamFailureQueue, props.encryptionKey, 'StreamFailures');
    const mapping = new lambda.CfnEventSourceMapping(this, 'StreamMapping', {
      functionName: this.streamConsumer.function.functionName,
      eventSourceArn: streamArn,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 100,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: Duration.days(1).toSeconds(),
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: this.streamFailureQueue.queueArn } },
    });
    mapping.node.addDependency(this.streamConsumer.role);
  }
}
