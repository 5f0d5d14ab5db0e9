/**
 * How much of the invocation is left, so that a caller starts an external call only when its worst case still ends
 * before the Lambda timeout: a call cut off by the timeout fails the whole invocation, a call not started fails cleanly.
 */
import type { Context } from 'aws-lambda';

/** The Lambda context in production, a fixed allowance in tests. Same shape as the order processor's TimeBudget. */
export interface TimeBudget {
  remainingMs(): number;
}

/** A budget from the Lambda context; without one (a direct call, a test), `fallbackMs` from now. */
export function lambdaTimeBudget(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, fallbackMs: number): TimeBudget {
  if (context !== undefined) return { remainingMs: () => context.getRemainingTimeInMillis() };
  const deadline = Date.now() + fallbackMs;
  return { remainingMs: () => deadline - Date.now() };
}

/** Whether `neededMs` (an attempt's worst case plus what must follow it) fits in what is left after waiting `waitMs`. */
export function hasTimeFor(budget: TimeBudget, neededMs: number, waitMs = 0): boolean {
  return budget.remainingMs() - waitMs >= neededMs;
}
