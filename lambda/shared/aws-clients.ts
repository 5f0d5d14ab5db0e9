/**
 * The one way functions build AWS SDK v3 clients: standard retry mode with bounded attempts, connection and request
 * deadlines that really abort (not just warn), tracing, and the worst-case time a call can take so callers can
 * check it against the invocation's remaining time before they start one.
 */
import type { Observability } from './observability';

/** How long one SDK call may take, in its parts. */
export interface CallDeadlines {
  /** TCP + TLS handshake of one attempt. */
  readonly connectionTimeoutMs: number;
  /** Request sent to response read, of one attempt. */
  readonly requestTimeoutMs: number;
  /** SDK attempts including the first (the standard retry strategy's `maxAttempts`). */
  readonly maxAttempts: number;
}

/**
 * For calls on a request path inside a VPC endpoint's reach (Secrets Manager, SSM, EventBridge, DynamoDB): they
 * answer in tens of milliseconds, so a second of connect and three of request already means something is wrong.
 */
export const DEFAULT_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 };

/**
 * The standard retry strategy waits, before retry i (0-based), a random time up to min(20 s, base x 2^i), with a
 * base of 100 ms and 500 ms for throttling errors (AWS SDKs and Tools reference guide, "Retry behavior":
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html; the constants DEFAULT_RETRY_DELAY_BASE,
 * THROTTLING_RETRY_DELAY_BASE and MAXIMUM_RETRY_DELAY of @smithy/core's retry module). The worst case takes the larger base.
 */
const STANDARD_RETRY_THROTTLING_BASE_MS = 500;
const STANDARD_RETRY_MAX_BACKOFF_MS = 20_000;

/**
 * Client configuration from deadlines. `throwOnRequestTimeout` matters: without it the Node HTTP handler of this SDK
 * line only logs a warning when `requestTimeout` passes and keeps waiting (see @smithy/types NodeHttpHandlerOptions).
 */
export function sdkClientConfig(deadlines: CallDeadlines = DEFAULT_CALL_DEADLINES): {
  readonly retryMode: 'standard';
  readonly maxAttempts: number;
  readonly requestHandler: { readonly connectionTimeout: number; readonly requestTimeout: number; readonly throwOnRequestTimeout: true };
} {
  return {
    retryMode: 'standard',
    maxAttempts: deadlines.maxAttempts,
    requestHandler: { connectionTimeout: deadlines.connectionTimeoutMs, requestTimeout: deadlines.requestTimeoutMs, throwOnRequestTimeout: true },
  };
}

/**
 * The longest one call can take: every attempt using its full connect and request deadlines, plus the largest
 * backoff between attempts. A caller with less time left than this (plus what it must do afterwards) does not start
 * the call: a call cut off by the Lambda timeout fails the whole batch, a call not started fails only its records.
 */
export function worstCaseCallMs(deadlines: CallDeadlines = DEFAULT_CALL_DEADLINES): number {
  let total = deadlines.maxAttempts * (deadlines.connectionTimeoutMs + deadlines.requestTimeoutMs);
  for (let retry = 0; retry < deadlines.maxAttempts - 1; retry += 1) {
    total += Math.min(STANDARD_RETRY_MAX_BACKOFF_MS, STANDARD_RETRY_THROTTLING_BASE_MS * 2 ** retry);
  }
  return total;
}

/** Any SDK v3 client constructor that accepts the configuration above. */
export type ClientConstructor<C> = new (config: ReturnType<typeof sdkClientConfig>) => C;

/**
 * Builds a client with the deadlines and, given observability, X-Ray subsegments per call. Tests pass endpoint and
 * credentials through `extra` (or AWS_ENDPOINT_URL) to point the same configuration at moto.
 */
export function createAwsClient<C>(
  Client: ClientConstructor<C>,
  options: { readonly deadlines?: CallDeadlines; readonly observability?: Pick<Observability, 'tracer'>; readonly extra?: Readonly<Record<string, unknown>> } = {},
): C {
  const client = new Client({ ...sdkClientConfig(options.deadlines), ...options.extra });
  return options.observability === undefined ? client : options.observability.tracer.captureAWSv3Client(client);
}
