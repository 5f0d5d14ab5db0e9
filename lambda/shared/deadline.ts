/**
 * Bounds one outside call in time: the call gets an AbortSignal that fires at the deadline, and the caller gets a
 * DeadlineExceededError then even if the call ignores the signal, so one hung dependency cannot stall the caller (the
 * health monitor's run, the health check's verdict).
 */
import { AppError } from './errors';

/** An operation did not finish within its time limit; `what` names it for the alert and the logs. */
export class DeadlineExceededError extends AppError {
  readonly retryable = true;

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} timed out after ${timeoutMs} ms`);
  }
}

/** Runs `operation` with a signal that aborts after `timeoutMs`; rejects with DeadlineExceededError at that moment. */
export async function withDeadline<T>(what: string, timeoutMs: number, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(what, timeoutMs);
      // Abort first so the request is torn down; the race below settles on the deadline either way.
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    // Promise.resolve().then turns a synchronous throw of `operation` into a rejection the race can see.
    return await Promise.race([Promise.resolve().then(() => operation(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
