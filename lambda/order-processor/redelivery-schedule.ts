/**
 * The redelivery schedule of failed order records (pure, so that the CDK config can check it): exponential in the
 * receive count, capped, with jitter that never shortens a wait below three quarters of its step.
 */
/** The backoff, in seconds: the wait after receive n is in [3/4, 1] x min(max, base x 2^(n-1)). */
export interface RedeliverySchedule {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/** The platform's schedule: 5 s after the first failure, doubling, at most 5 minutes. */
export const DEFAULT_REDELIVERY: RedeliverySchedule = { baseSeconds: 5, maxSeconds: 300 };

/** SQS's limit for a visibility timeout: 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The wait before the next delivery of a record received `receiveCount` times. Jitter spreads the retries of many
 * groups failing together (a database failover) without ever shortening a wait below three quarters of its step.
 */
export function redeliveryDelaySeconds(receiveCount: number, schedule: RedeliverySchedule, random: () => number = Math.random): number {
  const step = Math.min(schedule.maxSeconds, schedule.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  const fraction = 0.75 + 0.25 * Math.min(Math.max(random(), 0), 1);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.round(step * fraction)));
}

/**
 * The shortest time a record can stay in the queue before SQS dead-letters it after `maxReceiveCount` receives:
 * the sum of the shortest waits. Config checks it against the longest outage a record must survive.
 */
export function minimumTimeToDeadLetterSeconds(maxReceiveCount: number, schedule: RedeliverySchedule): number {
  let total = 0;
  for (let receive = 1; receive < maxReceiveCount; receive += 1) total += redeliveryDelaySeconds(receive, schedule, () => 0);
  return total;
}

