/**
 * Retry with exponential backoff and full jitter: the delays it chooses, when it gives up, and what it rethrows.
 * Sleep and randomness are injected, so the test is exact and takes no wall-clock time.
 */
import { ConfigurationError, TransientError, ValidationError } from '../../../lambda/shared/errors';
import { backoffDelay, defaultSleep, retry, type RetryOptions } from '../../../lambda/shared/retry';

/** More sleeps than any test asks for: a retry loop that does not stop fails at once instead of running on. */
const SLEEP_LIMIT = 50;

function recorder(random: () => number = () => 0.5): { options: RetryOptions; sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      maxAttempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length > SLEEP_LIMIT) throw new Error(`retry slept ${sleeps.length} times: it does not stop`);
      },
      random,
    },
  };
}

/** Fails with `error` for the first `failures` calls, then returns 'ok'. */
function flaky(failures: number, error: () => unknown = () => new TransientError('database restarting')) {
  const calls: number[] = [];
  const operation = async (attempt: number): Promise<string> => {
    calls.push(attempt);
    if (calls.length <= failures) throw error();
    return 'ok';
  };
  return { operation, calls };
}

describe('backoffDelay', () => {
  it('doubles the window per retry and caps it at maxDelay', () => {
    const almostOne = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5].map((retryIndex) => backoffDelay(retryIndex, 100, 1_000, almostOne))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
  });

  it('uses full jitter: anywhere from 0 up to the window', () => {
    expect(backoffDelay(3, 100, 1_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 1_000, () => 0.25)).toBe(200);
    expect(backoffDelay(3, 100, 1_000, () => 0.5)).toBe(400);
  });

  it('stays within [0, min(max, base * 2^retry)) for real randomness', () => {
    for (let retryIndex = 0; retryIndex < 12; retryIndex += 1) {
      const window = Math.min(5_000, 50 * 2 ** retryIndex);
      for (let sample = 0; sample < 200; sample += 1) {
        const delay = backoffDelay(retryIndex, 50, 5_000);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(window);
      }
    }
  });

  it('does not overflow for very large retry counts', () => {
    expect(backoffDelay(5_000, 100, 1_000, () => 0.5)).toBe(500);
  });
});

describe('retry', () => {
  it('returns the first success without sleeping', async () => {
    const { options, sleeps } = recorder();
    const { operation, calls } = flaky(0);
    await expect(retry(operation, options)).resolves.toBe('ok');
    expect(calls).toEqual([1]);
    expect(sleeps).toEqual([]);
  });

  it('retries transient failures with growing jittered delays, then succeeds', async () => {
    const { options, sleeps } = recorder(() => 0.5);
    const { operation, calls } = flaky(3);
    await expect(retry(operation, options)).resolves.toBe('ok');
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('gives up after maxAttempts and rethrows the last error unchanged', async () => {
    const { options, sleeps } = recorder();
    let count = 0;
    const errors: TransientError[] = [];
    const operation = async (): Promise<never> => {
      count += 1;
      const error = new TransientError(`failure ${count}`);
      errors.push(error);
      throw error;
    };
    const thrown = await retry(operation, { ...options, maxAttempts: 3 }).catch((error: unknown) => error);
    expect(errors).toHaveLength(3);
    expect(thrown).toBe(errors[2]);
    expect(count).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry a non-retryable error', async () => {
    const { options, sleeps } = recorder();
    const { operation, calls } = flaky(1, () => new ValidationError('quantity', '-1', 'must be greater than 0'));
    await expect(retry(operation, options)).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toEqual([1]);
    expect(sleeps).toEqual([]);
  });

  it('does not retry unknown errors by default (a bug is not transient)', async () => {
    const { options } = recorder();
    const { operation, calls } = flaky(1, () => new TypeError('undefined is not a function'));
    await expect(retry(operation, options)).rejects.toBeInstanceOf(TypeError);
    expect(calls).toEqual([1]);
  });

  it('retries PostgreSQL connection failures by default', async () => {
    const { options } = recorder();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { operation, calls } = flaky(2, () => refused);
    await expect(retry(operation, options)).resolves.toBe('ok');
    expect(calls).toEqual([1, 2, 3]);
  });

  it('uses a custom isRetryable and reports each retry through onRetry', async () => {
    const { options } = recorder(() => 0);
    const seen: Array<{ attempt: number; delayMs: number; message: string }> = [];
    const { operation } = flaky(2, () => new Error('custom'));
    await retry(operation, {
      ...options,
      isRetryable: (error) => error instanceof Error && error.message === 'custom',
      onRetry: ({ attempt, delayMs, error }) => {
        seen.push({ attempt, delayMs, message: error instanceof Error ? error.message : '' });
      },
    });
    expect(seen).toEqual([
      { attempt: 1, delayMs: 0, message: 'custom' },
      { attempt: 2, delayMs: 0, message: 'custom' },
    ]);
  });

  it('with maxAttempts 1 runs once and never sleeps', async () => {
    const { options, sleeps } = recorder();
    const { operation, calls } = flaky(1);
    await expect(retry(operation, { ...options, maxAttempts: 1 })).rejects.toBeInstanceOf(TransientError);
    expect(calls).toEqual([1]);
    expect(sleeps).toEqual([]);
  });

  it('bounds the total wait by the sum of the windows', async () => {
    const { options, sleeps } = recorder(() => 0.999999);
    const { operation } = flaky(10);
    await expect(retry(operation, { ...options, maxAttempts: 6 })).rejects.toBeInstanceOf(TransientError);
    expect(sleeps).toEqual([99, 199, 399, 799, 999]);
  });

  it('rejects nonsensical options with a ConfigurationError naming the value', async () => {
    const { options } = recorder();
    const { operation } = flaky(0);
    await expect(retry(operation, { ...options, maxAttempts: 0 })).rejects.toThrow(
      new ConfigurationError('retry maxAttempts must be an integer >= 1, got 0'),
    );
    await expect(retry(operation, { ...options, maxAttempts: 1.5 })).rejects.toThrow(/got 1\.5$/);
    await expect(retry(operation, { ...options, baseDelayMs: -1 })).rejects.toThrow(
      new ConfigurationError('retry delays must be >= 0, got baseDelayMs=-1 maxDelayMs=1000'),
    );
    await expect(retry(operation, { ...options, maxDelayMs: -1 })).rejects.toThrow(/maxDelayMs=-1$/);
    await expect(retry(operation, { ...options, baseDelayMs: Number.NaN })).rejects.toThrow(/baseDelayMs=NaN/);
    await expect(retry(operation, { ...options, maxDelayMs: Number.NaN })).rejects.toThrow(/maxDelayMs=NaN/);
  });

  it('accepts zero delays (retry at once) as the lower bound', async () => {
    const { options, sleeps } = recorder();
    const { operation, calls } = flaky(2);
    await expect(retry(operation, { ...options, baseDelayMs: 0 })).resolves.toBe('ok');
    await expect(retry(flaky(1).operation, { ...options, maxDelayMs: 0 })).resolves.toBe('ok');
    expect(calls).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([0, 0, 0]);
  });

  it('waits with the real clock when no sleep is given', async () => {
    const { operation, calls } = flaky(1);
    const started = performance.now();
    // random 0.999999 with a 40 ms window: the one wait is 39 ms.
    await expect(retry(operation, { maxAttempts: 2, baseDelayMs: 40, maxDelayMs: 40, random: () => 0.999999 })).resolves.toBe('ok');
    expect(calls).toEqual([1, 2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });
});

describe('defaultSleep', () => {
  it('resolves after the given time, not before and not never', async () => {
    const started = performance.now();
    const woke = await Promise.race([
      defaultSleep(30).then(() => 'woke'),
      new Promise((resolve) => setTimeout(() => resolve('still asleep after 1 s'), 1_000)),
    ]);
    expect(woke).toBe('woke');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
