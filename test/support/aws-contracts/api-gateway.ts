/**
 * What API Gateway and the SQS API hand to the order API, as AWS documents it: gateway-response substitution, the
 * gateway response types, and SQS's answers to SendMessage. Tests use these instead of shapes written beside the code.
 */

// ---------------------------------------------------------------------------------------------------------------
// Gateway responses
// ---------------------------------------------------------------------------------------------------------------

/**
 * API Gateway's substitution in a gateway-response body template: "A GatewayResponse mapping template isn't processed
 * by the Velocity Template Language (VTL) engine" and supports "only simple variable substitution", i.e. every
 * `$context.name` is replaced by the variable's value as text, with no escaping of its own and no `$util`/`#set`.
 * Docs: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
 *       https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
 *
 * A `$context` variable with no value in `values` is an error, so a test must decide the value of every variable a
 * template uses. Anything else (`$util.…`, `$input.…`, `#set`) is left as it is, exactly as API Gateway leaves it.
 */
export function substituteGatewayResponseTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value given for $context.${name}`);
    return value;
  });
}

/** The `$context` variables a gateway-response template refers to, without the `$context.` prefix. */
export function contextVariablesIn(template: string): string[] {
  return [...template.matchAll(/\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g)].map((match) => match[1] ?? '');
}

/**
 * Values API Gateway generates itself, in the form AWS documents, so their characters are known:
 * - `extendedRequestId`: "a unique ID that API Gateway generates ... An API caller can't provide or override this
 *   request ID" (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html), of the form
 *   "XxxXXXxx=" (https://repost.aws/knowledge-center/collect-api-gateway-extended-request-ids).
 * - `error.responseType`: one of the documented gateway response type names (GATEWAY_RESPONSE_TYPES below).
 * `requestId` is not here: "Clients can override the value in the x-amzn-RequestId header" (same access-logging page).
 */
export const API_GATEWAY_GENERATED_VALUES = {
  extendedRequestId: 'BkU6aF5xoAMEbXQ=',
} as const;

/**
 * `$context` variables whose escaping AWS does not document, with what the docs say. A template that puts one of them
 * into a JSON body produces invalid JSON as soon as the value holds a quote, a backslash or a newline.
 * Docs: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 */
export const UNESCAPED_CONTEXT_VARIABLES: Readonly<Record<string, string>> = {
  'error.message': 'A string containing an API Gateway error message.',
  // Documented as quoted ("The quoted value of $context.error.message, namely \"$context.error.message\""), not as
  // JSON-escaped: a message with a quote or a newline in it still breaks the JSON around it.
  'error.messageString': 'The quoted value of $context.error.message.',
  'error.validationErrorString': 'A string containing a detailed validation error message.',
  requestId: 'Clients can override the value in the x-amzn-RequestId header.',
};

/** A value no JSON template survives unless it escapes: quotes, backslashes, control characters, a closing brace. */
export const HOSTILE_CONTEXT_VALUE = 'instance.side: "SHORT" is not one of ["BUY","SELL"] \\ C:\\path\n\t\u0000"}]';

/**
 * Every gateway response type API Gateway documents, with its default status code (null: DEFAULT_4XX / DEFAULT_5XX
 * have none and only pass on their customization).
 * Docs: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 */
export const GATEWAY_RESPONSE_TYPES: Readonly<Record<string, number | null>> = {
  ACCESS_DENIED: 403,
  API_CONFIGURATION_ERROR: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  AUTHORIZER_FAILURE: 500,
  BAD_REQUEST_PARAMETERS: 400,
  BAD_REQUEST_BODY: 400,
  DEFAULT_4XX: null,
  DEFAULT_5XX: null,
  EXPIRED_TOKEN: 403,
  INTEGRATION_FAILURE: 504,
  INTEGRATION_TIMEOUT: 504,
  INVALID_API_KEY: 403,
  INVALID_SIGNATURE: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  QUOTA_EXCEEDED: 429,
  REQUEST_TOO_LARGE: 413,
  RESOURCE_NOT_FOUND: 404,
  THROTTLED: 429,
  UNAUTHORIZED: 401,
  UNSUPPORTED_MEDIA_TYPE: 415,
  WAF_FILTERED: 403,
};

// ---------------------------------------------------------------------------------------------------------------
// SQS SendMessage: errors and answers
// ---------------------------------------------------------------------------------------------------------------

/** One error SQS documents for SendMessage, under both of its names. */
export interface SqsErrorContract {
  /** Name in the AWS JSON protocol: the part of `__type` after `#` (e.g. `com.amazonaws.sqs#KmsDisabled`). */
  readonly jsonName: string;
  /** Code in the query protocol (`<Code>` of the XML error, and the `x-amzn-query-error` header of the JSON protocol). */
  readonly queryCode: string;
  readonly httpStatus: number;
  readonly description: string;
}

/**
 * The errors the SQS API reference lists for SendMessage, with their HTTP status codes and query-protocol codes.
 * Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html#API_SendMessage_Errors
 * The query codes and status codes are the service model's (`awsQueryError`), as shipped in @aws-sdk/client-sqs
 * 3.1164.0 (dist-cjs/index.js), from which the API reference is generated.
 */
export const SQS_SEND_MESSAGE_ERRORS: readonly SqsErrorContract[] = [
  { jsonName: 'InvalidAddress', queryCode: 'InvalidAddress', httpStatus: 404, description: 'The accountId is invalid.' },
  { jsonName: 'InvalidMessageContents', queryCode: 'InvalidMessageContents', httpStatus: 400, description: 'The message contains characters outside the allowed set.' },
  { jsonName: 'InvalidSecurity', queryCode: 'InvalidSecurity', httpStatus: 403, description: 'When the request to a queue is not HTTPS and SigV4.' },
  { jsonName: 'KmsAccessDenied', queryCode: 'KMS.AccessDeniedException', httpStatus: 400, description: "The caller doesn't have the required KMS access." },
  // The API reference's text for KmsDisabled is, verbatim, the throttling sentence; the name and code say what it is.
  { jsonName: 'KmsDisabled', queryCode: 'KMS.DisabledException', httpStatus: 400, description: 'The request was denied due to request throttling.' },
  { jsonName: 'KmsInvalidKeyUsage', queryCode: 'KMS.InvalidKeyUsageException', httpStatus: 400, description: 'The KeyUsage value of the KMS key is incompatible with the API operation.' },
  { jsonName: 'KmsInvalidState', queryCode: 'KMS.InvalidStateException', httpStatus: 400, description: 'The state of the specified resource is not valid for this request.' },
  { jsonName: 'KmsNotFound', queryCode: 'KMS.NotFoundException', httpStatus: 400, description: 'The specified entity or resource could not be found.' },
  { jsonName: 'KmsOptInRequired', queryCode: 'KMS.OptInRequired', httpStatus: 403, description: "The request was rejected because the specified key policy isn't syntactically or semantically correct." },
  { jsonName: 'KmsThrottled', queryCode: 'KMS.ThrottlingException', httpStatus: 400, description: 'Amazon Web Services KMS throttles requests for the following conditions.' },
  { jsonName: 'QueueDoesNotExist', queryCode: 'AWS.SimpleQueueService.NonExistentQueue', httpStatus: 400, description: 'Ensure that the QueueUrl is correct and that the queue has not been deleted.' },
  { jsonName: 'RequestThrottled', queryCode: 'RequestThrottled', httpStatus: 403, description: 'The request was denied due to request throttling.' },
  { jsonName: 'UnsupportedOperation', queryCode: 'AWS.SimpleQueueService.UnsupportedOperation', httpStatus: 400, description: 'Error code 400. Unsupported operation.' },
];

/**
 * The errors common to all SQS actions, with their HTTP status codes (the same name in both protocols).
 * Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
 */
export const SQS_COMMON_ERRORS: readonly SqsErrorContract[] = [
  { jsonName: 'AccessDeniedException', queryCode: 'AccessDeniedException', httpStatus: 400, description: 'You do not have sufficient access to perform this action.' },
  { jsonName: 'IncompleteSignature', queryCode: 'IncompleteSignature', httpStatus: 400, description: 'The request signature does not conform to AWS standards.' },
  { jsonName: 'InternalFailure', queryCode: 'InternalFailure', httpStatus: 500, description: 'The request processing has failed because of an unknown error, exception or failure.' },
  { jsonName: 'InvalidAction', queryCode: 'InvalidAction', httpStatus: 400, description: 'The action or operation requested is invalid.' },
  { jsonName: 'InvalidClientTokenId', queryCode: 'InvalidClientTokenId', httpStatus: 403, description: 'The X.509 certificate or AWS access key ID provided does not exist in our records.' },
  { jsonName: 'NotAuthorized', queryCode: 'NotAuthorized', httpStatus: 400, description: 'You do not have permission to perform this action.' },
  { jsonName: 'OptInRequired', queryCode: 'OptInRequired', httpStatus: 403, description: 'The AWS access key ID needs a subscription for the service.' },
  { jsonName: 'RequestExpired', queryCode: 'RequestExpired', httpStatus: 400, description: 'The request reached the service more than 15 minutes after the date stamp on the request.' },
  { jsonName: 'ServiceUnavailable', queryCode: 'ServiceUnavailable', httpStatus: 503, description: 'The request has failed due to a temporary failure of the server.' },
  { jsonName: 'ThrottlingException', queryCode: 'ThrottlingException', httpStatus: 400, description: 'The request was denied due to request throttling.' },
  { jsonName: 'ValidationError', queryCode: 'ValidationError', httpStatus: 400, description: 'The input fails to satisfy the constraints specified by an AWS service.' },
];

/**
 * SQS's error answer in the query protocol (what the form-encoded `Action=SendMessage` request gets), in XML.
 * Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html
 */
export function sqsQueryXmlError(error: SqsErrorContract, requestId = '42d59b56-7407-4c4a-be0f-4c88daeea257'): string {
  const type = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
  return [
    '<ErrorResponse>',
    `  <Error><Type>${type}</Type><Code>${error.queryCode}</Code><Message>${error.description}</Message><Detail/></Error>`,
    `  <RequestId>${requestId}</RequestId>`,
    '</ErrorResponse>',
  ].join('\n');
}

/**
 * SQS's error answer in the AWS JSON protocol: `{"__type": "com.amazonaws.sqs#<Name>", "message": "..."}`, with
 * `x-amzn-query-error: <queryCode>;Sender` as a header.
 * Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html
 */
export function sqsJsonProtocolError(error: SqsErrorContract): { readonly headers: Readonly<Record<string, string>>; readonly body: string } {
  const fault = error.httpStatus >= 500 ? 'Receiver' : 'Sender';
  return {
    headers: { 'x-amzn-query-error': `${error.queryCode};${fault}`, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${error.jsonName}`, message: error.description }),
  };
}

/**
 * SQS's answer to a successful query-protocol SendMessage when asked for JSON (`Accept: application/json`).
 * NOT DOCUMENTED: the SQS guide documents the query protocol's answers in XML only
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html) and JSON only for
 * the AWS JSON protocol. This shape is the one AWS returned to LocalStack's AWS-validated test of an API Gateway SQS
 * integration (localstack/localstack, tests/aws/services/apigateway/test_apigateway_sqs.py,
 * `test_sqs_request_and_response_xml_templates_integration`). The order API therefore reads only `MessageId` from it,
 * for information, and never decides anything on its error answers' layout (see lib/constructs/order-api-responses.ts).
 */
export function sqsQueryJsonSendMessageResult(messageId = '5fea7756-0ea4-451a-a703-a558b933e274'): string {
  return JSON.stringify({
    SendMessageResponse: {
      ResponseMetadata: { RequestId: '27daac76-34dd-47df-bd01-1f6e873584a0' },
      SendMessageResult: { MD5OfMessageAttributes: null, MD5OfMessageBody: 'fafb00f5732ab283681e124bf8747ed1', MessageId: messageId, SequenceNumber: '18849496460467696128' },
    },
  });
}

/**
 * SQS's message size limit: "from 1,024 bytes (1 KiB) up to 1,048,576 bytes (1 MiB). Default: 1,048,576 bytes (1 MiB)"
 * (raised from 256 KiB in 2025); message attributes count against the same limit.
 * Docs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 *       https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
 */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * The largest body API Gateway forwards to AWS WAF for inspection on a REST API by default: "For CloudFront, API
 * Gateway, ... the default limit is 16 KB (16,384 bytes)"; bigger bodies are handled by the rule's OversizeHandling.
 * Docs: https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html
 */
export const WAF_API_GATEWAY_BODY_INSPECTION_BYTES = 16_384;
