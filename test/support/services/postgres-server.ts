/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl start/stop on 127.0.0.1 and a free port.
 * Runs as the `postgres` system user when the suite runs as root, because initdb and postgres refuse root.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, isExecutable, runCommand, runCommandSync, TestServiceError } from './process-utils';
import type { PostgresControl } from './state';

export const POSTGRES_INSTALL_HINT =
  'Install the PostgreSQL server: `apt-get install -y postgresql` (Debian/Ubuntu), ' +
  'or set PG_BINDIR to the directory holding initdb, pg_ctl and postgres.';

const REQUIRED_BINARIES = ['initdb', 'pg_ctl', 'postgres', 'pg_isready'] as const;

/** Locates the server binaries: $PG_BINDIR, then `pg_config --bindir`, then the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  const explicit = env['PG_BINDIR'];
  if (explicit !== undefined && explicit !== '') candidates.push(explicit);
  const pgConfig = findOnPath('pg_config');
  if (pgConfig !== undefined) {
    try {
      candidates.push(execFileSync(pgConfig, ['--bindir'], { encoding: 'utf8' }).trim());
    } catch {
      // pg_config from libpq-dev alone may point at a bindir without a server; the checks below decide.
    }
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debianRoot, version, 'bin')));
  }
  const found = candidates.find((dir) => REQUIRED_BINARIES.every((binary) => isExecutable(join(dir, binary))));
  if (found === undefined) {
    const looked = candidates.length > 0 ? candidates.join(', ') : 'PATH and /usr/lib/postgresql';
    throw new TestServiceError(
      `PostgreSQL server binaries (${REQUIRED_BINARIES.join(', ')}) not found (looked in ${looked}). ${POSTGRES_INSTALL_HINT}`,
    );
  }
  return found;
}

/** Who runs the cluster: null for the current user, or the `postgres` system user when we are root. */
export function resolveRunAsUser(): string | null {
  if (process.getuid?.() !== 0) return null;
  const user = process.env['TEST_PG_RUN_AS'] ?? 'postgres';
  try {
    execFileSync('id', ['-u', user], { stdio: 'ignore' });
  } catch {
    throw new TestServiceError(
      `The tests run as root, and PostgreSQL refuses to run as root, but the system user "${user}" does not exist. ` +
        `${POSTGRES_INSTALL_HINT} (the Debian package creates the "postgres" user), or run the tests as a normal user.`,
    );
  }
  findRunuser();
  return user;
}

/** runuser lives in /usr/sbin, which a non-login PATH often lacks. */
export function findRunuser(): string {
  const found = findOnPath('runuser', `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin`);
  if (found === undefined) {
    throw new TestServiceError('The tests run as root and need `runuser` (util-linux) to start PostgreSQL as another user.');
  }
  return found;
}

function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Wraps a command so it runs as `runAsUser`; runuser keeps our environment, which pg_ctl needs nothing from. */
function asUser(control: Pick<PostgresControl, 'runAsUser'>, file: string, args: readonly string[]): [string, string[]] {
  return control.runAsUser === null ? [file, [...args]] : [findRunuser(), ['-u', control.runAsUser, '--', file, ...args]];
}

export interface InitOptions {
  readonly tempDir: string;
  readonly user: string;
  readonly password: string;
}

/** initdb with settings chosen for a disposable cluster: durability off, password auth on TCP, no unix socket. */
export async function initCluster(binDir: string, runAsUser: string | null, options: InitOptions): Promise<PostgresControl> {
  const dataDir = join(options.tempDir, 'data');
  const logFile = join(options.tempDir, 'postgres.log');
  const passwordFile = join(options.tempDir, 'pwfile');
  writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
  writeFileSync(logFile, '', { mode: 0o600 });
  if (runAsUser !== null) {
    const { uid, gid } = userIds(runAsUser);
    for (const path of [options.tempDir, passwordFile, logFile]) chownSync(path, uid, gid);
  }
  const control: PostgresControl = { binDir, dataDir, logFile, runAsUser };
  const [file, args] = asUser(control, join(binDir, 'initdb'), [
    '--pgdata',
    dataDir,
    '--username',
    options.user,
    '--pwfile',
    passwordFile,
    '--auth-host',
    'scram-sha-256',
    '--auth-local',
    'trust',
    '--encoding',
    'UTF8',
    '--locale',
    'C',
    // The cluster dies with the run, so skipping fsync at init is free speed.
    '--no-sync',
  ]);
  await runCommand(file, args, { timeoutMs: 60_000 });
  const conf = join(dataDir, 'postgresql.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\ninclude = 'test-services.conf'\n`);
  return control;
}

/** (Re)writes the included settings file; called again with a new port when the first one was taken meanwhile. */
export function writeServerSettings(control: PostgresControl, port: number): void {
  const settings = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    // TCP only: a socket path in the temp dir could exceed the 107-byte limit, and tests connect over TCP anyway.
    "unix_socket_directories = ''",
    // Durability is worthless for a cluster deleted after the run; these make DDL and commits several times faster.
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'autovacuum = off',
    'max_connections = 200',
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    'log_min_messages = warning',
    'logging_collector = off',
  ].join('\n');
  const file = join(control.dataDir, 'test-services.conf');
  writeFileSync(file, `${settings}\n`);
  if (control.runAsUser !== null) {
    const { uid, gid } = userIds(control.runAsUser);
    chownSync(file, uid, gid);
  }
}

export async function startCluster(control: PostgresControl, timeoutSeconds = 30): Promise<void> {
  const [file, args] = asUser(control, join(control.binDir, 'pg_ctl'), [
    'start',
    '--pgdata',
    control.dataDir,
    '--log',
    control.logFile,
    '--wait',
    '--timeout',
    String(timeoutSeconds),
    '--silent',
  ]);
  try {
    await runCommand(file, args, { timeoutMs: (timeoutSeconds + 5) * 1000 });
  } catch (err) {
    throw new TestServiceError(`PostgreSQL did not start in ${control.dataDir}:\n${logTail(control.logFile)}`, { cause: err });
  }
}

export type StopMode = 'smart' | 'fast' | 'immediate';

export async function stopCluster(control: PostgresControl, mode: StopMode = 'fast'): Promise<void> {
  const [file, args] = asUser(control, join(control.binDir, 'pg_ctl'), [
    'stop',
    '--pgdata',
    control.dataDir,
    '--mode',
    mode,
    '--wait',
    '--silent',
  ]);
  await runCommand(file, args, { timeoutMs: 30_000 });
}

/** For exit handlers: best effort, synchronous, never throws. */
export function stopClusterSync(control: PostgresControl): void {
  if (!existsSync(join(control.dataDir, 'postmaster.pid'))) return;
  const [file, args] = asUser(control, join(control.binDir, 'pg_ctl'), [
    'stop',
    '--pgdata',
    control.dataDir,
    '--mode',
    'immediate',
    '--wait',
    '--silent',
  ]);
  runCommandSync(file, args);
}

/** pg_isready over TCP: exit 0 means the server accepts connections. */
export async function isClusterReady(control: PostgresControl, port: number): Promise<boolean> {
  try {
    await runCommand(join(control.binDir, 'pg_isready'), ['--host', '127.0.0.1', '--port', String(port), '--timeout', '2'], {
      timeoutMs: 5_000,
    });
    return true;
  } catch {
    return false;
  }
}

export function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${logFile})`;
  }
}
