/**
 * scripts/smoke-test.ts against a local API stand-in that checks every request's SigV4 signature by re-signing what it
 * received: the pipeline command's exit codes, and the retry and failure paths of runSmokeTest in-process.
 */
import { join } from 'node:path';
import { jsonMember } from '../../lambda/shared/json';
import { runSmokeTest, type SmokeCredentials, type SmokeTestOptions } from '../../scripts/smoke-test';
import { minimalEnv, REPO_ROOT, respond, runProcess, ScriptedServer } from './harness';
import { header, iamAuthorized, TEST_CREDENTIALS } from './sigv4-check';

const TS_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'ts-node');
const CREDENTIALS: SmokeCredentials = TEST_CREDENTIALS;

const ACCEPTED_ORDER = { status: 'ACCEPTED', symbol: 'SMOKE', rejectReason: null };

describe('scripts/smoke-test.ts (as the pipeline runs it)', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const env = (): NodeJS.ProcessEnv =>
    minimalEnv({
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      SMOKE_POLL_INITIAL_DELAY_MS: '50',
      SMOKE_POLL_MAX_DELAY_MS: '100',
      SMOKE_DEADLINE_SECONDS: '30',
    });

  it('places a signed order, polls through a 404 and exits 0 once the order is ACCEPTED', async () => {
    const problems: string[] = [];
    const origin = (): string => server?.origin ?? '';
    server = await ScriptedServer.start([
      iamAuthorized(origin, problems, respond(202, { messageId: 'm-1' })),
      iamAuthorized(origin, problems, respond(404, { message: 'Order not found' })),
      iamAuthorized(origin, problems, respond(200, ACCEPTED_ORDER)),
    ]);

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/smoke-test.ts', `${server.origin}/v1`], env());

    expect(problems).toEqual([]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    const [post, firstGet, secondGet] = server.received;
    expect(post?.method).toBe('POST');
    expect(post?.url).toBe('/v1/orders');
    expect(header(post ?? { method: '', url: '', headers: {}, body: '' }, 'content-type')).toBe('application/json');
    const order: unknown = JSON.parse(post?.body ?? '');
    expect(order).toEqual({
      clientOrderId: expect.stringMatching(/^smoke-\d{14}-[0-9a-f]{8}$/),
      accountId: 'smoke-test',
      symbol: 'SMOKE',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '1',
      limitPrice: '1.00',
      timeInForce: 'DAY',
    });
    const clientOrderId = String(jsonMember(order, 'clientOrderId') ?? '');
    expect(firstGet?.url).toBe(`/v1/orders/smoke-test.${clientOrderId}`);
    expect(secondGet?.url).toBe(`/v1/orders/smoke-test.${clientOrderId}`);
    expect(server.received).toHaveLength(3);
    expect(result.stdout).toContain(`POST ${server.origin}/v1/orders -> HTTP 202`);
    expect(result.stdout).toContain('-> HTTP 404');
    expect(result.stdout).toContain('not processed yet; retrying in');
    expect(result.stdout).toMatch(/smoke-test: PASSED in [\d.]+s: order smoke-test\.smoke-\d{14}-[0-9a-f]{8} is ACCEPTED/);
  });

  it('exits 1 when the API answers 403', async () => {
    server = await ScriptedServer.start([respond(403, { message: 'User is not authorized to access this resource' })]);

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/smoke-test.ts', `${server.origin}/v1`], env());

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('answered 403, expected 202: {"message":"User is not authorized to access this resource"}');
    expect(server.received).toHaveLength(1);
  });

  it('exits 2 without a base URL', async () => {
    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/smoke-test.ts'], env());
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('usage: smoke-test.ts <apiBaseUrl>');
  });
});

describe('runSmokeTest', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const options = (overrides: Partial<SmokeTestOptions> = {}): SmokeTestOptions => ({
    baseUrl: `${server?.origin ?? ''}/v1/`,
    accountId: 'smoke-acct',
    region: 'us-east-1',
    deadlineMs: 10_000,
    requestTimeoutMs: 2_000,
    pollInitialDelayMs: 20,
    pollMaxDelayMs: 50,
    ...overrides,
  });

  function deps(lines: string[], credentials: () => Promise<SmokeCredentials> = async () => CREDENTIALS) {
    return { fetch: globalThis.fetch, credentials, log: (line: string) => lines.push(line), clientOrderId: () => 'smoke-fixed-1' };
  }

  it('retries the POST through a 503 with the same order, and signs temporary credentials with their session token', async () => {
    const problems: string[] = [];
    const roleCredentials: SmokeCredentials = { ...CREDENTIALS, sessionToken: 'role-session-token' };
    const origin = (): string => server?.origin ?? '';
    server = await ScriptedServer.start([
      iamAuthorized(origin, problems, respond(503, { message: 'Service Unavailable' }), roleCredentials),
      iamAuthorized(origin, problems, respond(202, { messageId: 'm-2' }), roleCredentials),
      iamAuthorized(origin, problems, respond(200, ACCEPTED_ORDER), roleCredentials),
    ]);
    const lines: string[] = [];

    const result = await runSmokeTest(options(), deps(lines, async () => roleCredentials));

    expect(result).toEqual({ passed: true, orderId: 'smoke-acct.smoke-fixed-1' });
    expect(problems).toEqual([]);
    const [first, second] = server.received;
    expect(second?.body).toBe(first?.body);
    expect(header(first ?? { method: '', url: '', headers: {}, body: '' }, 'x-amz-security-token')).toBe('role-session-token');
    expect(lines.some((line) => line.includes('-> HTTP 503'))).toBe(true);
  });

  it('is refused by the stand-in when signed with another secret (the signature check is real)', async () => {
    const problems: string[] = [];
    server = await ScriptedServer.start([iamAuthorized(() => server?.origin ?? '', problems, respond(202, {}))]);
    const lines: string[] = [];

    const result = await runSmokeTest(options(), deps(lines, async () => ({ ...CREDENTIALS, secretAccessKey: 'some-other-secret' })));

    expect(problems).toEqual(['POST /v1/orders: signature does not match']);
    expect(result).toMatchObject({ passed: false, reason: expect.stringContaining('answered 403, expected 202') });
  });

  it('fails at once when the order was REJECTED', async () => {
    server = await ScriptedServer.start([respond(202, {}), respond(200, { status: 'REJECTED', rejectReason: 'trading disabled' })]);
    const lines: string[] = [];

    const result = await runSmokeTest(options(), deps(lines));

    expect(result).toMatchObject({ passed: false, reason: expect.stringContaining('has status "REJECTED", expected "ACCEPTED"') });
    expect(lines.at(-1)).toContain('trading disabled');
    expect(server.received).toHaveLength(2);
  });

  it('fails by the deadline when the order never shows up', async () => {
    server = await ScriptedServer.start([respond(202, {}), respond(404, { message: 'Order not found' })]);
    const lines: string[] = [];
    const started = Date.now();

    const result = await runSmokeTest(options({ deadlineMs: 800 }), deps(lines));

    expect(result).toMatchObject({ passed: false, reason: expect.stringContaining('was not ACCEPTED before the deadline; last answer: HTTP 404') });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.received.length).toBeGreaterThan(3);
  });

  it('fails without a request when there are no credentials', async () => {
    server = await ScriptedServer.start([respond(202, {})]);
    const lines: string[] = [];

    const result = await runSmokeTest(
      options(),
      deps(lines, async () => {
        throw new Error('Could not load credentials from any providers');
      }),
    );

    expect(result).toMatchObject({ passed: false, reason: 'no AWS credentials from the default provider chain: Could not load credentials from any providers' });
    expect(server.received).toEqual([]);
  });
});
