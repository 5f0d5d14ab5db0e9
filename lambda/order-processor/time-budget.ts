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

/**
 * How an operation is retried within the invocation's time: everything but the budget and the retryability test,
 * which belong to each call. Built once per caller (the store builds one per statement kind), so that no call spreads
 * the policy into an options object of its own: each call builds only `retry`'s options, field by field (the spreads
 * cost on every batch's path, docs/performance.md, section 1).
 */
export interface BudgetedRetryPolicy extends BackoffSettings {
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
  /** Names the operation in log lines. */
  readonly operation: string;
  readonly logger: LogPort;
}

/** No time left for another attempt of an operation; transient, so the records fail and SQS delivers them again. */
export class OutOfTimeError extends TransientError {}

/**
 * Runs `operation` with `retry`, starting an attempt (and the backoff before it) only while `budget` has the attempt's
 * worst case plus `reserveMs` left. Not async itself (one promise less on every batch's path): the refusal to start is a
 * rejected promise all the same.
 */
export function retryWithinBudget<T>(
  operation: (attempt: number) => Promise<T>,
  policy: BudgetedRetryPolicy,
  budget: TimeBudget,
  isRetryable: (error: unknown, attempt: number) => boolean,
): Promise<T> {
  if (!hasTimeFor(budget, neededMs(policy))) {
    return Promise.reject(
      new OutOfTimeError(
        `${policy.operation} was not started: ${budget.remainingMs()} ms left, an attempt may take ${neededMs(policy)} ms with what must follow it`,
      ),
    );
  }
  return retry(operation, {
    maxAttempts: policy.maxAttempts,
    baseDelayMs: policy.baseDelayMs,
    maxDelayMs: policy.maxDelayMs,
    sleep: policy.sleep,
    random: policy.random,
    isRetryable,
    onRetry: ({ attempt, delayMs, error }) => {
      if (!hasTimeFor(budget, neededMs(policy), delayMs)) {
        policy.logger.warn(`${policy.operation} failed and there is no time left to retry`, {
          attempt,
          remainingMs: budget.remainingMs(),
          error: errorMessage(error),
        });
        // retry() propagates onRetry's error; rethrowing the original keeps its classification for the caller.
        throw error;
      }
      policy.logger.warn(`${policy.operation} failed, retrying`, { attempt, delayMs, error: errorMessage(error) });
    },
  });
}

/** One attempt's worst case plus what must follow it. */
function neededMs(policy: BudgetedRetryPolicy): number {
  return policy.attemptWorstCaseMs() + policy.reserveMs;
}
