/**
 * Retries an async operation with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff
 * And Jitter"): delay = random() * min(maxDelay, base * 2^retry). Sleep and randomness are injectable for tests.
 */
import { ConfigurationError, isTransientError } from './errors';

export interface RetryInfo {
  /** The attempt that just failed, counting from 1. */
  readonly attempt: number;
  /** How long we wait before the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  /** Total attempts including the first; 1 means no retry. */
  readonly maxAttempts: number;
  /** Cap of the first backoff window; the window doubles per retry. */
  readonly baseDelayMs: number;
  /** Largest backoff window. */
  readonly maxDelayMs: number;
  /**
   * Whether a failure may be retried; the attempt that failed is passed, counting from 1.
   * @default isTransientError
   */
  readonly isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log or to discard a broken connection pool. Its errors propagate. */
  readonly onRetry?: (info: RetryInfo) => void | Promise<void>;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Backoff settings a caller may tune; `sleep` and `random` are there so tests run fast and deterministically. */
export type BackoffSettings = Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The full-jitter delay before retry number `retry` (0 for the wait after the first failure).
 * Exported so callers can reason about worst-case latency: the sum of the windows bounds the total wait.
 */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  // 2^retry overflows to Infinity for large retry counts; min() still caps it correctly.
  const window = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
  const fraction = Math.min(Math.max(random(), 0), 1);
  return Math.floor(fraction * window);
}

/**
 * Runs `operation` until it succeeds, a failure is not retryable, or attempts run out; then rethrows the last error
 * unchanged. Not an async function: an attempt that succeeds costs one promise beside the operation's own (this is on
 * every batch's path, and each promise costs more with the X-Ray SDK's async hooks loaded; docs/performance.md).
 */
export function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  try {
    validate(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const isRetryable = options.isRetryable ?? isTransientError;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const attempt = (number: number): Promise<T> => {
    let running: Promise<T>;
    try {
      running = operation(number);
    } catch (err) {
      // An operation that throws instead of rejecting is treated the same way.
      running = Promise.reject(err);
    }
    return running.catch(async (error: unknown) => {
      if (number >= options.maxAttempts || !isRetryable(error, number)) throw error;
      const delayMs = backoffDelay(number - 1, options.baseDelayMs, options.maxDelayMs, random);
      await options.onRetry?.({ attempt: number, delayMs, error });
      await sleep(delayMs);
      return attempt(number + 1);
    });
  };
  return attempt(1);
}

function validate(options: RetryOptions): void {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new ConfigurationError(`retry maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
  }
  if (!(options.baseDelayMs >= 0) || !(options.maxDelayMs >= 0)) {
    throw new ConfigurationError(
      `retry delays must be >= 0, got baseDelayMs=${options.baseDelayMs} maxDelayMs=${options.maxDelayMs}`,
    );
  }
}
