/**
 * Small process helpers for the test-service harness: free ports, binary lookup, bounded waiting, command runs.
 * Kept free of PostgreSQL and moto specifics so both servers share one way of spawning and waiting.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';

/** A test service could not be started or controlled; the message says what to do about it. */
export class TestServiceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestServiceError';
  }
}

/** Asks the kernel for a free TCP port on 127.0.0.1; the server binds it moments later, so callers retry on a clash. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) {
          reject(new TestServiceError('could not read the port of a probe socket'));
        } else {
          resolve(port);
        }
      });
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function isPortOpen(port: number, timeoutMs = 250): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

/** Finds an executable on PATH, like `command -v`; undefined when absent. */
export function findOnPath(binary: string, pathValue = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of pathValue.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `probe` until it returns true or the deadline passes. `describeFailure` is asked for extra detail
 * (usually a log tail) only when giving up, so the error says why the service never came up.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abortIf?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    const abortReason = options.abortIf?.();
    if (abortReason !== undefined) {
      throw new TestServiceError(`${what} failed to start: ${abortReason}`);
    }
    if (await probe()) return;
    if (Date.now() >= deadline) {
      throw new TestServiceError(`${what} did not become ready within ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; rejects with its output in the message so setup failures are self-explaining. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) {
          const output = `${stdout}${stderr}`.trim();
          reject(
            new TestServiceError(`${[file, ...args].join(' ')} failed: ${error.message}${output ? `\n${output}` : ''}`, {
              cause: error,
            }),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Synchronous variant for exit handlers, where no further event-loop turn is guaranteed. Never throws. */
export function runCommandSync(file: string, args: readonly string[], timeoutMs = 10_000): boolean {
  try {
    execFileSync(file, [...args], { stdio: 'ignore', timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Kills a process group started with `detached: true`, falling back to the single pid. Never throws. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: nothing to stop.
    }
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}
