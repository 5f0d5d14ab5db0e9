/**
 * A run killed from outside (SIGKILL: no exit handler runs) leaves no PostgreSQL behind: the watchdog tied to the
 * owner's pid stops the server and deletes its files, also when the kill lands while the server is still starting.
 * Each case runs in a child process with its own TMPDIR, so what it leaves (or not) is told apart from every other
 * server on the machine.
 */
import { spawn, execFileSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..', '..');
const CHILD = path.join(__dirname, 'fixtures', 'hold-private-postgres.ts');

function processesUnder(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

/** The child of the running case: a case that fails before its own kill must not leave it holding the run open. */
let started: ChildProcess | undefined;

function startChild(tmp: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started = child;
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function until(what: string, check: () => boolean, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

describe('a test run killed with SIGKILL', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-safety-'));
    // initdb runs as the postgres user when the suite runs as root: it must be able to enter the directory.
    fs.chmodSync(tmp, 0o755);
  });
  afterEach(async () => {
    // A case that failed before its own kill: Jest would wait for the child ("did not exit one second after the test
    // run has completed"). Its watchdog stops what it started, as in the cases; the files go only after that, since
    // the watchdog needs the data directory to stop the server.
    const child = started;
    started = undefined;
    try {
      if (child !== undefined && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL');
        await until(`no process under ${tmp} after the cleanup kill`, () => processesUnder(tmp).length === 0, 30_000);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 40_000);

  /** What the services created under the child's TMPDIR (ts-node's compile cache lives there too, and is not ours). */
  const serverFiles = (): string[] => fs.readdirSync(tmp).filter((entry) => entry.startsWith('trading-test-'));

  it('leaves no server running once the server was up', async () => {
    const { child, output } = startChild(tmp);
    await until('the private server', () => /ready \d+/.test(output()), 60_000);
    expect(processesUnder(tmp).some((line) => /postgres/.test(line))).toBe(true);
    child.kill('SIGKILL');
    await until(`no process under ${tmp} (still: ${processesUnder(tmp).join('; ')})`, () => processesUnder(tmp).length === 0, 20_000);
    await until('the server files removed', () => serverFiles().length === 0, 5_000);
  }, 90_000);

  it('leaves no server running when the kill lands while the server is starting', async () => {
    const { child, output } = startChild(tmp);
    // The window that matters: `pg_ctl start` launched, its postmaster not yet listed in postmaster.pid. A watchdog
    // that looked only once, right after the owner died, found no pid file and left the server that came up after.
    await until('pg_ctl start under way', () => processesUnder(tmp).some((line) => /pg_ctl start/.test(line)), 60_000, 10);
    expect(output()).not.toMatch(/ready/);
    child.kill('SIGKILL');
    await until(`no process under ${tmp} (still: ${processesUnder(tmp).join('; ')})`, () => processesUnder(tmp).length === 0, 30_000);
    await until('the server files removed', () => serverFiles().length === 0, 5_000);
  }, 90_000);
});
