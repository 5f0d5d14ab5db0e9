/**
 * Helpers for the pipeline script tests: a scripted HTTP server on loopback that records what it received, and a
 * child-process runner that keeps this process's event loop free so the server can answer the script.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Answers one request; a responder that never calls `response.end` simulates a hung endpoint. */
export type Responder = (request: ReceivedRequest, response: ServerResponse) => void;

export class ScriptedServer {
  readonly received: ReceivedRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  /** `responders` are used in order per request; the last one repeats. */
  static async start(responders: readonly Responder[]): Promise<ScriptedServer> {
    if (responders.length === 0) throw new Error('at least one responder is needed');
    let instance: ScriptedServer | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received: ReceivedRequest = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const index = instance?.received.length ?? 0;
        instance?.received.push(received);
        const responder = responders[Math.min(index, responders.length - 1)];
        responder?.(received, response);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the scripted server has no TCP address');
    instance = new ScriptedServer(server, `http://127.0.0.1:${address.port}`);
    return instance;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function respond(status: number, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Responder {
  return (_request, response) => {
    response.writeHead(status, headers);
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

export const hang: Responder = () => undefined;

export interface ProcessResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Runs a command to completion whatever its exit code (asynchronously, so servers in this process keep answering). */
export function runProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { cwd: REPO_ROOT, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const elapsedMs = Date.now() - started;
      if (error === null) {
        resolve({ exitCode: 0, stdout, stderr, elapsedMs });
      } else if (typeof error.code === 'number') {
        resolve({ exitCode: error.code, stdout, stderr, elapsedMs });
      } else {
        reject(new Error(`${file} did not run to an exit code (${error.message})\n${stdout}${stderr}`, { cause: error }));
      }
    });
  });
}

/** PATH and HOME only, so nothing from the test run (AWS_* for moto, profiles) leaks into a script under test. */
export function minimalEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...extra };
}
