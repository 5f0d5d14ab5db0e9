/**
 * scripts/staging-verification.ts against loopback stand-ins: the order API (IAM by re-signing, validator, SQS 202,
 * reader GET) and the AWS APIs behind the real SDK clients (CloudWatch Logs, CloudWatch, EventBridge, Route 53),
 * answering as AWS documents (test/support/aws-contracts). Each check passes on the path it proves, and when one path
 * breaks the run fails naming that check and only that one.
 */
import { join } from 'node:path';
import { CHECKS, runStagingVerification, verificationClients, verificationOptionsFromEnv, type VerificationOptions, type VerificationResult } from '../../scripts/staging-verification';
import { ORDER_EVENT_DETAIL_TYPES } from '../../lambda/shared/order-events';
import { PLATFORM_EVENT_SOURCE } from '../../lambda/shared/platform-events';
import { VERIFICATION_EVENT } from '../../lib/pipeline/verification-contract';
import { accessLogLine } from '../support/aws-contracts/api-gateway-access-log';
import { describeAlarmsAnswer, getMetricDataAnswer, type AlarmFixture } from '../support/aws-contracts/cloudwatch-api';
import { eventBridgeLogMessage, filteredLogEvent, filterLogEventsAnswer, jsonProtocolError } from '../support/aws-contracts/cloudwatch-logs';
import { putEventsAnswer, throttledPutEventsEntry } from '../support/aws-contracts/eventbridge';
import { getHealthCheckStatusXml, observations } from '../support/aws-contracts/route53';
import { AwsStandIn, type AwsCall, type AwsHandler } from './aws-stand-in';
import { minimalEnv, REPO_ROOT, runProcess } from './harness';
import { OrderApiStandIn, STAND_IN_REQUEST_ID, type OrderApiBehaviour } from './order-api-stand-in';
import { header, TEST_CREDENTIALS } from './sigv4-check';

const TS_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'ts-node');
const RUN_ID = 'verify-20261125160000-0a1b2c3d';
const ORDER_ID = `pipeline-verification.${RUN_ID}`;
const MARKER = `${RUN_ID}-critical`;
const AUDIT_GROUP = '/aws/events/trading/stg/audit';
const ACCESS_GROUP = '/trading/stg/apigateway/access';
const COMPOSITE = 'alarm-platform-degraded-us-east-1-stg';
const HEALTHY_ALARMS: readonly AlarmFixture[] = [
  { name: COMPOSITE, state: 'OK', kind: 'composite' },
  { name: 'alarm-api-5xx-rate-us-east-1-stg', state: 'OK' },
  { name: 'alarm-orders-queue-age-us-east-1-stg', state: 'INSUFFICIENT_DATA' },
  // Another stage's alarm in the same account (a sandbox): not this stage's, so its state does not count.
  { name: 'alarm-api-5xx-rate-us-east-1-jdoe', state: 'ALARM' },
];

const options = (api: OrderApiStandIn, overrides: Partial<VerificationOptions> = {}): VerificationOptions => ({
  baseUrl: `${api.origin}/v1/`,
  region: 'us-east-1',
  accountId: 'pipeline-verification',
  orderLimitPrice: '250000.00',
  auditLogGroupName: AUDIT_GROUP,
  accessLogGroupName: ACCESS_GROUP,
  eventBusName: 'eb-trading-us-east-1-stg',
  criticalRuleName: 'ebrule-critical-us-east-1-stg',
  alertTopicName: 'sns-alerts-us-east-1-stg',
  healthCheckId: 'abcdef01-2345-6789-abcd-ef0123456789',
  alarms: { namePrefix: 'alarm-', nameSuffix: '-us-east-1-stg', requiredNames: [COMPOSITE] },
  deadlineMs: 8_000,
  requestTimeoutMs: 2_000,
  pollInitialDelayMs: 10,
  pollMaxDelayMs: 40,
  ...overrides,
});

/** The audit log: the OrderAccepted event of the verification order, and the critical test event, once they exist. */
function auditLog(seenAfterLooks = 1): AwsHandler {
  return (call, index) => {
    const pattern = String(call.input['filterPattern']);
    if (index < seenAfterLooks) return { body: filterLogEventsAnswer([], 'page-2') };
    if (pattern.includes('verificationMarker')) {
      const message = eventBridgeLogMessage({ source: VERIFICATION_EVENT.source, detailType: VERIFICATION_EVENT.detailType, detail: { severity: 'CRITICAL', verificationMarker: MARKER } });
      return { body: filterLogEventsAnswer([filteredLogEvent(message, Date.now())]) };
    }
    const message = eventBridgeLogMessage({ source: PLATFORM_EVENT_SOURCE, detailType: ORDER_EVENT_DETAIL_TYPES.accepted, detail: { orderId: ORDER_ID, status: 'ACCEPTED', largeNotional: true, severity: 'WARNING' } });
    return { body: filterLogEventsAnswer([filteredLogEvent(message, Date.now())]) };
  };
}

function accessLog(): AwsHandler {
  return () => ({ body: filterLogEventsAnswer([filteredLogEvent(accessLogLine({ requestId: STAND_IN_REQUEST_ID, httpMethod: 'POST', resourcePath: '/orders', status: 202 }), Date.now())]) });
}

/** Metrics by query Id; the first answer has none yet, as right after the put. */
function metrics(values: Readonly<Record<string, readonly number[]>> = { invocations: [2], published: [1] }): AwsHandler {
  return (call, index) => {
    const ids = (call.input['MetricDataQueries'] as { Id: string }[]).map((query) => query.Id);
    return { body: getMetricDataAnswer(index === 0 ? {} : values, ids) };
  };
}

interface Scenario {
  readonly api?: OrderApiBehaviour;
  readonly handlers?: Partial<Record<string, AwsHandler>>;
  readonly options?: Partial<VerificationOptions>;
}

/** Every AWS operation answering as a healthy, freshly deployed Staging does, unless the scenario replaces one. */
function handlersFor(scenario: Scenario): Record<string, AwsHandler> {
  const logs = { audit: auditLog(), access: accessLog() };
  const defaults: Record<string, AwsHandler> = {
    FilterLogEvents: (call, index) => (call.input['logGroupName'] === ACCESS_GROUP ? logs.access(call, index) : logs.audit(call, index)),
    PutEvents: () => ({ body: putEventsAnswer([{ EventId: '11710aed-b79e-4468-a20b-bb3c0c3b4860' }]) }),
    GetMetricData: metrics(),
    GetHealthCheckStatus: () => ({ body: getHealthCheckStatusXml(observations(8, 8)) }),
    DescribeAlarms: () => ({ body: describeAlarmsAnswer(HEALTHY_ALARMS) }),
  };
  const merged: Record<string, AwsHandler> = { ...defaults };
  for (const [operation, handler] of Object.entries(scenario.handlers ?? {})) if (handler) merged[operation] = handler;
  return merged;
}

interface Run {
  readonly result: VerificationResult;
  readonly lines: string[];
  readonly api: OrderApiStandIn;
  readonly aws: AwsStandIn;
  readonly elapsedMs: number;
}

const running: { api?: OrderApiStandIn; aws?: AwsStandIn }[] = [];
afterEach(async () => {
  for (const servers of running.splice(0)) {
    await servers.api?.stop();
    await servers.aws?.stop();
  }
});

async function verify(scenario: Scenario = {}): Promise<Run> {
  const api = await OrderApiStandIn.start(scenario.api);
  const aws = await AwsStandIn.start(handlersFor(scenario));
  running.push({ api, aws });
  const lines: string[] = [];
  const started = Date.now();
  const result = await runStagingVerification(options(api, scenario.options), {
    fetch: globalThis.fetch,
    credentials: async () => TEST_CREDENTIALS,
    clients: verificationClients('us-east-1', { endpoint: aws.origin, credentials: TEST_CREDENTIALS }),
    log: (line) => lines.push(line),
    runId: () => RUN_ID,
  });
  return { result, lines, api, aws, elapsedMs: Date.now() - started };
}

const failedChecks = (run: Run): string[] => run.result.checks.filter((check) => !check.passed).map((check) => check.name);
const detailOf = (run: Run, name: string): string => run.result.checks.find((check) => check.name === name)?.detail ?? '';

describe('runStagingVerification on a healthy Staging', () => {
  let run: Run;
  beforeAll(async () => {
    run = await verify();
  });

  it('passes every check, each named after the path it proves', () => {
    expect(run.result.checks.map((check) => [check.name, check.passed])).toEqual(Object.values(CHECKS).map((name) => [name, true]));
    expect(run.result.passed).toBe(true);
    expect(run.lines.at(-1)).toMatch(/^verification: PASSED 9 checks in /);
  });

  it('proves IAM with an unsigned request, the validator with a signed invalid order, and intake with a signed valid one', () => {
    const posts = run.api.received.filter((request) => request.method === 'POST');
    expect(posts.map((request) => [header(request, 'authorization') === undefined ? 'unsigned' : 'signed', JSON.parse(request.body).side, JSON.parse(request.body).clientOrderId])).toEqual([
      ['unsigned', 'BUY', `${RUN_ID}-unsigned`],
      ['signed', 'SHORT', `${RUN_ID}-invalid`],
      ['signed', 'BUY', RUN_ID],
    ]);
    // One share at the large-notional threshold: the processor flags it, so the audit rule logs its OrderAccepted.
    expect(JSON.parse(posts[2]?.body ?? '{}')).toEqual({ clientOrderId: RUN_ID, accountId: 'pipeline-verification', symbol: 'VERIFY', side: 'BUY', type: 'LIMIT', quantity: '1', limitPrice: '250000.00', timeInForce: 'DAY' });
    expect(run.api.signatureProblems).toEqual([]);
    expect(detailOf(run, CHECKS.unsigned)).toBe('403 MISSING_AUTHENTICATION_TOKEN');
    expect(detailOf(run, CHECKS.invalid)).toBe('400 BAD_REQUEST_BODY (JSON)');
  });

  it('reads the order back until the reader has it, and accepts the reader\'s trimmed decimals as the same values', () => {
    const gets = run.api.received.filter((request) => request.method === 'GET').map((request) => request.url);
    expect(gets).toEqual([`/v1/orders/${ORDER_ID}`, `/v1/orders/${ORDER_ID}`]);
    expect(detailOf(run, CHECKS.readBack)).toContain('"limitPrice":"250000"');
  });

  it('looks for the OrderAccepted event in the audit group and the request in the access log, following empty pages', () => {
    const filters = run.aws.callsOf('FilterLogEvents').map((call) => [call.input['logGroupName'], call.input['filterPattern'], call.input['nextToken'] ?? null]);
    expect(filters).toEqual(
      expect.arrayContaining([
        [AUDIT_GROUP, `{ $.detail.orderId = "${ORDER_ID}" }`, null],
        [AUDIT_GROUP, `{ $.detail.verificationMarker = "${MARKER}" }`, null],
        [ACCESS_GROUP, `{ $.requestId = "${STAND_IN_REQUEST_ID}" }`, null],
      ]),
    );
    // The first audit answer is an empty page with a token: the next call follows it.
    expect(filters.filter(([, , token]) => token === 'page-2')).not.toEqual([]);
    for (const call of run.aws.callsOf('FilterLogEvents')) expect(call.input['startTime']).toEqual(expect.any(Number));
  });

  it('puts one synthetic CRITICAL event with a marker on the platform bus, as the only event type its role may put', () => {
    const [put] = run.aws.callsOf('PutEvents');
    const [entry] = put?.input['Entries'] as Record<string, string>[];
    expect(entry).toMatchObject({ EventBusName: 'eb-trading-us-east-1-stg', Source: 'trading.platform', DetailType: 'PipelineVerification' });
    expect(JSON.parse(entry?.['Detail'] ?? '{}')).toMatchObject({ severity: 'CRITICAL', verificationMarker: MARKER });
  });

  it('proves alert delivery from the critical rule\'s and the topic\'s metrics, waiting until they arrive', () => {
    const calls = run.aws.callsOf('GetMetricData');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    const queries = calls[0]?.input['MetricDataQueries'] as { Id: string; MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } }[];
    expect(queries.map((query) => [query.MetricStat.Metric.Namespace, query.MetricStat.Metric.MetricName, query.MetricStat.Metric.Dimensions, query.MetricStat.Stat, query.MetricStat.Period])).toEqual([
      ...['Invocations', 'FailedInvocations', 'InvocationsSentToDlq', 'InvocationsFailedToBeSentToDlq'].map((metric) => [
        'AWS/Events',
        metric,
        [{ Name: 'EventBusName', Value: 'eb-trading-us-east-1-stg' }, { Name: 'RuleName', Value: 'ebrule-critical-us-east-1-stg' }],
        'Sum',
        60,
      ]),
      ['AWS/SNS', 'NumberOfMessagesPublished', [{ Name: 'TopicName', Value: 'sns-alerts-us-east-1-stg' }], 'Sum', 60],
    ]);
    // Whole minutes around the put, as GetMetricData expects for a 60-second period.
    expect(Number(calls[0]?.input['StartTime']) % 60).toBe(0);
    expect(detailOf(run, CHECKS.alert)).toMatch(/Invocations=2 .*NumberOfMessagesPublished=1 .*no failed invocation/);
  });

  it('asks Route 53 for the stage\'s health check and CloudWatch for the stage\'s alarms, composite ones included', () => {
    expect(run.aws.callsOf('GetHealthCheckStatus').map((call) => call.input)).toEqual([{ HealthCheckId: 'abcdef01-2345-6789-abcd-ef0123456789' }]);
    expect(run.aws.callsOf('DescribeAlarms')[0]?.input).toMatchObject({ AlarmNamePrefix: 'alarm-', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    expect(detailOf(run, CHECKS.alarms)).toBe('3 alarm(s) *-us-east-1-stg: 2 OK, 0 ALARM, 1 INSUFFICIENT_DATA');
  });
});

describe('runStagingVerification names the path that broke', () => {
  it.each<[string, Scenario, string, RegExp]>([
    ['IAM is off on POST /orders', { api: { iamOff: true } }, CHECKS.unsigned, /an unsigned order was ACCEPTED \(202\): IAM authorization is off/],
    ['the processor rejects the order', { api: { decision: 'REJECTED' } }, CHECKS.readBack, /status "REJECTED", expected "ACCEPTED" \(rejectReason "trading disabled"\)/],
    ['the reader returns other values', { api: { storedChange: { symbol: 'OTHER', quantity: '2' } } }, CHECKS.readBack, /ACCEPTED but with other values: symbol "OTHER" \(sent "VERIFY"\), quantity "2" \(sent "1"\)/],
    [
      'the critical rule failed to deliver',
      { handlers: { GetMetricData: metrics({ invocations: [1], failed: [1], published: [0] }) } },
      CHECKS.alert,
      /rule ebrule-critical-us-east-1-stg failed to deliver: FailedInvocations=1 \(see the events DLQ\)/,
    ],
    [
      'most Route 53 checkers fail',
      { handlers: { GetHealthCheckStatus: () => ({ body: getHealthCheckStatusXml(observations(8, 3)) }) }, options: { deadlineMs: 1_500 } },
      CHECKS.route53,
      /not seen before the deadline; last: only 3 of 8 Route 53 checkers report success; e\.g\. eu-west-1: Failure: HTTP Status Code 503/,
    ],
    [
      'a platform alarm is in ALARM',
      { handlers: { DescribeAlarms: () => ({ body: describeAlarmsAnswer([...HEALTHY_ALARMS, { name: 'alarm-api-4xx-rate-us-east-1-stg', state: 'ALARM', reason: 'Threshold Crossed' }]) }) } },
      CHECKS.alarms,
      /in ALARM: alarm-api-4xx-rate-us-east-1-stg \(Threshold Crossed\)/,
    ],
    ['the composite alarm is missing', { handlers: { DescribeAlarms: () => ({ body: describeAlarmsAnswer(HEALTHY_ALARMS.slice(1)) }) } }, CHECKS.alarms, /missing: alarm-platform-degraded-us-east-1-stg/],
    ['the access log has a different status', { handlers: { FilterLogEvents: (call, index) => (call.input['logGroupName'] === ACCESS_GROUP ? { body: filterLogEventsAnswer([filteredLogEvent(accessLogLine({ requestId: STAND_IN_REQUEST_ID, httpMethod: 'POST', resourcePath: '/orders', status: 500 }), Date.now())]) } : auditLog()(call, index)) } }, CHECKS.accessLog, /says POST 500, expected POST 202/],
  ])('%s', async (_case, scenario, broken, reason) => {
    const run = await verify(scenario);

    expect(run.result.passed).toBe(false);
    expect(failedChecks(run)).toEqual([broken]);
    expect(detailOf(run, broken)).toMatch(reason);
    expect(run.lines).toContain(`FAIL ${broken}: ${detailOf(run, broken)}`);
    expect(run.lines.at(-1)).toMatch(new RegExp(`^verification: FAILED 1 of 9 checks in [\\d.]+s: ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('waits for an audit event only until the deadline, then says what it last saw', async () => {
    const never: AwsHandler = (call, index) => (call.input['logGroupName'] === ACCESS_GROUP ? accessLog()(call, index) : String(call.input['filterPattern']).includes('orderId') ? { body: filterLogEventsAnswer([]) } : auditLog()(call, index));

    const run = await verify({ handlers: { FilterLogEvents: never }, options: { deadlineMs: 1_500 } });

    expect(failedChecks(run)).toEqual([CHECKS.audit]);
    expect(detailOf(run, CHECKS.audit)).toBe(`FilterLogEvents ${AUDIT_GROUP}: not seen before the deadline; last: no event for order ${ORDER_ID} yet`);
    expect(run.elapsedMs).toBeLessThan(4_000);
  });

  it('fails at once on access denied instead of waiting for the deadline (a role that lacks a permission)', async () => {
    const denied: AwsHandler = (call, index) => (call.input['logGroupName'] === ACCESS_GROUP ? { status: 400, body: jsonProtocolError('AccessDeniedException', 'User is not authorized to perform: logs:FilterLogEvents') } : auditLog()(call, index));

    const run = await verify({ handlers: { FilterLogEvents: denied }, options: { deadlineMs: 30_000 } });

    expect(failedChecks(run)).toEqual([CHECKS.accessLog]);
    expect(detailOf(run, CHECKS.accessLog)).toMatch(/AccessDeniedException: User is not authorized to perform: logs:FilterLogEvents/);
    expect(run.elapsedMs).toBeLessThan(10_000);
  });

  it('puts the critical event again when EventBridge throttles the entry', async () => {
    const throttledOnce: AwsHandler = (_call: AwsCall, index) => ({ body: putEventsAnswer([index === 0 ? throttledPutEventsEntry() : { EventId: '11710aed-b79e-4468-a20b-bb3c0c3b4860' }]) });

    const run = await verify({ handlers: { PutEvents: throttledOnce } });

    expect(run.result.passed).toBe(true);
    expect(run.aws.callsOf('PutEvents')).toHaveLength(2);
  });
});

describe('scripts/staging-verification.ts (as the pipeline runs it)', () => {
  const env = (api: OrderApiStandIn, aws: AwsStandIn, extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    minimalEnv({
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: aws.origin,
      API_URL: `${api.origin}/v1`,
      HEALTH_CHECK_ID: 'abcdef01-2345-6789-abcd-ef0123456789',
      AUDIT_LOG_GROUP: AUDIT_GROUP,
      ACCESS_LOG_GROUP: ACCESS_GROUP,
      EVENT_BUS_NAME: 'eb-trading-us-east-1-stg',
      CRITICAL_RULE_NAME: 'ebrule-critical-us-east-1-stg',
      ALERT_TOPIC_NAME: 'sns-alerts-us-east-1-stg',
      ALARM_NAME_PREFIX: 'alarm-',
      ALARM_NAME_SUFFIX: '-us-east-1-stg',
      REQUIRED_ALARMS: COMPOSITE,
      VERIFY_LIMIT_PRICE: '250000.00',
      VERIFY_DEADLINE_SECONDS: '20',
      VERIFY_POLL_INITIAL_DELAY_MS: '20',
      VERIFY_POLL_MAX_DELAY_MS: '50',
      ...extra,
    });

  /** The run id is random per run: the audit stand-in answers for whatever order and marker it is asked about. */
  const anyRunAudit: AwsHandler = (call) => {
    const pattern = String(call.input['filterPattern']);
    const value = /"([^"]+)"/.exec(pattern)?.[1] ?? '';
    const message = pattern.includes('verificationMarker')
      ? eventBridgeLogMessage({ source: VERIFICATION_EVENT.source, detailType: VERIFICATION_EVENT.detailType, detail: { severity: 'CRITICAL', verificationMarker: value } })
      : eventBridgeLogMessage({ source: PLATFORM_EVENT_SOURCE, detailType: ORDER_EVENT_DETAIL_TYPES.accepted, detail: { orderId: value, status: 'ACCEPTED' } });
    return { body: filterLogEventsAnswer([filteredLogEvent(message, Date.now())]) };
  };

  async function start(scenario: Scenario): Promise<{ api: OrderApiStandIn; aws: AwsStandIn }> {
    const api = await OrderApiStandIn.start(scenario.api);
    const aws = await AwsStandIn.start(handlersFor({ ...scenario, handlers: { FilterLogEvents: (call, index) => (call.input['logGroupName'] === ACCESS_GROUP ? accessLog()(call, index) : anyRunAudit(call, index)), ...scenario.handlers } }));
    running.push({ api, aws });
    return { api, aws };
  }

  it('exits 0 when every path works, with one PASS line per check', async () => {
    const { api, aws } = await start({});

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/staging-verification.ts'], env(api, aws));

    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    for (const name of Object.values(CHECKS)) expect(result.stdout).toContain(`PASS ${name}: `);
    expect(result.stdout).toMatch(/verification: PASSED 9 checks in/);
  });

  it('exits 1 naming the check that broke', async () => {
    const { api, aws } = await start({ handlers: { DescribeAlarms: () => ({ body: describeAlarmsAnswer([...HEALTHY_ALARMS, { name: 'alarm-orders-dlq-depth-us-east-1-stg', state: 'ALARM', reason: 'Threshold Crossed' }]) }) } });

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/staging-verification.ts'], env(api, aws));

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`FAIL ${CHECKS.alarms}: `);
    expect(result.stdout).toMatch(/verification: FAILED 1 of 9 checks in [\d.]+s: alarms: no platform alarm is in ALARM/);
  });

  it('exits 2 naming a missing variable, before any request', async () => {
    const { api, aws } = await start({});
    const { AUDIT_LOG_GROUP: _omitted, ...withoutAudit } = env(api, aws);

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/staging-verification.ts'], withoutAudit);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Environment variable AUDIT_LOG_GROUP is required but not set');
    expect(api.received).toEqual([]);
  });
});

describe('verificationOptionsFromEnv', () => {
  const base = { API_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/v1', HEALTH_CHECK_ID: 'h', AUDIT_LOG_GROUP: 'a', ACCESS_LOG_GROUP: 'b', EVENT_BUS_NAME: 'c', CRITICAL_RULE_NAME: 'd', ALERT_TOPIC_NAME: 'e', ALARM_NAME_PREFIX: 'alarm-', ALARM_NAME_SUFFIX: '-x', REQUIRED_ALARMS: 'alarm-a-x, alarm-b-x', VERIFY_LIMIT_PRICE: '250000.00' };

  it('reads the names, the required alarms and the defaults', () => {
    expect(verificationOptionsFromEnv(base)).toMatchObject({ accountId: 'pipeline-verification', region: 'us-east-1', deadlineMs: 600_000, alarms: { requiredNames: ['alarm-a-x', 'alarm-b-x'] } });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a relative API URL', { API_URL: 'abc/v1' }, /API_URL must be an absolute URL, got "abc\/v1"/],
    ['a price the order schema refuses', { VERIFY_LIMIT_PRICE: '1e6' }, /limitPrice/],
    ['a deadline over an hour', { VERIFY_DEADLINE_SECONDS: '7200' }, /VERIFY_DEADLINE_SECONDS must be between 1 and 3600, got 7200/],
  ])('refuses %s', (_case, patch, message) => {
    expect(() => verificationOptionsFromEnv({ ...base, ...patch })).toThrow(message);
  });
});
