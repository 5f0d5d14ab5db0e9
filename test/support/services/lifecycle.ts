/**
 * Starts and stops the run's PostgreSQL and moto_server, and guarantees they die with the run.
 * Three layers: normal teardown, exit/signal handlers in the jest process, and a detached watchdog for SIGKILL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMotoCommand, startMoto, type MotoProcess } from './moto-server';
import {
  findPostgresBinDir,
  findRunuser,
  initCluster,
  isClusterReady,
  logTail,
  resolveRunAsUser,
  startCluster,
  stopCluster,
  stopClusterSync,
  writeServerSettings,
} from './postgres-server';
import { findFreePort, isProcessAlive, killProcessGroup, TestServiceError, waitUntil } from './process-utils';
import { DEFAULT_STATE_FILE, removeState, writeState, type PostgresControl, type ServicesState } from './state';
import type { StopMode } from './postgres-server';

export const POSTGRES_USER = 'test';
export const POSTGRES_PASSWORD = 'test';
export const POSTGRES_DATABASE = 'postgres';
export const AWS_REGION = 'us-east-1';

const PORT_ATTEMPTS = 3;

/** What the run started so far; filled in step by step so a failure half-way still cleans up what exists. */
interface Runtime {
  runId: string;
  tempDir: string;
  control?: PostgresControl;
  motoPid?: number;
  watchdogPid?: number;
  stopped: boolean;
  removeHandlers?: () => void;
}

// globalSetup and globalTeardown run in the same jest process; jest documents globalThis as the way to share.
const RUNTIME_KEY = Symbol.for('trading-platform.test-services.runtime');
type GlobalWithRuntime = typeof globalThis & { [RUNTIME_KEY]?: Runtime };

export async function startServices(): Promise<ServicesState> {
  const startedAt = Date.now();
  const { binDir, runAsUser } = checkPrerequisites();

  const runtime: Runtime = {
    runId: `${process.pid}-${randomBytes(4).toString('hex')}`,
    tempDir: mkdtempSync(join(tmpdir(), 'trading-test-services-')),
    stopped: false,
  };
  (globalThis as GlobalWithRuntime)[RUNTIME_KEY] = runtime;
  runtime.removeHandlers = installExitHandlers(runtime);
  runtime.watchdogPid = spawnWatchdog(runtime.tempDir, binDir, runAsUser, DEFAULT_STATE_FILE);

  const [postgres, moto] = await Promise.allSettled([
    startPostgres(runtime, binDir, runAsUser),
    startMotoOnFreePort(runtime),
  ]);
  if (postgres.status === 'rejected' || moto.status === 'rejected') {
    stopServicesSync(runtime);
    const reasons = [postgres, moto].flatMap((result) => (result.status === 'rejected' ? [errorMessage(result.reason)] : []));
    throw new TestServiceError(`Could not start the test services:\n${reasons.join('\n')}`);
  }
  const control = runtime.control;
  if (control === undefined || runtime.watchdogPid === undefined) {
    throw new TestServiceError('internal: services started without a recorded PostgreSQL control or watchdog');
  }

  const state: ServicesState = {
    version: 1,
    runId: runtime.runId,
    ownerPid: process.pid,
    tempDir: runtime.tempDir,
    postgres: {
      host: '127.0.0.1',
      port: postgres.value,
      user: POSTGRES_USER,
      password: POSTGRES_PASSWORD,
      database: POSTGRES_DATABASE,
      control,
    },
    aws: { endpoint: moto.value.endpoint, region: AWS_REGION, motoPid: moto.value.pid },
    watchdogPid: runtime.watchdogPid,
  };
  writeState(state);
  pointAwsSdkAtMoto(moto.value.endpoint);
  process.stdout.write(
    `\ntest services up in ${Date.now() - startedAt} ms: postgres 127.0.0.1:${postgres.value}, moto ${moto.value.endpoint}\n`,
  );
  return state;
}

/** Fails on missing binaries before anything is created, naming every missing piece and how to install it. */
function checkPrerequisites(): { binDir: string; runAsUser: string | null } {
  const problems: string[] = [];
  const attempt = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (err) {
      problems.push(errorMessage(err));
      return undefined;
    }
  };
  const binDir = attempt(findPostgresBinDir);
  const runAsUser = attempt(resolveRunAsUser);
  attempt(findMotoCommand);
  if (binDir === undefined || runAsUser === undefined || problems.length > 0) {
    throw new TestServiceError(`The test services cannot start:\n- ${problems.join('\n- ')}`);
  }
  return { binDir, runAsUser };
}

/** Normal teardown; also safe to call when setup failed half-way or teardown already ran. */
export async function stopServices(): Promise<void> {
  const runtime = (globalThis as GlobalWithRuntime)[RUNTIME_KEY];
  if (runtime === undefined || runtime.stopped) return;
  if (runtime.control !== undefined) {
    await stopCluster(runtime.control, 'immediate').catch(() => {
      // A test may have stopped it already; stopServicesSync below retries only if the pid file is still there.
    });
  }
  stopServicesSync(runtime);
}

function stopServicesSync(runtime: Runtime): void {
  if (runtime.stopped) return;
  runtime.stopped = true;
  runtime.removeHandlers?.();
  if (runtime.watchdogPid !== undefined) killProcessGroup(runtime.watchdogPid);
  if (runtime.control !== undefined) stopClusterSync(runtime.control);
  if (runtime.motoPid !== undefined) killProcessGroup(runtime.motoPid);
  rmSync(runtime.tempDir, { recursive: true, force: true });
  removeState(runtime.runId);
}

/** A PostgreSQL server owned by one test file, for outage tests: stopping it affects no other jest worker. */
export interface PrivatePostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Stops the server the way a failover (`immediate`) or an orderly shutdown (`fast`) would. */
  stop(mode?: StopMode): Promise<void>;
  /** Starts it again on the same data dir and port, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and deletes its files; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL for the calling test file only (initdb takes a second or two). A watchdog tied to
 * this worker's pid removes it if the worker is killed before close(), as it does for the run's shared server.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const { binDir, runAsUser } = checkPrerequisites();
  const runtime: Runtime = {
    runId: `${process.pid}-private-${randomBytes(4).toString('hex')}`,
    tempDir: mkdtempSync(join(tmpdir(), 'trading-test-pg-')),
    stopped: false,
  };
  runtime.removeHandlers = installExitHandlers(runtime);
  runtime.watchdogPid = spawnWatchdog(runtime.tempDir, binDir, runAsUser, '');
  let port: number;
  try {
    port = await startPostgres(runtime, binDir, runAsUser);
  } catch (err) {
    stopServicesSync(runtime);
    throw err;
  }
  const control = runtime.control;
  if (control === undefined) throw new TestServiceError('internal: private PostgreSQL started without a control record');
  return {
    host: '127.0.0.1',
    port,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    database: POSTGRES_DATABASE,
    stop: (mode: StopMode = 'fast') => stopCluster(control, mode),
    start: async () => {
      await startCluster(control);
      await waitUntil(`PostgreSQL on 127.0.0.1:${port}`, () => isClusterReady(control, port), { timeoutMs: 15_000 });
    },
    close: async () => {
      if (runtime.stopped) return;
      await stopCluster(control, 'immediate').catch(() => {
        // Already stopped by the test; the sync stop below only acts while the pid file exists.
      });
      stopServicesSync(runtime);
    },
  };
}

async function startPostgres(runtime: Runtime, binDir: string, runAsUser: string | null): Promise<number> {
  const control = await initCluster(binDir, runAsUser, {
    tempDir: runtime.tempDir,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
  });
  runtime.control = control;
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const port = await findFreePort();
    writeServerSettings(control, port);
    try {
      await startCluster(control);
      await waitUntil(`PostgreSQL on 127.0.0.1:${port}`, () => isClusterReady(control, port), { timeoutMs: 15_000 });
      return port;
    } catch (err) {
      lastError = err;
      // Only a port taken between probe and bind is worth another try; anything else is a real fault.
      if (!/could not bind|address already in use/i.test(logTail(control.logFile, 50))) break;
    }
  }
  throw lastError;
}

async function startMotoOnFreePort(runtime: Runtime): Promise<MotoProcess> {
  const logFile = join(runtime.tempDir, 'moto.log');
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    try {
      const moto = await startMoto(await findFreePort(), logFile);
      runtime.motoPid = moto.pid;
      // The watchdog reads this file: it learns moto's pid only now.
      writeFileSync(join(runtime.tempDir, 'moto.pid'), String(moto.pid));
      return moto;
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test(errorMessage(err))) break;
    }
  }
  throw lastError;
}

/**
 * Exit and signal handlers in the jest process. On a signal we clean up and then re-raise it, so jest still dies
 * the way the signal asked (our listener would otherwise swallow it).
 */
function installExitHandlers(runtime: Runtime): () => void {
  const onExit = (): void => stopServicesSync(runtime);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (signal: NodeJS.Signals): void => {
    stopServicesSync(runtime);
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  for (const signal of signals) process.once(signal, onSignal);
  return () => {
    process.removeListener('exit', onExit);
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
}

/**
 * A detached shell that outlives a SIGKILLed jest: it polls the jest pid and, once it is gone, stops PostgreSQL,
 * kills moto and deletes the temp dir. Teardown kills it first when all goes well.
 */
function spawnWatchdog(tempDir: string, binDir: string, runAsUser: string | null, stateFile: string): number {
  const script = [
    'owner="$1"; tmp="$2"; pgctl="$3"; runas="$4"; state="$5"; runuser="$6"',
    'while kill -0 "$owner" 2>/dev/null; do sleep 1; done',
    // A `pg_ctl start` the owner launched just before it died keeps going without it: give it the time to write its
    // pid file (or fail), so a server still starting is not missed and left running.
    'waited=0; while [ "$waited" -lt 10 ] && pgrep -f "pg_ctl.*$tmp/data" >/dev/null 2>&1; do sleep 1; waited=$((waited + 1)); done',
    'if [ -f "$tmp/data/postmaster.pid" ]; then',
    '  postmaster="$(head -n 1 "$tmp/data/postmaster.pid")"',
    '  if [ -n "$runas" ]; then "$runuser" -u "$runas" -- "$pgctl" stop -D "$tmp/data" -m immediate -s -t 10',
    '  else "$pgctl" stop -D "$tmp/data" -m immediate -s -t 10; fi',
    // pg_ctl gave up (or the pid file was stale): the postmaster goes anyway, and its children with it.
    '  if [ -n "$postmaster" ] && kill -0 "$postmaster" 2>/dev/null; then kill -9 "$postmaster" 2>/dev/null; fi',
    'fi',
    // dash's kill takes neither `--` nor `-s`: `kill -9 -PGID` is the portable form of a group kill.
    'if [ -f "$tmp/moto.pid" ]; then moto="$(cat "$tmp/moto.pid")"; kill -9 -"$moto" 2>/dev/null || kill -9 "$moto" 2>/dev/null; fi',
    'rm -rf "$tmp"',
    // The hand-over file still points at the dead servers; remove it if it is ours.
    'if [ -n "$state" ] && [ -f "$state" ] && grep -qF "$tmp" "$state"; then rm -f "$state"; fi',
  ].join('\n');
  const child = spawn(
    'sh',
    ['-c', script, 'test-services-watchdog', String(process.pid), tempDir, join(binDir, 'pg_ctl'), runAsUser ?? '', stateFile, runAsUser === null ? '' : findRunuser()],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  if (child.pid === undefined || !isProcessAlive(child.pid)) {
    throw new TestServiceError('could not start the test-services watchdog (sh)');
  }
  return child.pid;
}

/**
 * Any SDK client a test builds without explicit config (e.g. a handler's default client) must hit moto, never AWS.
 * The SDK v3 honours AWS_ENDPOINT_URL; the dummy credentials stop a developer's real ones from being picked up.
 */
function pointAwsSdkAtMoto(endpoint: string): void {
  process.env['AWS_ENDPOINT_URL'] = endpoint;
  process.env['AWS_REGION'] = AWS_REGION;
  process.env['AWS_DEFAULT_REGION'] = AWS_REGION;
  process.env['AWS_ACCESS_KEY_ID'] = 'testing';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'testing';
  delete process.env['AWS_SESSION_TOKEN'];
  delete process.env['AWS_PROFILE'];
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
