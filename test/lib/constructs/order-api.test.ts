/**
 * The order API's answers against AWS's documented behaviour: gateway responses under API Gateway's plain `$context`
 * substitution, the SQS integration's mapping of SQS's documented errors, WAF's size limit, and its log groups.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER } from '../../../lib/constructs/api-gateway-account';
import { MAX_ORDER_BODY_BYTES, SQS_ERROR_CLASSES, UNCLASSIFIED_SQS_ERROR, WAF_RESPONSE_BODIES } from '../../../lib/constructs/order-api-responses';
import {
  API_GATEWAY_GENERATED_VALUES,
  GATEWAY_RESPONSE_TYPES,
  HOSTILE_CONTEXT_VALUE,
  SQS_COMMON_ERRORS,
  SQS_MAX_MESSAGE_BYTES,
  SQS_SEND_MESSAGE_ERRORS,
  SqsErrorContract,
  UNESCAPED_CONTEXT_VARIABLES,
  WAF_API_GATEWAY_BODY_INSPECTION_BYTES,
  contextVariablesIn,
  sqsJsonProtocolError,
  sqsQueryXmlError,
  substituteGatewayResponseTemplate,
} from '../../support/aws-contracts/api-gateway';
import { synthesizeStage } from '../../support/cdk-app';

let service: Template;

beforeAll(() => {
  service = Template.fromStack(synthesizeStage().stage.serviceStack);
});

interface GatewayResponseProperties {
  readonly ResponseType: string;
  readonly StatusCode?: string;
  readonly ResponseTemplates: Record<string, string>;
}

function gatewayResponses(): GatewayResponseProperties[] {
  return Object.values(service.findResources('AWS::ApiGateway::GatewayResponse')).map((resource) => resource.Properties as GatewayResponseProperties);
}

/** Every template value as API Gateway would send it, for each response type `error.responseType` can name. */
function substitutedBodies(response: GatewayResponseProperties): string[] {
  // DEFAULT_4XX / DEFAULT_5XX answer for any type without its own customization, so the type name can be any of them.
  const types = response.ResponseType.startsWith('DEFAULT_') ? Object.keys(GATEWAY_RESPONSE_TYPES) : [response.ResponseType];
  return Object.values(response.ResponseTemplates).flatMap((template) =>
    types.map((type) => {
      const values = Object.fromEntries(
        contextVariablesIn(template).map((name): [string, string] => {
          if (name === 'extendedRequestId') return [name, API_GATEWAY_GENERATED_VALUES.extendedRequestId];
          if (name === 'error.responseType') return [name, type];
          // Anything else may hold anything: give it the worst the documentation allows.
          return [name, HOSTILE_CONTEXT_VALUE];
        }),
      );
      return substituteGatewayResponseTemplate(template, values);
    }),
  );
}

describe('gateway responses', () => {
  it('customizes every response type API Gateway documents, at its documented status code', () => {
    const responses = gatewayResponses();
    expect(responses.map((response) => response.ResponseType).sort()).toEqual(Object.keys(GATEWAY_RESPONSE_TYPES).sort());
    for (const response of responses) {
      const documented = GATEWAY_RESPONSE_TYPES[response.ResponseType];
      if (documented === null || documented === undefined) expect(response.StatusCode).toBeUndefined();
      else expect(response.StatusCode).toBe(String(documented));
    }
  });

  it.each(Object.keys(GATEWAY_RESPONSE_TYPES))('%s answers valid JSON after API Gateway substitutes hostile values', (type) => {
    const response = gatewayResponses().find((candidate) => candidate.ResponseType === type);
    expect(response?.ResponseTemplates['application/json']).toBeDefined();
    for (const body of substitutedBodies(response as GatewayResponseProperties)) {
      const parsed: unknown = JSON.parse(body);
      expect(parsed).toEqual({
        message: expect.any(String),
        type: expect.stringMatching(/^[A-Z0-9_]+$/),
        retryable: expect.any(Boolean),
        extendedRequestId: API_GATEWAY_GENERATED_VALUES.extendedRequestId,
      });
    }
  });

  it('keeps every $context value whose escaping AWS does not document out of the bodies', () => {
    for (const response of gatewayResponses()) {
      for (const template of Object.values(response.ResponseTemplates)) {
        expect(contextVariablesIn(template).filter((name) => name in UNESCAPED_CONTEXT_VARIABLES)).toEqual([]);
        // Not VTL: $util, $input and directives would reach the client as literal text.
        expect(template).not.toMatch(/\$util|\$input|#set|#if/);
      }
    }
  });

  it('tells the client which failures are worth a retry', () => {
    const retryable = gatewayResponses()
      .filter((response) => (JSON.parse(substitutedBodies(response)[0] ?? '{}') as { retryable?: boolean }).retryable)
      .map((response) => response.ResponseType)
      .sort();
    expect(retryable).toEqual(['INTEGRATION_FAILURE', 'INTEGRATION_TIMEOUT', 'THROTTLED']);
  });

  it('would have caught the VTL template it replaced (the substitution model is not lenient)', () => {
    const previous = '{"message":"Invalid request body","errors":$util.toJson($context.error.validationErrorString),"requestId":"$context.requestId"}';
    const sent = substituteGatewayResponseTemplate(previous, { 'error.validationErrorString': HOSTILE_CONTEXT_VALUE, requestId: 'f0e1d2c3-0000-4000-8000-000000000000' });
    expect(sent).toContain('$util.toJson(');
    expect(() => JSON.parse(sent)).toThrow();
  });
});

interface IntegrationResponse {
  readonly StatusCode: string;
  readonly SelectionPattern?: string;
  readonly ResponseTemplates: Record<string, string>;
}

function submitOrderIntegration(): { responses: IntegrationResponse[]; methodStatuses: string[] } {
  const methods = Object.values(service.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'POST', Integration: { Type: 'AWS' } } }));
  expect(methods).toHaveLength(1);
  const properties = methods[0]?.Properties as { Integration: { IntegrationResponses: IntegrationResponse[] }; MethodResponses: { StatusCode: string }[] };
  return { responses: properties.Integration.IntegrationResponses, methodStatuses: properties.MethodResponses.map((response) => response.StatusCode) };
}

/** API Gateway picks the integration response whose selection pattern matches the AWS backend's HTTP status code. */
function selectedFor(status: number): IntegrationResponse | undefined {
  const { responses } = submitOrderIntegration();
  return responses.find((response) => response.SelectionPattern !== undefined && new RegExp(`^(?:${response.SelectionPattern})$`).test(String(status))) ?? responses.find((response) => response.SelectionPattern === undefined);
}

/**
 * Reads the classification the 4xx template performs: the reason of the first `#if/#elseif` whose substrings occur in
 * SQS's answer, then the status override of the branch that reason falls in (none: the response's own status).
 */
function classify(template: string, answer: string, defaultStatus: string): { reason: string; status: string; body: string } {
  let reason = UNCLASSIFIED_SQS_ERROR;
  for (const match of template.matchAll(/^#(?:if|elseif)\((\$sqsAnswer[^\n]*)\)#set\(\$reason = '([A-Za-z]+)'\)$/gm)) {
    const tokens = [...(match[1] ?? '').matchAll(/contains\('([^']+)'\)/g)].map((token) => token[1] ?? '');
    if (tokens.some((token) => answer.includes(token))) {
      reason = match[2] ?? '';
      break;
    }
  }
  const branches = template.split(/^#(?:if|elseif|else)\b/m).slice(1);
  for (const branch of branches) {
    const condition = /^\(([^\n]*)\)\n/.exec(branch)?.[1];
    if (condition !== undefined && !condition.includes('$reason ==')) continue;
    if (condition === undefined || condition.includes(`$reason == '${reason}'`)) {
      const status = /#set\(\$context\.responseOverride\.status = (\d+)\)/.exec(branch)?.[1] ?? defaultStatus;
      const body = branch.split('\n').find((line) => line.startsWith('{')) ?? '';
      return { reason, status, body };
    }
  }
  throw new Error(`no branch for reason ${reason}`);
}

const ALL_DOCUMENTED_ERRORS: readonly SqsErrorContract[] = [...SQS_SEND_MESSAGE_ERRORS, ...SQS_COMMON_ERRORS];
const THROTTLING = ['KmsThrottled', 'RequestThrottled', 'ThrottlingException'];

describe('POST /v1/orders: SQS answers', () => {
  it('answers 202 on 2xx, 503 on SQS 5xx and classifies SQS 4xx, with a method response for every status it can set', () => {
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: Match.objectLike({
        Type: 'AWS',
        IntegrationResponses: [
          Match.objectLike({ StatusCode: '202', SelectionPattern: Match.absent(), ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"status":"QUEUED"') } }),
          Match.objectLike({ StatusCode: '503', SelectionPattern: '5\\d{2}', ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"retryable":true') } }),
          Match.objectLike({
            StatusCode: '500',
            SelectionPattern: '4\\d{2}',
            ResponseTemplates: { 'application/json': Match.stringLikeRegexp('#set\\(\\$context\\.responseOverride\\.status = 503\\)[\\s\\S]*#set\\(\\$context\\.responseOverride\\.status = 400\\)[\\s\\S]*"retryable":false') },
          }),
        ],
      }),
      MethodResponses: Match.arrayWith([{ StatusCode: '202' }, { StatusCode: '400' }, { StatusCode: '500' }, { StatusCode: '503' }]),
    });
    const { responses, methodStatuses } = submitOrderIntegration();
    expect(responses.map((response) => [response.StatusCode, response.SelectionPattern])).toEqual([
      ['202', undefined],
      ['503', '5\\d{2}'],
      ['500', '4\\d{2}'],
    ]);
    expect(methodStatuses.sort()).toEqual(['202', '400', '500', '503']);
  });

  it.each(ALL_DOCUMENTED_ERRORS.map((error) => [error.jsonName, error] as const))('%s gets the documented disposition in either protocol', (_name, error) => {
    const selected = selectedFor(error.httpStatus);
    expect(selected).toBeDefined();
    const expectedStatus = error.httpStatus >= 500 || THROTTLING.includes(error.jsonName) ? '503' : error.jsonName === 'InvalidMessageContents' ? '400' : '500';
    // The query protocol answers XML, the JSON protocol {"__type": ...}; the query API's JSON answer is undocumented,
    // which is why the template matches error names anywhere in the answer instead of reading a field.
    for (const answer of [sqsQueryXmlError(error), sqsJsonProtocolError(error).body]) {
      const template = selected?.ResponseTemplates['application/json'] ?? '';
      const outcome = template.startsWith('#set($sqsAnswer') ? classify(template, answer, selected?.StatusCode ?? '') : { reason: 'n/a', status: selected?.StatusCode ?? '', body: template };
      expect(outcome.status).toBe(expectedStatus);
      if (error.httpStatus < 500) expect(outcome.reason).toBe(SQS_ERROR_CLASSES.find((errorClass) => errorClass.tokens.some((token) => answer.includes(token)))?.reason);
      const body = JSON.parse(outcome.body.replace(/\$util\.escapeJavaScript\([^)]*\)\.replaceAll\("\\\\'","'"\)/g, 'f0e1d2c3').replace('$reason', outcome.reason)) as { retryable: boolean };
      expect(body.retryable).toBe(expectedStatus === '503');
    }
  });

  it('classifies every documented 4xx error by name, and an unknown one as permanent', () => {
    const template = selectedFor(400)?.ResponseTemplates['application/json'] ?? '';
    const unclassified = ALL_DOCUMENTED_ERRORS.filter((error) => error.httpStatus < 500).filter((error) => classify(template, sqsQueryXmlError(error), '500').reason === UNCLASSIFIED_SQS_ERROR);
    expect(unclassified).toEqual([]);
    expect(classify(template, '{"__type":"com.amazonaws.sqs#SomethingNew","message":"x"}', '500')).toMatchObject({ reason: UNCLASSIFIED_SQS_ERROR, status: '500' });
  });

  it('keeps the client-supplied request id JSON-safe in every answer (escapeJavaScript, then \\\' back to \')', () => {
    for (const response of submitOrderIntegration().responses) {
      const template = response.ResponseTemplates['application/json'] ?? '';
      expect(template).not.toMatch(/"\$context\.requestId"/);
      expect(template).toContain(String.raw`$util.escapeJavaScript($context.requestId).replaceAll("\\'","'")`);
    }
  });
});

describe('oversized orders', () => {
  it('are refused by WAF before SQS with a JSON 413, for bodies WAF cannot measure too', () => {
    service.hasResourceProperties('AWS::WAFv2::WebACL', {
      CustomResponseBodies: {
        [WAF_RESPONSE_BODIES.orderTooLarge.key]: { ContentType: 'APPLICATION_JSON', Content: WAF_RESPONSE_BODIES.orderTooLarge.content },
        [WAF_RESPONSE_BODIES.rateLimited.key]: { ContentType: 'APPLICATION_JSON', Content: WAF_RESPONSE_BODIES.rateLimited.content },
      },
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'order-body-size',
          Priority: 0,
          Action: { Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: WAF_RESPONSE_BODIES.orderTooLarge.key } } },
          Statement: {
            AndStatement: {
              Statements: [
                Match.objectLike({ ByteMatchStatement: Match.objectLike({ FieldToMatch: { Method: {} }, PositionalConstraint: 'EXACTLY', SearchString: 'POST' }) }),
                Match.objectLike({ RegexMatchStatement: Match.objectLike({ FieldToMatch: { UriPath: {} }, RegexString: '^/v1/orders/?$' }) }),
                Match.objectLike({ SizeConstraintStatement: Match.objectLike({ FieldToMatch: { Body: { OversizeHandling: 'MATCH' } }, ComparisonOperator: 'GT', Size: MAX_ORDER_BODY_BYTES }) }),
              ],
            },
          },
        }),
      ]),
    });
    for (const body of Object.values(WAF_RESPONSE_BODIES)) expect(JSON.parse(body.content)).toMatchObject({ message: expect.any(String), retryable: expect.any(Boolean) });
  });

  it('bound the body well below what WAF inspects and what SQS accepts', () => {
    // Every accepted body is measured in full (WAF sees 16 KB on API Gateway), and with its attributes and
    // URL-encoding an 8 KiB order stays far below SQS's 1 MiB message limit.
    expect(MAX_ORDER_BODY_BYTES).toBeLessThanOrEqual(WAF_API_GATEWAY_BODY_INSPECTION_BYTES);
    expect(MAX_ORDER_BODY_BYTES * 3).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
    const pattern = new RegExp('^/v1/orders/?$');
    expect(['/v1/orders', '/v1/orders/'].every((path) => pattern.test(path))).toBe(true);
    expect(pattern.test('/v1/orders/acct-1.ord-1')).toBe(false);
  });
});

describe('API logs', () => {
  it('deletes the execution log group only after the stage (the stage depends on it)', () => {
    const [executionLogGroupId] = Object.keys(service.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', Match.anyValue(), '/v1']] } } }));
    expect(executionLogGroupId).toBeDefined();
    service.hasResource('AWS::ApiGateway::Stage', { Properties: Match.objectLike({ StageName: 'v1' }), DependsOn: Match.arrayWith([executionLogGroupId]) });
    service.hasResource('AWS::Logs::LogGroup', { Properties: Match.objectLike({ LogGroupName: Match.objectLike({ 'Fn::Join': Match.anyValue() }), KmsKeyId: Match.anyValue() }), DeletionPolicy: 'Delete' });
  });

  it('leaves the account setting to the account baseline and fails the deploy early without it', () => {
    service.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.values(service.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('apigw-cloudwatch') } }))).toEqual([]);
    // CloudFormation resolves an SSM-typed parameter before it changes anything: a missing baseline stops the deploy.
    const parameters = Object.values(service.findParameters('*', { Type: 'AWS::SSM::Parameter::Value<String>', Default: API_GATEWAY_CLOUDWATCH_ROLE_PARAMETER }));
    expect(parameters).toHaveLength(1);
    service.hasOutput('ApiGatewayCloudWatchRoleArn', { Value: { Ref: Match.stringLikeRegexp('^SsmParameterValuetradingaccountapigatewaycloudwatchrolearn') } });
  });
});
