/**
 * Stand-in for @aws-lambda-powertools/tracer, aliased into one measured bundle variant only (never deployed): it shows
 * what the X-Ray SDK the Tracer pulls in costs in bundle size and init time, i.e. what dropping it would save.
 */
export class Tracer {
  /** Same shape as the Powertools constructor; the options are irrelevant to a tracer that records nothing. */
  constructor(_options?: { readonly serviceName?: string }) {}

  /** Off, so the handler subsegment (traceInvocation) is skipped too. */
  isTracingEnabled(): boolean {
    return false;
  }

  /** Lambda's active tracing still records the invocation; only the per-SDK-call subsegments are lost. */
  captureAWSv3Client<T>(client: T): T {
    return client;
  }
}
