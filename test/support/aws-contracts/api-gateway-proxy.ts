/**
 * The event API Gateway (REST API, Lambda proxy integration) sends to our functions: sessions, order query, health.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface ProxyRequest {
  readonly method: string;
  /** The resource template, e.g. `/sessions/{sessionId}`. */
  readonly resource: string;
  /** The path as called, e.g. `/sessions/abc`. */
  readonly path: string;
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  /** The raw body as the client sent it. */
  readonly body?: string;
  /** API Gateway base64-encodes bodies of binary media types. @default false */
  readonly isBase64Encoded?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** @default a fresh id */
  readonly requestId?: string;
}

let counter = 0;

/**
 * The Lambda proxy integration's input format for REST APIs
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format):
 * absent parts are `null`, not `{}` or `undefined` (`body`, `pathParameters`, `queryStringParameters`,
 * `multiValueQueryStringParameters`, `stageVariables`); every header also appears in `multiValueHeaders`; the path
 * carries no stage prefix while `requestContext.path` does; with IAM authorization the caller's ARN is in
 * `requestContext.identity.userArn`.
 */
export function apiGatewayProxyEvent(request: ProxyRequest): APIGatewayProxyEvent {
  counter += 1;
  const requestId = request.requestId ?? `c6af9ac6-7b61-11e6-9a41-${String(counter).padStart(12, '0')}`;
  const headers: Record<string, string> = {
    Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'trading-client/1.0',
    'X-Amzn-Trace-Id': `Root=1-5e1b4151-${String(counter).padStart(24, '0')}`,
    ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...request.headers,
  };
  const query = request.query;
  return {
    resource: request.resource,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query === undefined ? null : { ...query },
    multiValueQueryStringParameters: query === undefined ? null : Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])),
    pathParameters: request.pathParameters === undefined ? null : { ...request.pathParameters },
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: request.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: null,
      domainName: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abcdef1234',
      extendedRequestId: `Xyz${counter}=`,
      httpMethod: request.method,
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLE:trading-client',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '198.51.100.7',
        user: 'AROAEXAMPLE:trading-client',
        userAgent: 'trading-client/1.0',
        userArn: 'arn:aws:sts::123456789012:assumed-role/trading-client/session',
      },
      path: `/v1${request.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: '01/Dec/2026:21:00:00 +0000',
      requestTimeEpoch: 1_796_158_800_000,
      resourceId: 'abc123',
      resourcePath: request.resource,
      stage: 'v1',
    },
  };
}
