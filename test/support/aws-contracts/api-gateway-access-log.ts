/**
 * An API Gateway access log line in the stage's format (ACCESS_LOG_FORMAT in lib/constructs/order-api.ts): API Gateway
 * substitutes each `$context` variable as text into the JSON template, so numbers such as the status are strings
 * ("Set up CloudWatch logging for REST APIs in API Gateway", access logging:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html).
 */

export interface AccessLogFields {
  readonly requestId: string;
  readonly httpMethod: string;
  readonly resourcePath: string;
  readonly status: number;
}

export function accessLogLine(fields: AccessLogFields): string {
  return JSON.stringify({
    requestId: fields.requestId,
    extendedRequestId: 'BkU6aF5xoAMEbXQ=',
    requestTime: '25/Nov/2026:16:00:00 +0000',
    httpMethod: fields.httpMethod,
    resourcePath: fields.resourcePath,
    status: String(fields.status),
    responseLength: '72',
    responseLatency: '41',
    integrationLatency: '33',
    integrationStatus: '200',
    errorMessage: '-',
    validationError: '-',
    wafStatus: '200',
    sourceIp: '203.0.113.10',
    callerArn: 'arn:aws:sts::222222222222:assumed-role/role-verification-us-east-1-stg/pipeline-staging-verification',
    userAgent: 'node',
    xrayTraceId: 'Root=1-67891233-abcdef012345678912345678',
  });
}
