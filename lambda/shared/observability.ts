/**
 * Creates the Powertools logger, metrics (EMF, namespace TradingPlatform) and tracer once per function bundle.
 * Also defines LogPort, the narrow logging interface pure logic depends on, so it never imports Powertools itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const METRICS_NAMESPACE = 'TradingPlatform';

/** What pure logic needs from a logger; Powertools' Logger satisfies it, and tests can pass a recorder. */
export interface LogPort {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** For callers that have nothing to log to. */
export const silentLogger: LogPort = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export interface ObservabilityOptions {
  /**
   * Dimensions added to every metric, e.g. `{ Environment: 'stg' }`. Keep them few: each is a CloudWatch cost multiplier.
   * @default none
   */
  readonly defaultDimensions?: Readonly<Record<string, string>>;
}

const instances = new Map<string, Observability>();

/**
 * The one Logger/Metrics/Tracer triple for `serviceName`. Repeated calls return the same instances, because
 * Metrics buffers per instance and a second one would flush separately (or never).
 * Log level and sampling come from the standard POWERTOOLS_* variables the function construct sets.
 */
export function createObservability(serviceName: string, options: ObservabilityOptions = {}): Observability {
  const existing = instances.get(serviceName);
  if (existing !== undefined) return existing;
  const created: Observability = {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName,
      ...(options.defaultDimensions === undefined ? {} : { defaultDimensions: { ...options.defaultDimensions } }),
    }),
    tracer: new Tracer({ serviceName }),
  };
  instances.set(serviceName, created);
  return created;
}

/** Wraps an SDK v3 client so each call becomes an X-Ray subsegment; a no-op when tracing is disabled (tests). */
export function traced<T>(observability: Observability, client: T): T {
  return observability.tracer.captureAWSv3Client(client);
}
