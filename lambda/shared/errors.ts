/**
 * Typed errors shared by every function, and the one classifier that decides whether a failure is worth retrying.
 * Each error becomes a status code or a batch-item failure in exactly one place: the handler that catches it.
 */

/** Base of every error this codebase throws on purpose; `name` is the subclass name so logs show the type. */
export abstract class AppError extends Error {
  /** Whether repeating the same operation later can succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that can never succeed as sent: a client error (400) or a rejected order, never retried. */
export class ValidationError extends AppError {
  readonly retryable = false;

  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`Invalid ${field} ${describeValue(value)}: ${reason}`);
  }
}

/** A fault expected to clear by itself (database failover, throttling): retry with backoff, then fail the item. */
export class TransientError extends AppError {
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The deployment is wrong (missing variable, malformed secret): retrying cannot help, an operator must act. */
export class ConfigurationError extends AppError {
  readonly retryable = false;
}

export class NotFoundError extends AppError {
  readonly retryable = false;

  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${JSON.stringify(id)} not found`);
  }
}

/** A write lost a race (optimistic-lock version mismatch, duplicate key with different content). */
export class ConflictError extends AppError {
  readonly retryable = false;
}

/**
 * Shows a rejected value in a message without letting a huge or hostile payload flood the logs.
 * Strings are JSON-quoted so that empty strings and whitespace stay visible.
 */
export function describeValue(value: unknown, maxLength = 80): string {
  let text: string;
  if (value === undefined) {
    text = 'undefined';
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // A cycle, a BigInt, or a structure too deep for the stack: String() of a deep array recurses as well.
      try {
        text = String(value);
      } catch {
        text = Array.isArray(value) ? '[array]' : `[${typeof value}]`;
      }
    }
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

/** Socket-level failures: the peer went away or could not be reached, typical during an Aurora failover. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  // Temporary DNS failure; cluster endpoints are CNAMEs that move on failover.
  'EAI_AGAIN',
]);

/** SQLSTATEs meaning the session is gone or pointed at the wrong server: reconnect (and re-resolve DNS) before retrying. */
const CONNECTION_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown: server stopping or failing over
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or Aurora Serverless resuming
  '25006', // read_only_sql_transaction: still connected to a writer that was just demoted to reader
]);

/** SQLSTATEs where the connection is healthy but this transaction lost a race or a slot; the same work can succeed later. */
const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
]);

/** Deep enough for wrapper-of-wrapper chains, shallow enough that a cyclic cause cannot loop. */
const MAX_CAUSE_DEPTH = 5;

/** node-postgres raises these as plain Errors without a code. */
const TRANSIENT_PG_MESSAGES: readonly RegExp[] = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /terminating connection due to administrator command/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Query read timeout/i,
];

/** AWS SDK v3 error names for throttling and server-side faults that the SDK's own retries did not absorb. */
const TRANSIENT_AWS_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Whether `err` is worth retrying: our TransientError, PostgreSQL connection/serialisation faults, socket errors,
 * and AWS throttling or 5xx. Follows `cause` chains and AggregateError members (Node reports a refused
 * multi-address connect that way). Unknown errors are not retried: retrying a bug only delays its report.
 */
export function isTransientError(err: unknown): boolean {
  return transientAt(err, 0);
}

function transientAt(err: unknown, depth: number): boolean {
  if (depth > MAX_CAUSE_DEPTH || typeof err !== 'object' || err === null) return false;
  // Our own errors carry a deliberate verdict; a non-retryable one wrapping a socket error stays non-retryable.
  if (err instanceof AppError) return err.retryable;
  if (isConnectionFailure(err)) return true;
  const code = stringProperty(err, 'code');
  if (code !== undefined && RETRYABLE_SQLSTATES.has(code)) return true;
  const name = stringProperty(err, 'name');
  if ((name !== undefined && TRANSIENT_AWS_NAMES.has(name)) || isRetryableAwsError(err)) return true;
  if (err instanceof AggregateError && err.errors.some((inner) => transientAt(inner, depth + 1))) return true;
  return 'cause' in err && transientAt(err.cause, depth + 1);
}

/**
 * The subset of transient errors that mean the database connection itself is broken or points at a server that
 * can no longer take writes. A connection pool seeing one should be discarded so the next attempt reconnects.
 */
export function isConnectionError(err: unknown): boolean {
  return matches(err, 0, isConnectionFailure);
}

/** PostgreSQL rejected the credentials (28P01 invalid_password, 28000): the secret may have just been rotated. */
export function isAuthenticationError(err: unknown): boolean {
  return matches(err, 0, (candidate) => {
    const code = stringProperty(candidate, 'code');
    return code === '28P01' || code === '28000';
  });
}

/**
 * PostgreSQL refused a value, not the connection: class 22 data exception (22P02 invalid JSON text, 22P05 an
 * unsupported \u0000 escape, 22021 a NUL byte, 22003 out of range), class 23 integrity constraint violation (a CHECK)
 * and class 54 program limit exceeded (54001 too deep to parse). The same statement will fail the same way again.
 */
export function isDataError(err: unknown): boolean {
  return matches(err, 0, (candidate) => {
    const code = stringProperty(candidate, 'code');
    return code !== undefined && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
  });
}

function isConnectionFailure(err: object): boolean {
  const code = stringProperty(err, 'code');
  if (code !== undefined) {
    if (TRANSIENT_NETWORK_CODES.has(code) || CONNECTION_SQLSTATES.has(code)) return true;
    // Class 08: connection exception (08000, 08003, 08006, 08001, 08004, ...).
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  const message = stringProperty(err, 'message');
  return message !== undefined && TRANSIENT_PG_MESSAGES.some((pattern) => pattern.test(message));
}

/** Applies `test` to the error, its AggregateError members and its cause chain (bounded, in case of cycles). */
function matches(err: unknown, depth: number, test: (candidate: object) => boolean): boolean {
  if (depth > MAX_CAUSE_DEPTH || typeof err !== 'object' || err === null) return false;
  if (test(err)) return true;
  if (err instanceof AggregateError && err.errors.some((inner) => matches(inner, depth + 1, test))) return true;
  return 'cause' in err && matches(err.cause, depth + 1, test);
}

/** SDK v3 marks retryable errors with `$retryable` and server faults with `$fault`/`$metadata.httpStatusCode`. */
function isRetryableAwsError(err: object): boolean {
  if ('$retryable' in err && typeof err.$retryable === 'object' && err.$retryable !== null) return true;
  if ('$fault' in err && err.$fault === 'server') return true;
  if ('$metadata' in err && typeof err.$metadata === 'object' && err.$metadata !== null) {
    const status = 'httpStatusCode' in err.$metadata ? err.$metadata.httpStatusCode : undefined;
    if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  }
  return false;
}

function stringProperty(err: object, key: string): string | undefined {
  const value: unknown = Reflect.get(err, key);
  return typeof value === 'string' ? value : undefined;
}

/** Extracts a readable message from anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : describeValue(err);
}
