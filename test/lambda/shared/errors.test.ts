/**
 * The typed errors' messages and the transient-error classifier that decides what gets retried.
 * Real pg errors from a stopped server are covered in db.test.ts; here the shapes pg and the AWS SDK produce.
 */
import {
  ConfigurationError,
  ConflictError,
  isAuthenticationError,
  isConnectionError,
  isTransientError,
  NotFoundError,
  TransientError,
  ValidationError,
} from '../../../lambda/shared/errors';

/** What node-postgres throws for a server error: an Error with the SQLSTATE in `code`. */
const pgError = (code: string, message = 'server error'): Error => Object.assign(new Error(message), { code });

describe('typed errors', () => {
  it('ValidationError names the field and the value', () => {
    const error = new ValidationError('quantity', '-5', 'must be greater than 0');
    expect(error.message).toBe('Invalid quantity "-5": must be greater than 0');
    expect(error).toMatchObject({ name: 'ValidationError', field: 'quantity', value: '-5', retryable: false });
  });

  it('ValidationError keeps a huge value from flooding the message', () => {
    const error = new ValidationError('symbol', 'X'.repeat(10_000), 'too long');
    expect(error.message.length).toBeLessThan(150);
  });

  it('each type carries its name and retryability', () => {
    expect(new TransientError('db down', { cause: new Error('ECONNRESET') })).toMatchObject({ name: 'TransientError', retryable: true });
    expect(new ConfigurationError('DB_SECRET_ARN missing')).toMatchObject({ name: 'ConfigurationError', retryable: false });
    expect(new NotFoundError('Order', 'abc').message).toBe('Order "abc" not found');
    expect(new ConflictError('version mismatch')).toBeInstanceOf(Error);
  });
});

describe('isTransientError', () => {
  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    ['EPIPE', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
    ['57P01 admin_shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', pgError('57P02')],
    ['57P03 cannot_connect_now', pgError('57P03', 'the database system is starting up')],
    ['08006 connection_failure', pgError('08006')],
    ['08001 unable to connect', pgError('08001')],
    ['25006 read-only after failover', pgError('25006', 'cannot execute INSERT in a read-only transaction')],
    ['40001 serialization_failure', pgError('40001')],
    ['40P01 deadlock', pgError('40P01')],
    ['53300 too_many_connections', pgError('53300')],
    ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
    ['pg pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['an AggregateError of refused addresses', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])],
    ['a wrapped connection error', new Error('insert failed', { cause: pgError('57P01') })],
    ['AWS ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' })],
    ['AWS ProvisionedThroughputExceededException', Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' })],
    ['AWS 503', Object.assign(new Error('unavailable'), { name: 'Whatever', $metadata: { httpStatusCode: 503 } })],
    ['AWS $retryable', Object.assign(new Error('x'), { name: 'Whatever', $retryable: { throttling: true } })],
    ['TransientError', new TransientError('try later')],
  ])('treats %s as transient', (_case, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['a ValidationError', new ValidationError('side', 'HOLD', 'must be BUY or SELL')],
    ['a ConfigurationError wrapping a socket error', new ConfigurationError('bad', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })],
    ['23505 unique_violation', pgError('23505')],
    ['23514 check_violation', pgError('23514')],
    ['42P01 undefined_table', pgError('42P01')],
    ['28P01 invalid_password', pgError('28P01')],
    ['57014 statement timeout', pgError('57014', 'canceling statement due to statement timeout')],
    ['AWS AccessDeniedException', Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } })],
    ['a TypeError', new TypeError('x is undefined')],
    ['a string', 'ECONNRESET'],
    ['undefined', undefined],
  ])('does not retry %s', (_case, error) => {
    expect(isTransientError(error)).toBe(false);
  });

  it('survives a cyclic cause chain', () => {
    const error = new Error('loop') as Error & { cause?: unknown };
    error.cause = error;
    expect(isTransientError(error)).toBe(false);
  });
});

describe('isConnectionError / isAuthenticationError', () => {
  it('separates broken connections from healthy-connection retries', () => {
    expect(isConnectionError(pgError('57P01'))).toBe(true);
    expect(isConnectionError(pgError('25006'))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated'))).toBe(true);
    expect(isConnectionError(new TransientError('db', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isConnectionError(pgError('40001'))).toBe(false);
    expect(isConnectionError(pgError('23505'))).toBe(false);
  });

  it('recognises rejected credentials', () => {
    expect(isAuthenticationError(pgError('28P01'))).toBe(true);
    expect(isAuthenticationError(pgError('28000'))).toBe(true);
    expect(isAuthenticationError(pgError('57P01'))).toBe(false);
  });
});
