/**
 * Session lifecycle rules: create, read with sliding expiry, update and delete under optimistic locking.
 * Pure logic over its ports (store, clock, id generator, config); throws typed errors the handler maps to statuses.
 */
import { ConflictError, errorMessage, isTransientError, NotFoundError } from '../shared/errors';
import type { LogPort } from '../shared/observability';
import type { Session } from '../shared/session-item';
import type { CreateSessionRequest, UpdateSessionRequest } from './session-request';

/** The result of a conditional write: what was written, or (when the condition failed) what is there now. */
export type ConditionalOutcome =
  | { readonly applied: true; readonly session: Session }
  | { readonly applied: false; readonly current: Session | undefined };

/** The service's port to the session table. Every method that writes is conditional; none decides what a failure means. */
export interface SessionStore {
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
}

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

export async function createSession(request: CreateSessionRequest, ports: SessionPorts): Promise<Session> {
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
  };
  const outcome = await ports.store.create(session);
  // Only a repeated random UUID gets here: a generator fault, not something a client can resolve.
  if (!outcome.applied) throw new ConflictError(`Session id ${session.sessionId} is already taken`);
  return outcome.session;
}

/**
 * The live session, with expiry slid forward. An expired session is not found even while its item still exists:
 * DynamoDB TTL deletes lazily, often hours after `expiresAt`.
 */
export async function getSession(sessionId: string, ports: SessionPorts): Promise<Session> {
  const nowEpoch = epochSeconds(ports.clock());
  const session = live(await ports.store.read(sessionId), nowEpoch);
  if (session === undefined) throw new NotFoundError('Session', sessionId);
  const expiresAt = nowEpoch + ports.config.ttlSeconds;
  if (expiresAt - session.expiresAt < ports.config.refreshGranularitySeconds) return session;
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

/** Replaces `data` if the client's version is current; the new version is one more. Also slides expiry. */
export async function updateSession(sessionId: string, request: UpdateSessionRequest, ports: SessionPorts): Promise<Session> {
  const now = ports.clock();
  const nowEpoch = epochSeconds(now);
  const change: SessionChange = {
    data: request.data,
    version: request.expectedVersion + 1,
    updatedAt: now.toISOString(),
    expiresAt: nowEpoch + ports.config.ttlSeconds,
  };
  const outcome = await ports.store.update(sessionId, request.expectedVersion, change, nowEpoch);
  if (outcome.applied) return outcome.session;
  throw conditionFailure(sessionId, request.expectedVersion, outcome.current, nowEpoch);
}

export async function deleteSession(sessionId: string, expectedVersion: number, ports: SessionPorts): Promise<void> {
  const nowEpoch = epochSeconds(ports.clock());
  const outcome = await ports.store.delete(sessionId, expectedVersion, nowEpoch);
  if (!outcome.applied) throw conditionFailure(sessionId, expectedVersion, outcome.current, nowEpoch);
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
