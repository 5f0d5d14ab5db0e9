/**
 * Polling until a deadline for the pipeline's post-deploy scripts: what AWS produces asynchronously (logs, metrics,
 * an order on the reader) is asked for again with capped exponential backoff and jitter, never past the deadline.
 */
import { isTransientError } from '../lambda/shared/errors';
import { backoffDelay, defaultSleep } from '../lambda/shared/retry';
import { describeError, seconds } from './signed-api';

/** One look: found it, not yet (look again), or a verdict that waiting cannot change. */
export type Look<T> = { readonly status: 'found'; readonly value: T } | { readonly status: 'not-yet'; readonly reason: string } | { readonly status: 'failed'; readonly reason: string };

export type PollResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface PollClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export interface PollOptions {
  /** Epoch milliseconds after which no look starts. */
  readonly deadline: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly log: (line: string) => void;
  /** @default Date.now, setTimeout and Math.random */
  readonly clock?: Partial<PollClock>;
}

/** A look with less time than this would only time out and hide the last real answer. */
const MIN_LOOK_MS = 250;

export const defaultClock: PollClock = { now: Date.now, sleep: defaultSleep, random: Math.random };

/**
 * Looks until found, failed, or the deadline. A thrown error that may pass (throttling, 5xx, a timeout: the SDK has
 * already retried it a bounded number of times) counts as "not yet"; any other error (access denied, a missing
 * resource, a malformed request) is a verdict at once, since waiting would only hide it.
 */
export async function pollUntil<T>(what: string, look: () => Promise<Look<T>>, options: PollOptions): Promise<PollResult<T>> {
  const clock = { ...defaultClock, ...options.clock };
  let last = 'never looked: no time left before the deadline';
  for (let retry = 0; ; retry += 1) {
    if (clock.now() >= options.deadline) return { ok: false, reason: `${what}: not seen before the deadline; last: ${last}` };
    let result: Look<T>;
    try {
      result = await look();
    } catch (err) {
      if (!isTransientError(err)) return { ok: false, reason: `${what}: ${describeError(err)}` };
      result = { status: 'not-yet', reason: `transient error: ${describeError(err)}` };
    }
    if (result.status === 'found') return { ok: true, value: result.value };
    if (result.status === 'failed') return { ok: false, reason: `${what}: ${result.reason}` };
    last = result.reason;
    const spare = options.deadline - clock.now() - MIN_LOOK_MS;
    if (spare <= 0) return { ok: false, reason: `${what}: not seen before the deadline; last: ${last}` };
    const delay = Math.min(spare, Math.max(50, backoffDelay(retry, options.initialDelayMs, options.maxDelayMs, clock.random)));
    options.log(`  ${what}: ${last}; looking again in ${seconds(delay)}`);
    await clock.sleep(delay);
  }
}
