/**
 * The hand-over record between globalSetup and the test workers: where the services listen and how to control them.
 * Written as JSON to a file and to process.env, and validated on read so a stale or foreign file fails clearly.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isJsonObject } from '../../../lambda/shared/json';
import { TestServiceError } from './process-utils';

/** process.env key holding the whole record as JSON; jest workers inherit env set by globalSetup. */
export const STATE_ENV = 'TEST_SERVICES_JSON';
/** process.env key naming the record's file, for tools that only see the file (a debugger, psql helpers). */
export const STATE_FILE_ENV = 'TEST_SERVICES_FILE';

/** Repo-local and gitignored, so a person can find the endpoints of the running suite. */
export const DEFAULT_STATE_FILE = resolve(__dirname, '..', '..', '..', '.test-services', 'services.json');

export interface PostgresControl {
  readonly binDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The system user that owns the data dir and runs pg_ctl (`postgres` when the suite runs as root), or null for the current user. */
  readonly runAsUser: string | null;
}

export interface ServicesState {
  readonly version: 1;
  readonly runId: string;
  readonly ownerPid: number;
  readonly tempDir: string;
  readonly postgres: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
    readonly control: PostgresControl;
  };
  readonly aws: {
    readonly endpoint: string;
    readonly region: string;
    readonly motoPid: number;
  };
  readonly watchdogPid: number;
}

export function writeState(state: ServicesState, file = DEFAULT_STATE_FILE): void {
  const json = JSON.stringify(state, null, 2);
  mkdirSync(dirname(file), { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, json, { mode: 0o600 });
  renameSync(tmp, file);
  process.env[STATE_ENV] = JSON.stringify(state);
  process.env[STATE_FILE_ENV] = file;
}

/** Removes the state file only when it still describes this run, so a concurrent run's file survives. */
export function removeState(runId: string, file = process.env[STATE_FILE_ENV] ?? DEFAULT_STATE_FILE): void {
  try {
    if (existsSync(file) && parseState(readFileSync(file, 'utf8'), file).runId === runId) {
      rmSync(file, { force: true });
    }
  } catch {
    // A foreign or broken file is not ours to delete.
  }
  delete process.env[STATE_ENV];
  delete process.env[STATE_FILE_ENV];
}

export function readState(): ServicesState {
  const fromEnv = process.env[STATE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return parseState(fromEnv, `$${STATE_ENV}`);
  }
  const file = process.env[STATE_FILE_ENV] ?? DEFAULT_STATE_FILE;
  if (!existsSync(file)) {
    throw new TestServiceError(
      `Test services are not running (no $${STATE_ENV} and no ${file}). ` +
        'Run the tests through jest, whose globalSetup (test/support/services/global-setup.ts) starts them.',
    );
  }
  return parseState(readFileSync(file, 'utf8'), file);
}

function parseState(json: string, source: string): ServicesState {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new TestServiceError(`Test services record in ${source} is not valid JSON`, { cause: err });
  }
  if (!isJsonObject(value) || value['version'] !== 1 || !isJsonObject(value['postgres']) || !isJsonObject(value['aws'])) {
    throw new TestServiceError(`Test services record in ${source} has an unexpected shape; rerun jest to recreate it`);
  }
  const postgres = value['postgres'];
  const aws = value['aws'];
  const control = postgres['control'];
  if (
    typeof postgres['port'] !== 'number' ||
    typeof postgres['host'] !== 'string' ||
    typeof aws['endpoint'] !== 'string' ||
    !isJsonObject(control) ||
    typeof control['dataDir'] !== 'string'
  ) {
    throw new TestServiceError(`Test services record in ${source} is missing endpoints; rerun jest to recreate it`);
  }
  // The checks above cover every field a reader depends on; the writer is this harness, so the rest follows.
  return value as unknown as ServicesState;
}

