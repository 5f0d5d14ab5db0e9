/**
 * One moto_server (AWS API emulator) on 127.0.0.1 and a free port, in its own process group so it can be killed whole.
 * Prefers the `moto_server` script on PATH and falls back to `python3 -m moto.server`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { findOnPath, killProcessGroup, TestServiceError, waitUntil } from './process-utils';

export const MOTO_INSTALL_HINT = "Install the AWS API emulator: `pip install 'moto[server]'` (it provides `moto_server`).";

export interface MotoProcess {
  readonly pid: number;
  readonly endpoint: string;
}

/** The command that runs moto_server; throws with the install hint when there is none. */
export function findMotoCommand(): [string, string[]] {
  const script = findOnPath('moto_server');
  if (script !== undefined) return [script, []];
  const python = findOnPath('python3');
  if (python !== undefined && spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0) {
    return [python, ['-m', 'moto.server']];
  }
  throw new TestServiceError(`moto_server not found on PATH and \`python3 -m moto.server\` is unavailable. ${MOTO_INSTALL_HINT}`);
}

/** Any HTTP answer at all means moto's WSGI app is serving. */
function answersHttp(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/moto-api/`, { method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

export async function startMoto(port: number, logFile: string, timeoutMs = 20_000): Promise<MotoProcess> {
  const [file, prefixArgs] = findMotoCommand();
  // A log file rather than a pipe: moto logs every request, and a pipe nobody drains would stall or break it.
  const logFd = openSync(logFile, 'a', 0o600);
  const child = spawn(file, [...prefixArgs, '--host', '127.0.0.1', '--port', String(port)], {
    // Own process group: a terminal Ctrl-C does not reach it mid-cleanup, and the group kill gets any wrapper too.
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    throw new TestServiceError(`could not spawn ${file}. ${MOTO_INSTALL_HINT}`);
  }
  let exitReason: string | undefined;
  child.once('exit', (code, signal) => {
    exitReason = `exited with ${signal ?? `code ${code ?? 'unknown'}`}`;
  });
  // The parent must not wait on moto to exit; teardown and the exit handlers kill it.
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(`moto_server on ${endpoint}`, () => answersHttp(endpoint), {
      timeoutMs,
      intervalMs: 50,
      abortIf: () => (exitReason === undefined ? undefined : `${exitReason}\n${fileTail(logFile)}`),
    });
  } catch (err) {
    killProcessGroup(pid);
    const message = err instanceof Error ? err.message : String(err);
    const hint = /not found|No module named/i.test(fileTail(logFile)) ? ` ${MOTO_INSTALL_HINT}` : '';
    throw new TestServiceError(`${message}${hint}`, { cause: err });
  }
  return { pid, endpoint };
}

function fileTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
