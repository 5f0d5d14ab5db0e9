/**
 * Every answer the trading API gives that no Lambda writes: API Gateway's own (gateway responses), the SQS
 * integration's (202, retryable 503, permanent 500, client 400) and WAF's (413, 429), each a JSON body.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';

/**
 * A gateway-response body is not VTL: API Gateway only substitutes `$context` variables as text, without escaping.
 * So a body holds only fixed text and values API Gateway generates in a known alphabet: `extendedRequestId` ("a unique
 * ID that API Gateway generates", base64 characters) and `error.responseType` (a response type name). The error text
 * (`error.message`, `error.messageString`, `error.validationErrorString`) and `requestId` (a client may set it) are
 * documented without any escaping, so a quote or newline in them would break the JSON: they stay out of the body. The
 * validation detail is in the access log (`validationError`) under the same `extendedRequestId`.
 */
function gatewayResponseBody(message: string, retryable: boolean): string {
  return JSON.stringify({
    message,
    type: '$context.error.responseType',
    retryable,
    extendedRequestId: '$context.extendedRequestId',
  });
}

interface GatewayResponseDefinition {
  readonly type: apigateway.ResponseType;
  /** @default - API Gateway's default status code of the type (DEFAULT_4XX/5XX keep the status of the actual error) */
  readonly statusCode?: string;
  readonly message: string;
  readonly retryable: boolean;
}

const SUPPORT = 'Quote the extendedRequestId to support.';

/**
 * One JSON body for every gateway response type API Gateway documents
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html), so no client
 * ever gets API Gateway's default body and no future type falls through to it (DEFAULT_4XX / DEFAULT_5XX).
 */
export const GATEWAY_RESPONSES: readonly GatewayResponseDefinition[] = [
  { type: apigateway.ResponseType.DEFAULT_4XX, message: `Request refused. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.DEFAULT_5XX, message: `The API could not process the request. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.BAD_REQUEST_BODY, statusCode: '400', message: 'Invalid request body: it does not match the request schema. Quote the extendedRequestId to support for the field-level detail.', retryable: false },
  { type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '400', message: `Invalid request parameters. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.REQUEST_TOO_LARGE, statusCode: '413', message: 'Request body too large: not accepted, and retrying the same body will not help.', retryable: false },
  { type: apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, statusCode: '415', message: 'Unsupported media type: send Content-Type application/json.', retryable: false },
  { type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '403', message: 'Missing authentication: sign the request with AWS SigV4, or the route does not exist.', retryable: false },
  { type: apigateway.ResponseType.INVALID_SIGNATURE, statusCode: '403', message: 'Invalid SigV4 signature.', retryable: false },
  { type: apigateway.ResponseType.EXPIRED_TOKEN, statusCode: '403', message: 'Expired credentials: refresh them and sign again.', retryable: false },
  { type: apigateway.ResponseType.ACCESS_DENIED, statusCode: '403', message: `Access denied. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.UNAUTHORIZED, statusCode: '401', message: 'Unauthorized.', retryable: false },
  { type: apigateway.ResponseType.INVALID_API_KEY, statusCode: '403', message: 'Invalid API key.', retryable: false },
  { type: apigateway.ResponseType.WAF_FILTERED, statusCode: '403', message: `Request blocked by the web application firewall. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.RESOURCE_NOT_FOUND, statusCode: '404', message: 'No such resource.', retryable: false },
  { type: apigateway.ResponseType.THROTTLED, statusCode: '429', message: 'Too many requests: retry with exponential backoff (orders: with the same clientOrderId).', retryable: true },
  { type: apigateway.ResponseType.QUOTA_EXCEEDED, statusCode: '429', message: 'Usage quota exceeded.', retryable: false },
  // The integration may or may not have run: a retry with the same clientOrderId is de-duplicated by the FIFO queue.
  { type: apigateway.ResponseType.INTEGRATION_FAILURE, statusCode: '504', message: 'The backend did not answer: retry with exponential backoff (orders: with the same clientOrderId).', retryable: true },
  { type: apigateway.ResponseType.INTEGRATION_TIMEOUT, statusCode: '504', message: 'The backend timed out: retry with exponential backoff (orders: with the same clientOrderId).', retryable: true },
  { type: apigateway.ResponseType.API_CONFIGURATION_ERROR, statusCode: '500', message: `API configuration error. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, statusCode: '500', message: `Authorizer configuration error. ${SUPPORT}`, retryable: false },
  { type: apigateway.ResponseType.AUTHORIZER_FAILURE, statusCode: '500', message: `Authorizer failure. ${SUPPORT}`, retryable: false },
];

/** Adds GATEWAY_RESPONSES to the API, each as an `application/json` body. */
export function addJsonGatewayResponses(api: apigateway.RestApi): void {
  for (const response of GATEWAY_RESPONSES) {
    api.addGatewayResponse(`Response-${response.type.responseType}`, {
      type: response.type,
      statusCode: response.statusCode,
      templates: { 'application/json': gatewayResponseBody(response.message, response.retryable) },
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The SQS integration's answers
// ---------------------------------------------------------------------------------------------------------------

/** What the API tells the client when SQS refuses a SendMessage. */
export type SqsErrorDisposition = 'retry' | 'client' | 'permanent';

export interface SqsErrorClass {
  /** Our name of the error, echoed as `reason` (a constant, never SQS's text). */
  readonly reason: string;
  /**
   * Strings that identify the error in SQS's answer, whatever its layout: the query-protocol code (the XML `<Code>`)
   * and the JSON-protocol name (`__type` is `com.amazonaws.sqs#<name>`). Matched as substrings, in table order.
   */
  readonly tokens: readonly string[];
  readonly disposition: SqsErrorDisposition;
}

/**
 * SendMessage's documented errors and SQS's common errors
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html#API_SendMessage_Errors,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html), with what the client is told:
 * - `retry` (503): throttling, which passes by itself; a retry with the same clientOrderId is de-duplicated.
 * - `client` (400): the message holds characters SQS does not allow; only the client can change that.
 * - `permanent` (500): the platform's fault (key disabled or not allowed, queue gone, request malformed by the
 *   integration): retrying the same request cannot succeed until an operator acts, so clients must not retry in a loop.
 * KMS entries come before the common errors whose names they contain (`KMS.AccessDeniedException` ⊃ `AccessDeniedException`).
 * Anything unlisted is `permanent`: it is safer to stop a client than to have it hammer an integration that is broken.
 */
export const SQS_ERROR_CLASSES: readonly SqsErrorClass[] = [
  { reason: 'KmsThrottled', tokens: ['KMS.ThrottlingException', 'KmsThrottled'], disposition: 'retry' },
  { reason: 'RequestThrottled', tokens: ['RequestThrottled'], disposition: 'retry' },
  { reason: 'ThrottlingException', tokens: ['ThrottlingException'], disposition: 'retry' },
  { reason: 'InvalidMessageContents', tokens: ['InvalidMessageContents'], disposition: 'client' },
  { reason: 'KmsAccessDenied', tokens: ['KMS.AccessDeniedException', 'KmsAccessDenied'], disposition: 'permanent' },
  { reason: 'KmsDisabled', tokens: ['KMS.DisabledException', 'KmsDisabled'], disposition: 'permanent' },
  { reason: 'KmsInvalidKeyUsage', tokens: ['KMS.InvalidKeyUsageException', 'KmsInvalidKeyUsage'], disposition: 'permanent' },
  { reason: 'KmsInvalidState', tokens: ['KMS.InvalidStateException', 'KmsInvalidState'], disposition: 'permanent' },
  { reason: 'KmsNotFound', tokens: ['KMS.NotFoundException', 'KmsNotFound'], disposition: 'permanent' },
  { reason: 'KmsOptInRequired', tokens: ['KMS.OptInRequired', 'KmsOptInRequired'], disposition: 'permanent' },
  { reason: 'QueueDoesNotExist', tokens: ['AWS.SimpleQueueService.NonExistentQueue', 'QueueDoesNotExist'], disposition: 'permanent' },
  { reason: 'UnsupportedOperation', tokens: ['AWS.SimpleQueueService.UnsupportedOperation', 'UnsupportedOperation'], disposition: 'permanent' },
  { reason: 'InvalidAddress', tokens: ['InvalidAddress'], disposition: 'permanent' },
  { reason: 'InvalidSecurity', tokens: ['InvalidSecurity'], disposition: 'permanent' },
  { reason: 'AccessDenied', tokens: ['AccessDeniedException', 'AccessDenied'], disposition: 'permanent' },
  { reason: 'NotAuthorized', tokens: ['NotAuthorized'], disposition: 'permanent' },
  { reason: 'InvalidClientTokenId', tokens: ['InvalidClientTokenId'], disposition: 'permanent' },
  { reason: 'IncompleteSignature', tokens: ['IncompleteSignature'], disposition: 'permanent' },
  { reason: 'RequestExpired', tokens: ['RequestExpired'], disposition: 'permanent' },
  { reason: 'OptInRequired', tokens: ['OptInRequired'], disposition: 'permanent' },
  { reason: 'InvalidAction', tokens: ['InvalidAction'], disposition: 'permanent' },
  { reason: 'InvalidParameterValue', tokens: ['InvalidParameterValue'], disposition: 'permanent' },
  { reason: 'MissingParameter', tokens: ['MissingParameter'], disposition: 'permanent' },
  { reason: 'ValidationError', tokens: ['ValidationError'], disposition: 'permanent' },
];

/** The reason reported when no class matches (still `permanent`). */
export const UNCLASSIFIED_SQS_ERROR = 'Unclassified';

/** Status codes of the submit-order method. */
export const SUBMIT_ORDER_STATUS = { queued: '202', clientError: '400', permanent: '500', retry: '503' } as const;

/**
 * `requestId` inside a VTL template, made safe for a JSON string: clients may set it (x-amzn-RequestId), and
 * `$util.escapeJavaScript` escapes `'` as `\'`, which JSON does not allow, so it is turned back (the mapping template
 * reference documents exactly this use: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
 */
const REQUEST_ID_JSON = jsonSafe('$context.requestId');

/** A VTL reference rendered as the inside of a JSON string (the mapping template reference's escapeJavaScript idiom). */
function jsonSafe(reference: string): string {
  return String.raw`$util.escapeJavaScript(${reference}).replaceAll("\\'","'")`;
}

function vtlJson(fields: Readonly<Record<string, string | boolean>>): string {
  // Values here are constants or VTL references that render JSON-safe text; JSON.stringify would quote the references.
  return `{${Object.entries(fields).map(([key, value]) => (typeof value === 'boolean' ? `"${key}":${value}` : `"${key}":"${value}"`)).join(',')}}`;
}

const RETRY_BODY = (reason: string) => vtlJson({ message: 'Order not queued: the queue is busy. Retry with exponential backoff and the same clientOrderId (it is de-duplicated).', retryable: true, reason, requestId: REQUEST_ID_JSON });
const CLIENT_BODY = vtlJson({ message: 'Order not queued: the body holds characters the order queue does not accept. Remove control characters and non-characters; retrying the same body will not help.', retryable: false, reason: '$reason', requestId: REQUEST_ID_JSON });
const PERMANENT_BODY = vtlJson({ message: 'Order not queued: the platform cannot queue orders (not a client error). Do not retry automatically; contact support with the requestId. Resubmitting later with the same clientOrderId is safe.', retryable: false, reason: '$reason', requestId: REQUEST_ID_JSON });

/**
 * The template of the `4\d{2}` integration response. API Gateway selects integration responses of an AWS (non-Lambda)
 * integration by the backend's HTTP status code only, and SQS answers throttling (400/403) and permanent faults (400)
 * with the same codes, so the template reads the error's name from SQS's answer and overrides the status
 * (`$context.responseOverride.status`, https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html).
 * It looks for the documented error names as substrings of the raw answer, so it does not depend on the layout of the
 * query API's JSON error answer, which AWS does not document.
 */
export function sqsClientErrorTemplate(): string {
  const lines = ['#set($sqsAnswer = $input.body)', `#set($reason = '${UNCLASSIFIED_SQS_ERROR}')`];
  SQS_ERROR_CLASSES.forEach((errorClass, index) => {
    const condition = errorClass.tokens.map((token) => `$sqsAnswer.contains('${token}')`).join(' || ');
    lines.push(`${index === 0 ? '#if' : '#elseif'}(${condition})#set($reason = '${errorClass.reason}')`);
  });
  lines.push('#end');
  const ofDisposition = (disposition: SqsErrorDisposition) =>
    SQS_ERROR_CLASSES.filter((errorClass) => errorClass.disposition === disposition).map((errorClass) => `$reason == '${errorClass.reason}'`).join(' || ');
  lines.push(
    `#if(${ofDisposition('retry')})`,
    `#set($context.responseOverride.status = ${SUBMIT_ORDER_STATUS.retry})`,
    RETRY_BODY('$reason'),
    `#elseif(${ofDisposition('client')})`,
    `#set($context.responseOverride.status = ${SUBMIT_ORDER_STATUS.clientError})`,
    CLIENT_BODY,
    '#else',
    PERMANENT_BODY,
    '#end',
  );
  return lines.join('\n');
}

/** Integration responses of `POST /v1/orders`: 2xx → 202, SQS 5xx → 503 (retry), SQS 4xx → by error name. */
export function submitOrderIntegrationResponses(): apigateway.IntegrationResponse[] {
  return [
    {
      // The default response: SQS answered 2xx. MessageId is informational (see docs/architecture.md).
      statusCode: SUBMIT_ORDER_STATUS.queued,
      responseTemplates: {
        'application/json': [
          "#set($result = $input.path('$.SendMessageResponse.SendMessageResult'))",
          '#set($messageId = "$!result.MessageId")',
          vtlJson({ status: 'QUEUED', messageId: jsonSafe('$messageId'), requestId: REQUEST_ID_JSON }),
        ].join('\n'),
      },
    },
    {
      // InternalFailure (500), ServiceUnavailable (503): SQS's own transient faults.
      statusCode: SUBMIT_ORDER_STATUS.retry,
      selectionPattern: '5\\d{2}',
      responseTemplates: { 'application/json': RETRY_BODY('SqsUnavailable') },
    },
    {
      statusCode: SUBMIT_ORDER_STATUS.permanent,
      selectionPattern: '4\\d{2}',
      responseTemplates: { 'application/json': sqsClientErrorTemplate() },
    },
  ];
}

/** Method responses matching submitOrderIntegrationResponses (the 400 comes from a status override). */
export const SUBMIT_ORDER_METHOD_RESPONSES: apigateway.MethodResponse[] = Object.values(SUBMIT_ORDER_STATUS).map((statusCode) => ({ statusCode }));

// ---------------------------------------------------------------------------------------------------------------
// WAF's answers
// ---------------------------------------------------------------------------------------------------------------

/**
 * Largest order body accepted, in bytes. Orders are a few hundred bytes; 8 KiB leaves room for pretty-printing and is
 * the bound AWS's own common rule set applies (SizeRestrictions_BODY); far below SQS's 1 MiB message limit and below
 * the 16 KB API Gateway forwards to WAF by default, so WAF measures every accepted body in full.
 */
export const MAX_ORDER_BODY_BYTES = 8192;

/** Keys of the WAF custom response bodies, and the bodies (static: WAF cannot insert request values). */
export const WAF_RESPONSE_BODIES = {
  orderTooLarge: {
    key: 'order-too-large',
    content: JSON.stringify({ message: `Order body larger than ${MAX_ORDER_BODY_BYTES} bytes: not accepted, and retrying the same body will not help.`, type: 'REQUEST_TOO_LARGE', retryable: false }),
  },
  rateLimited: {
    key: 'rate-limited',
    content: JSON.stringify({ message: 'Too many requests from this address: retry with exponential backoff (orders: with the same clientOrderId).', type: 'RATE_LIMITED', retryable: true }),
  },
} as const;
