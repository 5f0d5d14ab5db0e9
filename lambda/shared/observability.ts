/**
 * Creates the Powertools logger, metrics (EMF, namespace TradingPlatform) and tracer once per function bundle, and
 * wraps each function's deployed entry point with them (`lambdaEntryPoint`). Also defines LogPort, the narrow logging
 * interface pure logic depends on, so it never imports Powertools itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';

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

/**
 * A function's deployed entry point. On every invocation: the bundle's observability (created on the first one, when
 * the function's environment is in place, not at import, so tests can import the module), the Lambda context on each
 * log line, and the invocation traced by Powertools' `captureLambdaHandler` (see `tracedHandler`). `options` is read
 * on that first invocation too.
 */
export function lambdaEntryPoint<E, R>(
  serviceName: string,
  run: (event: E, context: Context | undefined, observability: Observability) => Promise<R>,
  options: () => ObservabilityOptions = () => ({}),
): (event: E, context?: Context) => Promise<R> {
  let traced: InvocationHandler<E, R> | undefined;
  return async (event, context) => {
    const observability = createObservability(serviceName, options());
    if (context !== undefined) observability.logger.addContext(context);
    traced ??= tracedHandler(observability.tracer, (tracedEvent: E, tracedContext: Context | undefined) => run(tracedEvent, tracedContext, observability));
    return traced(event, context);
  };
}

type InvocationHandler<E, R> = (event: E, context: Context | undefined) => Promise<R>;
type HandlerDescriptor = Parameters<ReturnType<Tracer['captureLambdaHandler']>>[2];

/**
 * `handler` wrapped by Powertools' `Tracer.captureLambdaHandler`: each invocation is the subsegment `## <_HANDLER>`
 * with the ColdStart and Service annotations and any error as metadata, and the SDK clients' subsegments
 * (createAwsClient) nest under it; a pass-through when tracing is disabled (outside Lambda, tests). The decorator is
 * applied as the function it is, to a descriptor, which is what TypeScript emits for `@tracer.captureLambdaHandler()`
 * on a class method: no class per handler, no decorator syntax for the bundler to lower, and no middy engine in
 * every bundle. Responses are not recorded as metadata (`captureResponse: false`): they carry session data and
 * orders, which have no place in traces.
 */
export function tracedHandler<E, R>(tracer: Tracer, handler: InvocationHandler<E, R>): InvocationHandler<E, R> {
  const descriptor = { value: handler };
  tracer.captureLambdaHandler({ captureResponse: false })({ handler }, 'handler', descriptor as unknown as HandlerDescriptor);
  return descriptor.value;
}
