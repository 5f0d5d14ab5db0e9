/**
 * Session lifecycle rules: create, read with sliding expiry, update and delete under optimistic locking.
 * Pure logic over its ports (store, clock, id generator, config); throws typed errors the handler maps to statuses.
 */
import { ConflictError, errorMessage, isTransientError, NotFoundError, TransientError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import type { Session } from '../shared/session-item';
import { hasTimeFor, type TimeBudget } from '../shared/time-budget';
import type { CreateSessionRequest, UpdateSessionRequest } from './session-request';

/**
 * The result of a conditional write: what was written, or (when the condition failed) what is there now and whether
 * the write had been sent before (an earlier attempt that timed out or lost its answer may have been applied).
 */
export type ConditionalOutcome =
  | { readonly applied: true; readonly session: Session }
  | { readonly applied: false; readonly current: Session | undefined; readonly resent: boolean };

/** The service's port to the session table. Every method that writes is conditional; none decides what a failure means. */
export interface SessionStore {
  /** The longest one call can take (every SDK attempt at its deadlines, plus backoff): checked before each call. */
  readonly worstCaseCallMs: number;
  /** Writes a new session; fails if the id is taken. */
  create(session: Session): Promise<ConditionalOutcome>;
  /** Strongly consistent read: a session written or updated a moment ago is seen. */
  read(sessionId: string): Promise<Session | undefined>;
  /** Moves expiry to `expiresAt` if the session exists, has not expired at `nowEpoch`, and would live longer. */
  extendExpiry(sessionId: string, expiresAt: number, nowEpoch: number): Promise<ConditionalOutcome>;
  /** Writes the change if the session exists, is at `expectedVersion` and has not expired at `nowEpoch`. */
  update(sessionId: string, expectedVersion: number, change: SessionChange, nowEpoch: number): Promise<ConditionalOutcome>;
  /** Deletes if the session exists, is at `expectedVersion` and has not expired at `nowEpoch`. */
  delete(sessionId: string, expectedVersion: number, nowEpoch: number): Promise<ConditionalOutcome>;
}

export interface SessionChange {
  readonly data: Session['data'];
  readonly version: number;
  readonly updatedAt: string;
  readonly expiresAt: number;
  /** Written with the change, so a resent or retried write recognises its own result. */
  readonly writeToken: string;
}

export interface SessionConfig {
  /** Lifetime after creation and after each use. */
  readonly ttlSeconds: number;
  /**
   * A read rewrites expiry only when that moves it by at least this much, so a client polling its session does not
   * turn every read into a write (and a stream record, and an audit event).
   */
  readonly refreshGranularitySeconds: number;
}

export interface SessionPorts {
  readonly store: SessionStore;
  readonly clock: () => Date;
  readonly newSessionId: () => string;
  readonly config: SessionConfig;
  readonly logger: LogPort;
  /** This invocation's remaining time. */
  readonly budget: TimeBudget;
}

/** Time kept after a store call for mapping its result and answering API Gateway. */
export const RESPONSE_RESERVE_MS = 250;

/** A write or delete named a version that is no longer current; the client must read again and reapply. */
export class StaleSessionVersionError extends ConflictError {
  constructor(
    readonly sessionId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`Session ${sessionId} is at version ${currentVersion}, not ${expectedVersion}: read it again and reapply the change`);
  }
}

/** The default granularity: a tenth of the lifetime, at most a minute. */
export function defaultRefreshGranularity(ttlSeconds: number): number {
  return Math.min(60, Math.ceil(ttlSeconds / 10));
}

/**
 * Creates a session written under `writeToken` (the request's idempotency token). When the SDK resends the PutItem
 * because the first answer was lost, the resend fails its own `attribute_not_exists` condition; the item it finds
 * carries this token, so the write is this request's and the answer is 201, not a conflict.
 */
export async function createSession(request: CreateSessionRequest, writeToken: string, ports: SessionPorts): Promise<Session> {
  const now = ports.clock();
  const timestamp = now.toISOString();
  const session: Session = {
    sessionId: ports.newSessionId(),
    accountId: request.accountId,
    data: request.data,
    version: 1,
    createdAt: timestamp,
    updatedAt: timestamp,
    expiresAt: epochSeconds(now) + ports.config.ttlSeconds,
    writeToken,
  };
  ensureTimeFor('PutItem', ports);
  const outcome = await ports.store.create(session);
  if (outcome.applied) return outcome.session;
  const current = outcome.current;
  if (current !== undefined && isOwnWrite(current, writeToken, 1, request.data) && current.accountId === request.accountId) {
    return recovered(current, outcome.resent, ports);
  }
  // Only a repeated random UUID gets here: a generator fault, not something a client can resolve.
  throw new ConflictError(`Session id ${session.sessionId} is already taken`);
}

/**
 * The live session, with expiry slid forward. An expired session is not found even while its item still exists:
 * DynamoDB TTL deletes lazily, often hours after `expiresAt`.
 */
export async function getSession(sessionId: string, ports: SessionPorts): Promise<Session> {
  const nowEpoch = epochSeconds(ports.clock());
  ensureTimeFor('GetItem', ports);
  const session = live(await ports.store.read(sessionId), nowEpoch);
  if (session === undefined) throw new NotFoundError('Session', sessionId);
  const expiresAt = nowEpoch + ports.config.ttlSeconds;
  if (expiresAt - session.expiresAt < ports.config.refreshGranularitySeconds) return session;
  if (!hasTimeFor(ports.budget, ports.store.worstCaseCallMs + RESPONSE_RESERVE_MS)) {
    // The read is the answer; a refresh that might outlive the invocation would turn it into a timeout.
    ports.logger.warn('session expiry not extended: not enough time left', { sessionId, remainingMs: ports.budget.remainingMs() });
    return session;
  }
  try {
    const outcome = await ports.store.extendExpiry(sessionId, expiresAt, nowEpoch);
    if (outcome.applied) return outcome.session;
    // Deleted or expired since the read; or a concurrent read extended it already, and then the current item is the answer.
    const current = live(outcome.current, nowEpoch);
    if (current === undefined) throw new NotFoundError('Session', sessionId);
    return current;
  } catch (err) {
    if (!isTransientError(err)) throw err;
    // The read succeeded; failing it because the expiry could not be moved would turn a throttle into an outage.
    ports.logger.warn('session expiry not extended', { sessionId, error: errorMessage(err) });
    return session;
  }
}

/**
 * Replaces `data` if the client's version is current; the new version is one more. Also slides expiry. A refused
 * condition whose item is at the next version, written under this `writeToken` with this data, is this request's own
 * write (the SDK resent it after a lost answer, or the client retried with the same Idempotency-Key): success.
 */
export async function updateSession(sessionId: string, request: UpdateSessionRequest, writeToken: string, ports: SessionPorts): Promise<Session> {
  const now = ports.clock();
  const nowEpoch = epochSeconds(now);
  const change: SessionChange = {
    data: request.data,
    version: request.expectedVersion + 1,
    updatedAt: now.toISOString(),
    expiresAt: nowEpoch + ports.config.ttlSeconds,
    writeToken,
  };
  ensureTimeFor('UpdateItem', ports);
  const outcome = await ports.store.update(sessionId, request.expectedVersion, change, nowEpoch);
  if (outcome.applied) return outcome.session;
  const current = live(outcome.current, nowEpoch);
  if (current !== undefined && isOwnWrite(current, writeToken, change.version, change.data)) return recovered(current, outcome.resent, ports);
  throw conditionFailure(sessionId, request.expectedVersion, outcome.current, nowEpoch);
}

/**
 * Deletes if the client's version is current. A deleted item keeps no token, so a resent DeleteItem that finds nothing
 * cannot prove the first attempt deleted it; it answers success anyway, because the session is gone, which is what
 * the client asked for (someone else's delete in between leaves the same state). A first attempt that finds nothing is 404.
 */
export async function deleteSession(sessionId: string, expectedVersion: number, ports: SessionPorts): Promise<void> {
  const nowEpoch = epochSeconds(ports.clock());
  ensureTimeFor('DeleteItem', ports);
  const outcome = await ports.store.delete(sessionId, expectedVersion, nowEpoch);
  if (outcome.applied) return;
  if (outcome.current === undefined && outcome.resent) {
    ports.logger.info('session delete resent after a lost answer found the session gone: answered as deleted', { sessionId, expectedVersion });
    return;
  }
  throw conditionFailure(sessionId, expectedVersion, outcome.current, nowEpoch);
}

/** The stored version is the one this request would have written: same token, the version it wrote, the same data. */
function isOwnWrite(current: Session, writeToken: string, version: number, data: Session['data']): boolean {
  // Data too, because a client-chosen Idempotency-Key could be reused for a different change.
  return current.writeToken === writeToken && current.version === version && current.data === data;
}

function recovered(current: Session, resent: boolean, ports: SessionPorts): Session {
  ports.logger.info('conditional write found already applied by this request: answered from the stored item', {
    sessionId: current.sessionId,
    version: current.version,
    writeToken: current.writeToken,
    // false: a client retry with the same Idempotency-Key rather than the SDK resending within this invocation.
    resent,
  });
  return current;
}

/**
 * Starts a store call only if its worst case ends inside the invocation: a call the Lambda timeout cuts off answers
 * the client with API Gateway's own 5xx after a long wait, whereas a call not started answers 503 with Retry-After now.
 */
function ensureTimeFor(operation: string, ports: SessionPorts): void {
  const neededMs = ports.store.worstCaseCallMs + RESPONSE_RESERVE_MS;
  if (hasTimeFor(ports.budget, neededMs)) return;
  throw new TransientError(`Not enough time left to call ${operation}: ${ports.budget.remainingMs()} ms remain, its worst case needs ${neededMs} ms`);
}

/**
 * Why a conditional write was refused, from the item as it was at that moment (returned by the same call, so the
 * reported version is the one that actually won, not one read later).
 */
function conditionFailure(sessionId: string, expectedVersion: number, current: Session | undefined, nowEpoch: number): Error {
  const alive = live(current, nowEpoch);
  if (alive === undefined) return new NotFoundError('Session', sessionId);
  return new StaleSessionVersionError(sessionId, expectedVersion, alive.version);
}

function live(session: Session | undefined, nowEpoch: number): Session | undefined {
  return session !== undefined && session.expiresAt > nowEpoch ? session : undefined;
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
