/**
 * The deep health verdict: every probe in parallel under its own timeout, and a per-container cache that lets
 * concurrent and repeated requests share one check, so health checkers cannot load the database.
 */
import { withDeadline } from '../shared/deadline';
import { errorMessage } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import type { ConfigSnapshot, Probe } from './probes';

export const CHECK_NAMES = ['writer', 'reader', 'sessions', 'config'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
export type CheckStatus = 'ok' | 'fail';

export interface HealthProbes {
  readonly writer: Probe<void>;
  readonly reader: Probe<void>;
  readonly sessions: Probe<void>;
  readonly config: Probe<ConfigSnapshot>;
}

/** The public verdict. It names dependencies and nothing else: no host, message or stack (those go to the log). */
export interface HealthReport {
  readonly status: 'ok' | 'unhealthy';
  readonly checks: Readonly<Record<CheckName, CheckStatus>>;
  /** The kill switch, when the config check could read it; trading being off is not a health failure. */
  readonly tradingEnabled?: boolean;
  /** When this verdict was reached (ISO 8601); a cached answer shows its age through it. */
  readonly checkedAt: string;
}

export interface HealthCheckOptions {
  /** Each probe's own limit; they run in parallel, so the whole check takes about this long at worst. */
  readonly timeoutMs: number;
  readonly clock: () => Date;
  readonly logger: LogPort;
}

/** Runs every probe in parallel. Never rejects: a probe's failure is its check's `fail`. */
export async function checkHealth(probes: HealthProbes, options: HealthCheckOptions): Promise<HealthReport> {
  const [writer, reader, sessions, config] = await Promise.all([
    runProbe('writer', probes.writer, options),
    runProbe('reader', probes.reader, options),
    runProbe('sessions', probes.sessions, options),
    runProbe('config', probes.config, options),
  ]);
  const checks: Record<CheckName, CheckStatus> = {
    writer: writer.status,
    reader: reader.status,
    sessions: sessions.status,
    config: config.status,
  };
  const healthy = CHECK_NAMES.every((name) => checks[name] === 'ok');
  return {
    status: healthy ? 'ok' : 'unhealthy',
    checks,
    ...(config.status === 'ok' ? { tradingEnabled: config.value.tradingEnabled } : {}),
    checkedAt: options.clock().toISOString(),
  };
}

type ProbeOutcome<T> = { readonly status: 'ok'; readonly value: T } | { readonly status: 'fail' };

/** A probe that does not answer in time fails; its request is aborted (SDK) or left to its own connection timeouts (pg). */
async function runProbe<T>(check: CheckName, probe: Probe<T>, options: HealthCheckOptions): Promise<ProbeOutcome<T>> {
  const started = Date.now();
  try {
    return { status: 'ok', value: await withDeadline(`${check} check`, options.timeoutMs, probe) };
  } catch (err) {
    // The only record of why: the response says which dependency, the log says what happened to it.
    options.logger.warn('health check failed', { check, elapsedMs: Date.now() - started, error: errorMessage(err) });
    return { status: 'fail' };
  }
}

export interface HealthCacheOptions {
  /** How long a verdict is reused, counted from when it was reached; 0 shares only checks already in flight. */
  readonly maxAgeMs: number;
  readonly clock: () => Date;
}

/**
 * Holds the container's last verdict, healthy or not: a failing database must not be probed harder because it
 * fails. Requests arriving while a check runs wait for that check instead of starting their own.
 */
export class HealthVerdictCache {
  private cached: { readonly report: HealthReport; readonly at: number } | undefined;
  private inFlight: Promise<HealthReport> | undefined;

  constructor(
    private readonly check: () => Promise<HealthReport>,
    private readonly options: HealthCacheOptions,
  ) {}

  async get(): Promise<HealthReport> {
    const cached = this.cached;
    if (cached !== undefined && this.options.clock().getTime() - cached.at < this.options.maxAgeMs) return cached.report;
    if (this.inFlight === undefined) {
      const running = this.check().then((report) => {
        this.cached = { report, at: this.options.clock().getTime() };
        return report;
      });
      this.inFlight = running;
      // Cleared on failure too, so one broken check does not stick for the life of the container.
      running.then(
        () => this.clearInFlight(running),
        () => this.clearInFlight(running),
      );
    }
    return this.inFlight;
  }

  private clearInFlight(finished: Promise<HealthReport>): void {
    if (this.inFlight === finished) this.inFlight = undefined;
  }
}
