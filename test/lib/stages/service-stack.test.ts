/**
 * Fine-grained assertions on the service stack (order flow) of one synthesized stage (suffix `test`).
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { orderRequestJsonSchema } from '../../../lambda/shared/order-schema';
import { synthesizeStage } from '../../support/cdk-app';

let service: Template;

beforeAll(() => {
  const stage = synthesizeStage();
  service = Template.fromStack(stage.stage.serviceStack);
});

describe('order queues', () => {
  it('is a KMS-encrypted FIFO queue de-duplicated by the API, never by content', () => {
    service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'sqs-orders-us-east-1-test.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      KmsMasterKeyId: Match.anyValue(),
      // Six times the processor's 30 s timeout.
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 8 },
    });
  });

  it('dead-letters into a FIFO DLQ kept for the SQS maximum of 14 days', () => {
    service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'sqs-orders-dlq-us-east-1-test.fifo',
      FifoQueue: true,
      MessageRetentionPeriod: 1209600,
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('lets only the orders queue use the DLQ as its dead-letter queue (redrive allow policy byQueue, CT.SQS.PR.1)', () => {
    service.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'sqs-orders-dlq-us-east-1-test.fifo',
      RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: ['arn:aws:sqs:us-east-1:444444444444:sqs-orders-us-east-1-test.fifo'] },
    });
  });

  it('refuses every request without TLS', () => {
    const policies = Object.values(service.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(3);
    for (const policy of policies) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('order processor', () => {
  it('consumes the FIFO queue in batches of 10 with partial batch failures and bounded concurrency', () => {
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrderQueuesQueue'), 'Arn'] },
    });
  });

  it('runs in the VPC against the writer with the risk parameters, bus and notional threshold', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-order-processor-us-east-1-test',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 30,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: {
        Variables: Match.objectLike({
          DB_HOST: { 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp('EndpointAddress') }) },
          DB_PORT: '5532',
          EVENT_BUS_NAME: Match.anyValue(),
          TRADING_ENABLED_PARAMETER: '/trading/test/orders/trading-enabled',
          MAX_ORDER_NOTIONAL_PARAMETER: '/trading/test/orders/max-order-notional',
          LARGE_NOTIONAL_THRESHOLD: '25000.00',
        }),
      },
    });
  });

  it('may read exactly the two runtime parameters and put events on the platform bus', () => {
    const policies = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('OrdersProcessorRole') }] } }));
    const document = JSON.stringify(policies.map((policy) => policy.Properties.PolicyDocument));
    expect(document).toContain('"Action":["ssm:GetParameter","ssm:GetParameters"]');
    expect(document).toContain('parameter/trading/test/orders/trading-enabled');
    expect(document).toContain('parameter/trading/test/orders/max-order-notional');
    expect(document).toContain('events:PutEvents');
    expect(document).toContain('MasterUserSecretSecretArn');
    expect(document).not.toMatch(/"Action":"\*"|"[a-z0-9-]+:\*"/);
  });
});

describe('order processor retries', () => {
  it('gets the queue URL and redelivery schedule, and may change the visibility of its messages', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-order-processor-us-east-1-test',
      Environment: {
        Variables: Match.objectLike({
          ORDERS_QUEUE_URL: { Ref: Match.stringLikeRegexp('OrderQueuesQueue') },
          REDELIVERY_BASE_SECONDS: '5',
          REDELIVERY_MAX_SECONDS: '300',
          DB_POOL_MAX: '2',
        }),
      },
    });
    const policies = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('OrdersProcessorRole') }] } }));
    expect(JSON.stringify(policies.map((policy) => policy.Properties.PolicyDocument))).toContain('sqs:ChangeMessageVisibility');
  });

  it('pages when one account is stuck behind a failing record', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'alarm-orders-stuck-account-us-east-1-test',
      MetricName: 'FailedRecordMaxReceiveCount',
      Namespace: 'TradingPlatform',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 4,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: Match.arrayWith([Match.objectLike({ Name: 'service', Value: 'order-processor' })]),
    });
  });
});

describe('connection caps', () => {
  it.each([
    ['lambda-order-query-us-east-1-test', 2, '1'],
    ['lambda-health-us-east-1-test', 2, '1'],
  ])('%s has reserved concurrency %d and a pool of %s', (name, reserved, poolMax) => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: name,
      ReservedConcurrentExecutions: reserved,
      Environment: { Variables: Match.objectLike({ DB_POOL_MAX: poolMax }) },
    });
  });
});

describe('order query', () => {
  it('reads from the Aurora reader endpoint', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-order-query-us-east-1-test',
      Environment: { Variables: Match.objectLike({ DB_HOST: { 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp('ReadEndpointAddress') }) } }) },
    });
  });
});

describe('REST API', () => {
  it('is regional and deployed as stage v1 with tracing, JSON access logs, metrics and no body logging', () => {
    service.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'apigw-trading-us-east-1-test',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    service.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'INFO', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ],
    });
  });

  it('POST /v1/orders is IAM-authorized, validated by the shared schema and sent straight to SQS', () => {
    service.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'OrderRequest',
      ContentType: 'application/json',
      Schema: orderRequestJsonSchema(),
    });
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'AWS_IAM',
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
      Integration: Match.objectLike({
        Type: 'AWS',
        Uri: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp(':sqs:path/444444444444/')])]) }),
        RequestTemplates: {
          'application/json': Match.stringLikeRegexp("MessageGroupId=\\$util.urlEncode\\(\\$input.path\\('\\$.accountId'\\)\\)&MessageDeduplicationId=\\$util.urlEncode\\(\\$input.path\\('\\$.clientOrderId'\\)\\)"),
        },
        IntegrationResponses: Match.arrayWith([Match.objectLike({ StatusCode: '202' })]),
      }),
    });
    service.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });

  it('answers a rejected body with a JSON 400 that points to the logged validation detail (test/lib/constructs/order-api.test.ts)', () => {
    service.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"extendedRequestId":"\\$context.extendedRequestId"') },
    });
  });

  it('GET /v1/orders/{orderId} is IAM-authorized and proxied to the query function', () => {
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.orderId': true },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
  });

  it('lets the integration role send to the orders queue only', () => {
    const [policy] = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('ApiSubmitOrderRole') }] } }));
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [expect.stringMatching(/OrderQueuesQueue/), 'Arn'] } }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'kms:ViaService': 'sqs.us-east-1.amazonaws.com' } } }),
    ]);
  });

  it('is protected by a WAF web ACL with AWS managed rules and a per-IP rate limit', () => {
    service.hasResourceProperties('AWS::WAFv2::WebACL', {
      Name: 'waf-api-us-east-1-test',
      Scope: 'REGIONAL',
      Rules: [
        Match.objectLike({ Name: 'order-body-size', Priority: 0 }),
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } } }),
        Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet' }),
        Match.objectLike({ Name: 'per-ip-rate-limit', Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'rate-limited' } } }, Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' } } }),
      ],
    });
    service.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('owns its execution log group, so a destroy leaves nothing behind', () => {
    service.hasResource('AWS::Logs::LogGroup', {
      Properties: Match.objectLike({ LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: Match.anyValue() }, '/v1']] } }),
      DeletionPolicy: 'Delete',
    });
  });
});

describe('event bus', () => {
  it('is a KMS-encrypted custom bus with an archive of every platform event', () => {
    service.hasResourceProperties('AWS::Events::EventBus', { Name: 'eb-trading-us-east-1-test', KmsKeyIdentifier: Match.anyValue() });
    service.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'ebarchive-trading-us-east-1-test',
      EventPattern: { source: ['trading.platform'] },
      RetentionDays: 365,
    });
  });

  it('encrypts the archive with the stage key, the same key as the bus (not an AWS owned key)', () => {
    const [bus] = Object.values(service.findResources('AWS::Events::EventBus'));
    const busKey: unknown = bus?.Properties.KmsKeyIdentifier;
    expect(busKey).toEqual({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'cfn-data-us-east-1-test', OutputName: expect.stringMatching(/PlatformKey.*Arn/) }) });
    service.hasResourceProperties('AWS::Events::Archive', { ArchiveName: 'ebarchive-trading-us-east-1-test', KmsKeyIdentifier: busKey });
  });

  it.each([
    ['ebrule-orders-rejected-us-east-1-test', { source: ['trading.platform'], 'detail-type': ['OrderRejected', 'OrderConflict'] }],
    ['ebrule-orders-large-notional-us-east-1-test', { source: ['trading.platform'], 'detail-type': ['OrderAccepted'], detail: { largeNotional: [true] } }],
    ['ebrule-critical-us-east-1-test', { source: ['trading.platform'], detail: { severity: ['CRITICAL'] } }],
  ])('rule %s filters by content and logs to the audit group, dead-lettering failed deliveries', (name, pattern) => {
    service.hasResourceProperties('AWS::Events::Rule', {
      Name: name,
      EventPattern: pattern,
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: { 'Fn::Join': ['', ['arn:aws:logs:us-east-1:444444444444:log-group:', { Ref: Match.stringLikeRegexp('AuditLogGroup') }]] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventBusDeliveryDeadLetterQueue'), 'Arn'] } },
        }),
        Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('AlertingTopic') } }),
      ]),
    });
  });

  it('lets EventBridge write the audit log group through a native resource policy', () => {
    service.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/events/trading/test/audit', KmsKeyId: Match.anyValue() });
    service.hasResourceProperties('AWS::Logs::ResourcePolicy', { PolicyName: 'eventbridge-audit-test' });
  });
});

describe('session stream consumer', () => {
  it('runs in the isolated subnets with its own security group, HTTPS out only', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-session-stream-us-east-1-test',
      VpcConfig: {
        SubnetIds: ['1', '2', '3'].map((subnet) => ({ 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp(`isolatedSubnet${subnet}`) }) })),
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('SessionsStreamConsumerSecurityGroup'), 'GroupId'] }],
      },
    });
    service.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'sg-session-stream-us-east-1-test',
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]),
    });
  });
});

describe('outputs', () => {
  it('exports the API URL for the post-deploy health gate', () => {
    service.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});
