/**
 * scripts/health-gate.sh against a scripted local endpoint: it retries through 503s and hung requests until healthy,
 * gives up at the deadline, and does not take a 200 without a top-level "status":"ok" for healthy.
 */
import { join } from 'node:path';
import { hang, minimalEnv, REPO_ROOT, respond, runProcess, ScriptedServer, type ProcessResult } from './harness';

const SCRIPT = join(REPO_ROOT, 'scripts', 'health-gate.sh');

/** Short backoff and a 1 s curl limit, so a hung request costs one second. */
const FAST = {
  HEALTH_GATE_INITIAL_DELAY_MS: '100',
  HEALTH_GATE_MAX_DELAY_MS: '300',
  HEALTH_GATE_CONNECT_TIMEOUT: '1',
  HEALTH_GATE_MAX_TIME: '1',
};

function gate(args: readonly string[], env: Record<string, string> = FAST): Promise<ProcessResult> {
  return runProcess('bash', [SCRIPT, ...args], minimalEnv(env));
}

describe('health-gate.sh', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('retries through a 503 and a hung request, then passes on 200 with status ok', async () => {
    server = await ScriptedServer.start([
      respond(503, { status: 'error', checks: { writer: 'fail' } }),
      hang,
      respond(200, { status: 'ok', checks: { writer: 'ok' } }),
    ]);

    const result = await gate([`${server.origin}/v1/health`, '30']);

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`health-gate: waiting up to 30s for HTTP 200 with status "ok" from ${server.origin}/v1/health`);
    expect(lines[1]).toMatch(/^attempt 1 \([\d.]+s\): HTTP 503, body: \{"status":"error","checks":\{"writer":"fail"\}\}; retrying in [\d.]+s$/);
    expect(lines[2]).toMatch(/^attempt 2 \([\d.]+s\): request failed \(curl exit 28: .*timed out.*\); retrying in [\d.]+s$/i);
    expect(lines[3]).toMatch(/^attempt 3 \([\d.]+s\): HTTP 200, status ok: healthy$/);
    expect(lines).toHaveLength(4);
    expect(server.received.map((request) => `${request.method} ${request.url}`)).toEqual(Array(3).fill('GET /v1/health'));
  });

  it('fails with exit 1 once the deadline passes on an endpoint that never recovers', async () => {
    server = await ScriptedServer.start([respond(503, { status: 'error' })]);

    const result = await gate([`${server.origin}/v1/health`, '2']);

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/attempt \d+ \([\d.]+s\): HTTP 503, body: \{"status":"error"\}; deadline of 2s reached\n$/);
    expect(result.stderr).toMatch(/was not healthy within 2s after \d+ attempt\(s\)/);
    // Several attempts with growing (capped) waits, and no lingering far past the deadline.
    expect(server.received.length).toBeGreaterThanOrEqual(4);
    expect(result.elapsedMs).toBeLessThan(4_500);
  });

  it('does not take a 200 whose top-level status is not "ok" for healthy, even with a nested "status":"ok"', async () => {
    server = await ScriptedServer.start([respond(200, { status: 'degraded', checks: { writer: { status: 'ok' }, reader: { status: 'fail' } } })]);

    const result = await gate([`${server.origin}/v1/health`, '1']);

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('HTTP 200, body: {"status":"degraded"');
    expect(result.stdout).not.toContain('healthy\n');
  });

  it('accepts "status": "ok" in any JSON formatting', async () => {
    server = await ScriptedServer.start([respond(200, '{\n  "status" : "ok",\n  "checks": {}\n}\n')]);

    const result = await gate([`${server.origin}/v1/health`, '5']);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('attempt 1 (');
  });

  it.each([[[]], [['http://127.0.0.1:1/v1/health', 'soon']], [['ftp://example.com/health']]])('rejects the arguments %j with exit 2', async (args) => {
    const result = await gate(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('usage: ');
  });
});
