/**
 * The order processor's configuration: environment variables parsed once at cold start, and the risk limits read
 * from SSM through Powertools Parameters, cached per container for PARAMETER_CACHE_SECONDS.
 */
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigurationError, errorMessage, isTransientError, TransientError } from '../shared/errors';
import { intEnv, requireEnv, type EnvSource } from '../shared/env';
import { parseRiskLimits, parseUsdAmount, type RiskLimits } from '../shared/runtime-parameters';
import { DEFAULT_REDELIVERY, type RedeliverySchedule } from './redelivery-schedule';

export interface ProcessorSettings {
  readonly eventBusName: string;
  /** SSM parameter name of the kill switch ("true" / "false"). */
  readonly tradingEnabledParameter: string;
  /** SSM parameter name of the max order notional (decimal string, USD). */
  readonly maxOrderNotionalParameter: string;
  /** Orders with notional at or above this are flagged `largeNotional` in their event. */
  readonly largeNotionalThreshold: string;
  /** How long SSM values are cached per container: the delay before a flipped kill switch takes effect. */
  readonly parameterCacheSeconds: number;
  /** The orders queue, whose failed records get a short visibility (redelivery.ts). */
  readonly ordersQueueUrl: string;
  readonly redelivery: RedeliverySchedule;
}

/**
 * EVENT_BUS_NAME, TRADING_ENABLED_PARAMETER, MAX_ORDER_NOTIONAL_PARAMETER, LARGE_NOTIONAL_THRESHOLD (required);
 * ORDERS_QUEUE_URL (required); PARAMETER_CACHE_SECONDS (default 30); REDELIVERY_BASE_SECONDS and
 * REDELIVERY_MAX_SECONDS (defaults 5 and 300). The DB_* variables are read by secretSettingsFromEnv.
 */
export function processorSettingsFromEnv(source: EnvSource = process.env): ProcessorSettings {
  return {
    eventBusName: requireEnv('EVENT_BUS_NAME', source),
    tradingEnabledParameter: requireEnv('TRADING_ENABLED_PARAMETER', source),
    maxOrderNotionalParameter: requireEnv('MAX_ORDER_NOTIONAL_PARAMETER', source),
    largeNotionalThreshold: parseUsdAmount('Environment variable LARGE_NOTIONAL_THRESHOLD', requireEnv('LARGE_NOTIONAL_THRESHOLD', source)),
    // An hour at most: a kill switch that takes longer than that to bite is no kill switch.
    parameterCacheSeconds: intEnv('PARAMETER_CACHE_SECONDS', 30, { min: 0, max: 3_600, source }),
    ordersQueueUrl: requireEnv('ORDERS_QUEUE_URL', source),
    redelivery: {
      baseSeconds: intEnv('REDELIVERY_BASE_SECONDS', DEFAULT_REDELIVERY.baseSeconds, { min: 1, max: 900, source }),
      maxSeconds: intEnv('REDELIVERY_MAX_SECONDS', DEFAULT_REDELIVERY.maxSeconds, { min: 1, max: 43_200, source }),
    },
  };
}

/** Loads the current limits; cached per container, so most calls cost nothing. */
export type RiskLimitsSource = () => Promise<RiskLimits>;

/**
 * Reads both parameters through `provider` and parses them by the shared rules (lambda/shared/runtime-parameters.ts).
 * A parameter that is missing or malformed is a ConfigurationError: the orders then fail and are retried or
 * dead-lettered, never decided against a guessed limit (rejecting them all would be irreversible).
 *
 * The parsed limits are kept for `parameterCacheSeconds` from the start of the read, here rather than in the
 * provider's cache: a batch within that window then costs one settled promise instead of two provider lookups, two
 * pattern checks and the promises around them (17 of the processor's own ~180 us per batch of one before
 * 2026-12-02, docs/performance.md section 1). Every read therefore asks the provider with `forceFetch`, so that its cache
 * cannot add a second window on top of this one: a flipped kill switch bites within `parameterCacheSeconds`, as
 * documented. Callers that arrive while a read is under way share it; a read that fails, or values that do not
 * parse, are not kept, so the next batch reads again.
 */
export function ssmRiskLimits(
  provider: Pick<SSMProvider, 'get'>,
  settings: Pick<ProcessorSettings, 'tradingEnabledParameter' | 'maxOrderNotionalParameter' | 'parameterCacheSeconds'>,
  now: () => number = Date.now,
): RiskLimitsSource {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await provider.get(name, { forceFetch: true });
    } catch (err) {
      // Powertools wraps the SDK error in GetParameterError with the SDK error as cause; the classifier follows it.
      if (isTransientError(err)) throw new TransientError(`Reading SSM parameter ${name} failed: ${errorMessage(err)}`, { cause: err });
      throw new ConfigurationError(`Cannot read SSM parameter ${name}: ${errorMessage(err)}`, { cause: err });
    }
  };
  const names = { tradingEnabled: settings.tradingEnabledParameter, maxOrderNotional: settings.maxOrderNotionalParameter };
  const load = async (): Promise<RiskLimits> => {
    const [tradingEnabled, maxOrderNotional] = await Promise.all([read(names.tradingEnabled), read(names.maxOrderNotional)]);
    return parseRiskLimits(names, { tradingEnabled, maxOrderNotional });
  };
  let current: { readonly limits: Promise<RiskLimits>; readonly expiresAt: number } | undefined;
  return () => {
    const startedAt = now();
    if (current === undefined || startedAt >= current.expiresAt) {
      const entry = { limits: load(), expiresAt: startedAt + settings.parameterCacheSeconds * 1_000 };
      current = entry;
      entry.limits.catch(() => {
        if (current === entry) current = undefined;
      });
    }
    return current.limits;
  };
}
