/**
 * Retries bounded by the invocation's remaining time: an attempt whose worst case would outlive the Lambda timeout is
 * not started (nor the backoff before it), so the records fail cleanly as batch-item failures (and SQS redelivers
 * them) instead of the whole batch timing out.
 */
import { errorMessage, TransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import { retry, type BackoffSettings } from '../shared/retry';
import { hasTimeFor, type TimeBudget } from '../shared/time-budget';

// The one budget type, Lambda adapter and backoff settings, shared with the other functions.
export { lambdaTimeBudget, type TimeBudget } from '../shared/time-budget';
export type { BackoffSettings } from '../shared/retry';

export interface BudgetedRetryOptions extends BackoffSettings {
  readonly budget: TimeBudget;
  /**
   * Time that must remain after a backoff: enough for one more attempt plus the rest of the invocation (publishing,
   * returning the response). A wait that would leave less is skipped and the last error is thrown instead.
   */
  readonly reserveMs: number;
  /**
   * The longest one attempt can take (every deadline inside it used up). An attempt starts only while this plus
   * `reserveMs` is left, the first one included: an attempt the Lambda timeout cuts off fails the whole batch
   * without a partial response, while one not started fails only its records.
   */
  readonly attemptWorstCaseMs: () => number;
  readonly isRetryable: (error: unknown, attempt: number) => boolean;
  /** Names the operation in log lines. */
  readonly operation: string;
  readonly logger: LogPort;
}

/** No time left for another attempt of an operation; transient, so the records fail and SQS delivers them again. */
export class OutOfTimeError extends TransientError {}

/** Not async itself (one promise less on every batch's path): the refusal to start is a rejected promise all the same. */
export function retryWithinBudget<T>(operation: (attempt: number) => Promise<T>, options: BudgetedRetryOptions): Promise<T> {
  const needed = (): number => options.attemptWorstCaseMs() + options.reserveMs;
  if (!hasTimeFor(options.budget, needed())) {
    return Promise.reject(
      new OutOfTimeError(
        `${options.operation} was not started: ${options.budget.remainingMs()} ms left, an attempt may take ${needed()} ms with what must follow it`,
      ),
    );
  }
  return retry(operation, {
    maxAttempts: options.maxAttempts,
    baseDelayMs: options.baseDelayMs,
    maxDelayMs: options.maxDelayMs,
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    ...(options.random === undefined ? {} : { random: options.random }),
    isRetryable: options.isRetryable,
    onRetry: ({ attempt, delayMs, error }) => {
      if (!hasTimeFor(options.budget, needed(), delayMs)) {
        options.logger.warn(`${options.operation} failed and there is no time left to retry`, {
          attempt,
          remainingMs: options.budget.remainingMs(),
          error: errorMessage(error),
        });
        // retry() propagates onRetry's error; rethrowing the original keeps its classification for the caller.
        throw error;
      }
      options.logger.warn(`${options.operation} failed, retrying`, { attempt, delayMs, error: errorMessage(error) });
    },
  });
}
