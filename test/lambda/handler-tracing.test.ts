/**
 * Every function's deployed entry point is traced at handler level: run as Lambda runs it (a fresh process with the
 * runtime's tracing environment) against a local UDP listener standing in for the X-Ray daemon, each invocation sends
 * the `## index.handler` subsegment with the ColdStart and Service annotations that Powertools' captureLambdaHandler
 * adds, and the error that failed it. A new function under lambda/ is checked without being listed here.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = join(__dirname, '..', '..');
const LAMBDA_ROOT = join(REPO_ROOT, 'lambda');
const FUNCTIONS = readdirSync(LAMBDA_ROOT)
  .filter((name) => name !== 'shared' && existsSync(join(LAMBDA_ROOT, name, 'handler.ts')))
  .sort();

/**
 * A trace header as Lambda sets it in _X_AMZN_TRACE_ID for a sampled invocation (Root, Parent, Sampled: "Tracing
 * header", https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
 */
const TRACE_ID = '1-5759e988-bd862e3fe1be46a994272793';
const TRACE_HEADER = `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`;

/**
 * What the X-Ray SDK sends the daemon: one UDP datagram per (sub)segment, a JSON header line then the segment
 * document ("Sending segment documents to the X-Ray daemon",
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-daemon).
 */
interface SegmentDocument {
  readonly name: string;
  readonly trace_id?: string;
  readonly type?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
  readonly error?: boolean;
  readonly fault?: boolean;
  readonly cause?: { readonly exceptions?: ReadonlyArray<{ readonly message?: string }> };
}

let daemon: Socket;
const received: SegmentDocument[] = [];
let taskRoot: string;

beforeAll(async () => {
  taskRoot = mkdtempSync(join(tmpdir(), 'handler-tracing-'));
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const [header, body] = message.toString('utf8').split('\n', 2);
    if (header !== undefined && JSON.parse(header).format === 'json' && body !== undefined) received.push(JSON.parse(body) as SegmentDocument);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
});

afterAll(() => {
  daemon.close();
  rmSync(taskRoot, { recursive: true, force: true });
});

/** A Lambda context object as the runtime passes it (the fields Powertools Logger reads). */
function contextSource(name: string): string {
  return `{ functionName: 'lambda-${name}-test', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:lambda-${name}-test', memoryLimitInMB: '256', awsRequestId: 'request-1', logGroupName: 'group', logStreamName: 'stream', getRemainingTimeInMillis: () => 10000 }`;
}

/** Calls the module's exported handler twice in one fresh process, as two invocations of one execution environment. */
async function invokeTwice(name: string): Promise<string[]> {
  const script = `
    const { handler } = require(${JSON.stringify(join(LAMBDA_ROOT, name, 'handler.ts'))});
    const context = ${contextSource(name)};
    (async () => {
      const outcomes = [];
      for (let invocation = 0; invocation < 2; invocation += 1) {
        try { await handler({}, context); outcomes.push('returned'); } catch (err) { outcomes.push('failed: ' + err.message); }
      }
      process.stdout.write(JSON.stringify(outcomes));
    })();`;
  return JSON.parse(await runAsLambda(name, script)) as string[];
}

/** Runs `script` in a fresh node process with the environment Lambda gives a traced function; returns its stdout. */
async function runAsLambda(name: string, script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: REPO_ROOT,
    timeout: 60_000,
    // The runtime's own variables ("Defined runtime environment variables",
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime) and none
    // of the function's: the wiring fails on the first one it needs, fast and without calling anything, which the
    // handler subsegment must record as well as it records a success.
    env: {
      PATH: process.env['PATH'] ?? '',
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_LAMBDA_FUNCTION_NAME: `lambda-${name}-test`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
      _HANDLER: 'index.handler',
      _X_AMZN_TRACE_ID: TRACE_HEADER,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return stdout;
}

/** Waits until `count` handler subsegments of `service` arrived (UDP is sent as the subsegment closes). */
async function handlerSubsegments(service: string, count: number): Promise<SegmentDocument[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = received.filter((document) => document.name === '## index.handler' && document.annotations?.['Service'] === service);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('finds every function', () => {
  expect(FUNCTIONS).toEqual(expect.arrayContaining(['db-migrate', 'health', 'health-monitor', 'order-processor', 'order-query', 'session-stream', 'sessions']));
});

it.each(FUNCTIONS)('%s: each invocation is the handler subsegment, annotated with ColdStart and Service, with its error', async (name) => {
  const outcomes = await invokeTwice(name);
  expect(outcomes).toHaveLength(2);
  expect(outcomes.every((outcome) => /^failed: Environment variable [A-Z_]+ is required/.test(outcome))).toBe(true);

  const [first, second] = await handlerSubsegments(name, 2);
  expect(first).toMatchObject({ type: 'subsegment', trace_id: TRACE_ID, annotations: { ColdStart: true, Service: name } });
  expect(second).toMatchObject({ annotations: { ColdStart: false, Service: name } });
  for (const subsegment of [first, second]) {
    expect(subsegment?.error === true || subsegment?.fault === true).toBe(true);
    expect(subsegment?.cause?.exceptions?.[0]?.message).toMatch(/^Environment variable [A-Z_]+ is required/);
  }
});

it('a successful invocation is the handler subsegment without an error, the current segment while it runs, and without its response', async () => {
  const response = 'order-data-that-has-no-place-in-traces';
  const script = `
    const { lambdaEntryPoint } = require(${JSON.stringify(join(LAMBDA_ROOT, 'shared', 'observability.ts'))});
    const handler = lambdaEntryPoint('tracing-probe', async (event, context, observability) => ({
      current: observability.tracer.getSegment()?.name,
      body: ${JSON.stringify(response)},
    }));
    (async () => { process.stdout.write(JSON.stringify(await handler({}, ${contextSource('tracing-probe')}))); })();`;
  const answered = JSON.parse(await runAsLambda('tracing-probe', script)) as { current?: string; body?: string };
  // The SDK clients' subsegments nest under whatever segment is current while the handler runs.
  expect(answered).toEqual({ current: '## index.handler', body: response });

  const [subsegment] = await handlerSubsegments('tracing-probe', 1);
  expect(subsegment).toMatchObject({ type: 'subsegment', trace_id: TRACE_ID, annotations: { ColdStart: true, Service: 'tracing-probe' } });
  expect(subsegment?.error).toBeUndefined();
  expect(subsegment?.fault).toBeUndefined();
  // captureResponse is off: the answer (session data, orders) is not sent to X-Ray.
  expect(JSON.stringify(subsegment)).not.toContain(response);
});
