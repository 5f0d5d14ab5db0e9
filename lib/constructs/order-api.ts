/**
 * The platform's REST API (stage `v1`): regional, WAF-protected, IAM-authorized trading routes, JSON access logs,
 * X-Ray tracing, execution logs without bodies, throttling. `POST /v1/orders` goes straight to the SQS FIFO queue.
 */
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiConfig, ResourceNames } from '../config';
import { orderRequestJsonSchema } from '../../lambda/shared/order-schema';
import { API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER } from './api-gateway-account';
import {
  MAX_ORDER_BODY_BYTES,
  SUBMIT_ORDER_METHOD_RESPONSES,
  WAF_RESPONSE_BODIES,
  addJsonGatewayResponses,
  submitOrderIntegrationResponses,
} from './order-api-responses';
import { OrderQueues } from './order-queues';

export const API_STAGE_NAME = 'v1';

export interface OrderApiProps {
  readonly names: ResourceNames;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly config: ApiConfig;
  readonly ordersQueue: OrderQueues;
  readonly orderQuery: lambda.IFunction;
}

/** JSON access log line: who called what, how it ended and how long it took; never the body. */
const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    requestTime: '$context.requestTime',
    httpMethod: '$context.httpMethod',
    resourcePath: '$context.resourcePath',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    errorMessage: '$context.error.message',
    validationError: '$context.error.validationErrorString',
    wafStatus: '$context.waf.status',
    sourceIp: '$context.identity.sourceIp',
    callerArn: '$context.identity.userArn',
    userAgent: '$context.identity.userAgent',
    xrayTraceId: '$context.xrayTraceId',
  }),
);

/** Trading routes are called by trading systems with IAM roles (SigV4), not by end users of a Cognito pool. */
export function acknowledgeIamAuthorization(method: apigateway.Method): void {
  Validations.of(method).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'Authorized with AWS IAM (SigV4): callers are trading systems holding IAM roles limited to execute-api:Invoke on these routes; there are no end-user identities for a Cognito user pool.',
  });
}

/**
 * Default settings: REGIONAL endpoint, IAM auth on every trading route, body validation against the shared order
 * schema, a JSON body on every gateway response, execution logging at INFO without data trace, stage throttling and
 * WAF rate limit from config, order bodies above MAX_ORDER_BODY_BYTES refused by WAF with a 413.
 * Logging needs the account's API Gateway CloudWatch role, which the account baseline owns (ApiGatewayAccount): the
 * stage only resolves its SSM parameter, so a deploy into an account without the baseline fails before any change.
 */
export class OrderApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly executionLogGroup: logs.LogGroup;
  /** ARN of the account-level CloudWatch role, resolved from the account baseline's parameter at deploy time. */
  public readonly accountCloudWatchRoleArn: string;
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly v1: apigateway.IResource;
  public readonly bodyValidator: apigateway.RequestValidator;

  constructor(scope: Construct, id: string, props: OrderApiProps) {
    super(scope, id);
    const apiName = props.names.of('restApi', 'trading');

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogGroup', {
      logGroupName: props.names.logGroup('apigateway', 'access'),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: apiName,
      description: `Trading platform API (${props.names.environmentSuffix})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      deploy: true,
      disableExecuteApiEndpoint: false,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: ACCESS_LOG_FORMAT,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        // Request and response bodies hold orders and session data: they never go to the execution log.
        dataTraceEnabled: false,
        throttlingRateLimit: props.config.throttleRateLimit,
        throttlingBurstLimit: props.config.throttleBurstLimit,
      },
    });
    this.accountCloudWatchRoleArn = ssm.StringParameter.valueForStringParameter(this, API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER);
    this.executionLogGroup = this.addExecutionLogGroup(props);

    this.bodyValidator = new apigateway.RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    addJsonGatewayResponses(this.api);

    this.v1 = this.api.root;
    const orders = this.v1.addResource('orders');
    this.addSubmitOrder(orders, props);
    const order = orders.addResource('{orderId}');
    const getOrder = order.addMethod('GET', new apigateway.LambdaIntegration(props.orderQuery, { proxy: true }), {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestParameters: { 'method.request.path.orderId': true },
      requestValidator: this.bodyValidator,
    });
    acknowledgeIamAuthorization(getOrder);

    this.webAcl = this.createWebAcl(props);
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

  }

  /** `POST /v1/orders`: validate against the shared schema, then SendMessage to the FIFO queue, no Lambda in between. */
  private addSubmitOrder(orders: apigateway.IResource, props: OrderApiProps): void {
    const stack = Stack.of(this);
    const integrationRole = new iam.Role(this, 'SubmitOrderRole', {
      roleName: props.names.of('role', 'apigw-submit-order'),
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway: send validated orders to the orders FIFO queue',
    });
    props.ordersQueue.grantSend(integrationRole);

    const model = new apigateway.CfnModel(this, 'OrderModel', {
      restApiId: this.api.restApiId,
      name: 'OrderRequest',
      contentType: 'application/json',
      description: 'An order, generated from lambda/shared/order-schema.ts (the processor validates with the same definition)',
      schema: orderRequestJsonSchema(),
    });
    const orderModel = apigateway.Model.fromModelName(this, 'OrderModelRef', model.ref);

    // MessageGroupId = account (per-account ordering); MessageDeduplicationId = client order id (a retried POST
    // within SQS's 5-minute window is accepted but not queued twice; the processor's ON CONFLICT covers the rest).
    const sendMessage = [
      'Action=SendMessage',
      "MessageGroupId=$util.urlEncode($input.path('$.accountId'))",
      "MessageDeduplicationId=$util.urlEncode($input.path('$.clientOrderId'))",
      'MessageBody=$util.urlEncode($input.body)',
      'MessageAttribute.1.Name=apiRequestId',
      'MessageAttribute.1.Value.DataType=String',
      'MessageAttribute.1.Value.StringValue=$util.urlEncode($context.requestId)',
    ].join('&');
    const integration = new apigateway.AwsIntegration({
      service: 'sqs',
      path: `${stack.account}/${props.ordersQueue.queue.queueName}`,
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: integrationRole,
        passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
        requestParameters: {
          'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'",
          // The 202 reads the MessageId from SQS's JSON answer; errors are classified without relying on its layout.
          'integration.request.header.Accept': "'application/json'",
        },
        requestTemplates: { 'application/json': sendMessage },
        integrationResponses: submitOrderIntegrationResponses(),
      },
    });
    const submitOrder = orders.addMethod('POST', integration, {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidator: this.bodyValidator,
      requestModels: { 'application/json': orderModel },
      methodResponses: SUBMIT_ORDER_METHOD_RESPONSES,
    });
    acknowledgeIamAuthorization(submitOrder);
  }

  /**
   * The stage's execution log group, owned by the stack so `cdk destroy` removes it. The stage depends on it, so
   * CloudFormation creates it before the stage (API Gateway never creates it itself, unencrypted) and deletes it only
   * after the stage is gone (a stage still logging would recreate it, unencrypted and outside the stack).
   */
  private addExecutionLogGroup(props: OrderApiProps): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'ExecutionLogGroup', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api.deploymentStage.node.addDependency(logGroup);
    return logGroup;
  }

  /** AWS managed common + known-bad-inputs rules, and a per-IP rate limit. */
  private createWebAcl(props: OrderApiProps): wafv2.CfnWebACL {
    const name = props.names.of('webAcl', 'api');
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (priority: number, ruleName: string): wafv2.CfnWebACL.RuleProperty => ({
      name: ruleName,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: ruleName } },
      visibilityConfig: visibility(ruleName),
    });
    // Order bodies are refused above MAX_ORDER_BODY_BYTES before API Gateway sends anything to SQS: a clear,
    // non-retryable 413 instead of SQS's error or the common rule set's generic 403 (it blocks bodies over 8 KB too).
    // OversizeHandling MATCH: a body larger than WAF inspects (16 KB on API Gateway) counts as too large as well.
    const orderBodyTooLarge: wafv2.CfnWebACL.RuleProperty = {
      name: 'order-body-size',
      priority: 0,
      action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: WAF_RESPONSE_BODIES.orderTooLarge.key } } },
      statement: {
        andStatement: {
          statements: [
            { byteMatchStatement: { fieldToMatch: { method: {} }, positionalConstraint: 'EXACTLY', searchString: 'POST', textTransformations: [{ priority: 0, type: 'NONE' }] } },
            { regexMatchStatement: { fieldToMatch: { uriPath: {} }, regexString: `^/${API_STAGE_NAME}/orders/?$`, textTransformations: [{ priority: 0, type: 'NONE' }] } },
            { sizeConstraintStatement: { fieldToMatch: { body: { oversizeHandling: 'MATCH' } }, comparisonOperator: 'GT', size: MAX_ORDER_BODY_BYTES, textTransformations: [{ priority: 0, type: 'NONE' }] } },
          ],
        },
      },
      visibilityConfig: visibility('order-body-size'),
    };
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Trading API: order body size limit, AWS managed rules and per-IP rate limiting',
      visibilityConfig: visibility(name),
      // WAF's custom responses take precedence over gateway responses, so they carry the same JSON shape themselves.
      customResponseBodies: Object.fromEntries(
        Object.values(WAF_RESPONSE_BODIES).map((body) => [body.key, { contentType: 'APPLICATION_JSON', content: body.content }]),
      ),
      rules: [
        orderBodyTooLarge,
        managed(1, 'AWSManagedRulesCommonRuleSet'),
        managed(2, 'AWSManagedRulesKnownBadInputsRuleSet'),
        {
          name: 'per-ip-rate-limit',
          priority: 3,
          action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: WAF_RESPONSE_BODIES.rateLimited.key } } },
          statement: { rateBasedStatement: { limit: props.config.wafRateLimitPer5Minutes, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('per-ip-rate-limit'),
        },
      ],
    });
  }
}
