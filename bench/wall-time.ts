/**
 * Wall time of the two slow developer loops, `cdk synth` with bundling and `npm test`, each run once as a child
 * process with its output kept in a log file (printed in part only when the command fails).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface WallTime {
  readonly ms: number;
  readonly exitCode: number | null;
  readonly logFile: string;
}

/** The command's own timeout; a hung synth or test run must not hang the benchmark. */
const MAX_RUN_MS = 20 * 60_000;

export async function measureWallTime(command: string, args: readonly string[], options: { readonly env: NodeJS.ProcessEnv; readonly logFile: string }): Promise<WallTime> {
  const log = openSync(options.logFile, 'w');
  const started = process.hrtime.bigint();
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      // Its own process group, so a timeout can stop the whole tree (npm -> jest -> PostgreSQL, moto) and nothing else.
      const child = spawn(command, [...args], { cwd: path.join(__dirname, '..'), env: options.env, stdio: ['ignore', log, log], detached: true });
      const stopChild = (): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(stopChild, MAX_RUN_MS);
      // Detached, the child would not see the terminal's Ctrl-C: pass it on, then die of the signal as asked.
      const onSignal = (signal: NodeJS.Signals): void => {
        stopChild();
        process.kill(process.pid, signal);
      };
      const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      for (const signal of signals) process.once(signal, onSignal);
      const done = (): void => {
        clearTimeout(timer);
        for (const signal of signals) process.removeListener(signal, onSignal);
      };
      child.once('error', (err) => {
        done();
        reject(err);
      });
      child.once('exit', (code) => {
        done();
        resolve(code);
      });
    });
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, exitCode, logFile: options.logFile };
  } finally {
    closeSync(log);
  }
}

/** Jest's own summary lines ("Tests: 3 failed, 412 passed, 415 total"), for the table. */
export function jestSummary(logFile: string): string | undefined {
  const text = readFileSync(logFile, 'utf8');
  // Jest's default reporter ends both lines with "N total"; the project's summary reporter prints a "Tests:" line too.
  const lines = [...text.matchAll(/^(Test Suites|Tests):\s+(.+ total)$/gm)].map((match) => `${match[1]}: ${match[2]?.trim()}`);
  return lines.length > 0 ? lines.join('; ') : undefined;
}

/** The slowest test files by jest's own per-file time ("PASS test/x.test.ts (41.2 s)"), slowest first. */
export function slowestTestFiles(logFile: string, count = 3): { readonly file: string; readonly seconds: number }[] {
  const text = readFileSync(logFile, 'utf8');
  return [...text.matchAll(/^(?:PASS|FAIL) (\S+) \((\d+(?:\.\d+)?) s\)/gm)]
    .map((match) => ({ file: match[1] ?? '', seconds: Number(match[2]) }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count);
}

export function logTail(logFile: string, lines = 30): string {
  return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
}
