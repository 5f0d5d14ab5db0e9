/**
 * Post-deploy verification of Staging (pipeline step Verify, after the smoke test): proves each path only AWS runs, one
 * named check per path, and fails naming the ones that broke. Exit 0 all passed, 1 any failed, 2 usage error.
 *
 * Usage: npx ts-node --transpile-only scripts/staging-verification.ts      (configuration from the environment:)
 *   API_URL, HEALTH_CHECK_ID                       stage outputs (HEALTH_CHECK_ID is known only after the deploy)
 *   AUDIT_LOG_GROUP, ACCESS_LOG_GROUP, EVENT_BUS_NAME, CRITICAL_RULE_NAME, ALERT_TOPIC_NAME,
 *   ALARM_NAME_PREFIX, ALARM_NAME_SUFFIX, REQUIRED_ALARMS (comma-separated), VERIFY_LIMIT_PRICE
 *                                                  the stage's names and the large-notional threshold, from the synth
 *   AWS_REGION (us-east-1), VERIFY_DEADLINE_SECONDS (600), VERIFY_REQUEST_TIMEOUT_MS (10000),
 *   VERIFY_POLL_INITIAL_DELAY_MS (1000), VERIFY_POLL_MAX_DELAY_MS (15000)
 * Credentials: the default provider chain, i.e. the stage's verification role assumed by scripts/pipeline-verify.sh.
 */
import { randomBytes } from 'node:crypto';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetHealthCheckStatusCommand, Route53Client } from '@aws-sdk/client-route-53';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { evaluateHealthCheckObservations } from '../lambda/health-monitor/checks';
import { createAwsClient, type CallDeadlines } from '../lambda/shared/aws-clients';
import { compareDecimals } from '../lambda/shared/decimal';
import { ConfigurationError, errorMessage, isTransientError } from '../lambda/shared/errors';
import { intEnv, optionalEnv, requireEnv, type EnvSource } from '../lambda/shared/env';
import { RETRYABLE_ENTRY_ERRORS } from '../lambda/shared/event-publisher';
import { parseJsonObject } from '../lambda/shared/json';
import { ORDER_EVENT_DETAIL_TYPES } from '../lambda/shared/order-events';
import { formatOrderId } from '../lambda/shared/order-records';
import type { ValidatedOrder } from '../lambda/shared/order-schema';
import { parseOrder } from '../lambda/shared/order-validation';
import { VERIFICATION_ACCOUNT_ID, VERIFICATION_EVENT } from '../lib/pipeline/verification-contract';
import { defaultClock, pollUntil, type Look, type PollClock, type PollResult } from './poll';
import { createApiSender, describeError, describeStatus, excerpt, isRetryableStatus, seconds, type ApiAnswer, type ApiFetch, type ApiSender, type CredentialProvider } from './signed-api';
import { judgeAlarms, readStageAlarms, type StageAlarmSelector } from './stage-alarms';

export interface VerificationOptions {
  /** The API stage URL, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/v1`. */
  readonly baseUrl: string;
  readonly region: string;
  /** The account the verification orders are booked to. */
  readonly accountId: string;
  /** Limit price of the valid order: the stage's large-notional threshold, so its OrderAccepted event is audited. */
  readonly orderLimitPrice: string;
  readonly auditLogGroupName: string;
  readonly accessLogGroupName: string;
  readonly eventBusName: string;
  /** The rule that routes `severity: CRITICAL` events to the audit log and the alert topic. */
  readonly criticalRuleName: string;
  readonly alertTopicName: string;
  readonly healthCheckId: string;
  readonly alarms: StageAlarmSelector;
  readonly deadlineMs: number;
  readonly requestTimeoutMs: number;
  readonly pollInitialDelayMs: number;
  readonly pollMaxDelayMs: number;
}

/** The AWS clients the checks call; the pipeline builds them with createAwsClient, tests point them at local servers. */
export interface VerificationClients {
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
  readonly events: Pick<EventBridgeClient, 'send'>;
  readonly route53: Pick<Route53Client, 'send'>;
}

export interface VerificationDeps {
  readonly fetch: ApiFetch;
  readonly credentials: CredentialProvider;
  readonly clients: VerificationClients;
  readonly log: (line: string) => void;
  /** @default Date.now, setTimeout and Math.random */
  readonly clock?: Partial<PollClock>;
  /** @default `verify-<time>-<random hex>` */
  readonly runId?: () => string;
}

/** One check: the path it proves, and what was seen. */
export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface VerificationResult {
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
}

/** The names of the checks, each after the path it proves (the build log and the tests use them). */
export const CHECKS = {
  unsigned: 'IAM refuses an unsigned POST /v1/orders (403)',
  invalid: 'request validation: a signed invalid order gets 400 with a JSON body',
  accepted: 'order intake: a signed valid order gets 202 with a JSON body (API Gateway -> SQS)',
  readBack: 'order read-back: GET /v1/orders/{id} from the Aurora reader returns it ACCEPTED with the same values',
  audit: 'audit trail: the OrderAccepted event reaches the audit log group (processor -> bus -> rule -> CloudWatch Logs)',
  alert: 'alerting: a CRITICAL event reaches the alert topic (bus -> critical rule -> SNS), no failed delivery',
  accessLog: 'API access log: the order request is logged by its requestId',
  route53: 'DNS health: most Route 53 health checkers report /v1/health healthy',
  alarms: 'alarms: no platform alarm is in ALARM',
} as const;

/** Fields the read-back must return as sent; quantities and prices compare as decimals (the reader trims the scale). */
const EXACT_FIELDS = ['accountId', 'clientOrderId', 'symbol', 'side', 'type', 'timeInForce'] as const;
const DECIMAL_FIELDS = ['quantity', 'limitPrice'] as const;

/** API Gateway's request ids are UUIDs; anything else is not put into a log filter pattern. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** The valid order: one share at the large-notional threshold, so the processor flags it and the audit rule logs it. */
export function verificationOrder(accountId: string, clientOrderId: string, limitPrice: string): ValidatedOrder {
  // Validated with the platform's own schema: an order the API would reject is a bug here, not in the API.
  return parseOrder({ clientOrderId, accountId, symbol: 'VERIFY', side: 'BUY', type: 'LIMIT', quantity: '1', limitPrice, timeInForce: 'DAY' });
}

export async function runStagingVerification(options: VerificationOptions, deps: VerificationDeps): Promise<VerificationResult> {
  const clock: PollClock = { ...defaultClock, ...deps.clock };
  const started = clock.now();
  const deadline = started + options.deadlineMs;
  const base = options.baseUrl.replace(/\/+$/, '');
  const runId = (deps.runId ?? defaultRunId)();
  const order = verificationOrder(options.accountId, runId, options.orderLimitPrice);
  const orderId = formatOrderId(order);
  const poll = <T>(what: string, look: () => Promise<Look<T>>): Promise<PollResult<T>> =>
    pollUntil(what, look, { deadline, initialDelayMs: options.pollInitialDelayMs, maxDelayMs: options.pollMaxDelayMs, log: deps.log, clock });
  const send = createApiSender({ region: options.region, credentials: deps.credentials, fetch: deps.fetch, requestTimeoutMs: options.requestTimeoutMs, remainingMs: () => deadline - clock.now(), now: clock.now });
  const checks: CheckResult[] = [];
  const record = (name: string, result: PollResult<string>): void => {
    const check = result.ok ? { name, passed: true, detail: result.value } : { name, passed: false, detail: result.reason };
    checks.push(check);
    deps.log(`${check.passed ? 'PASS' : 'FAIL'} ${name}: ${check.detail}`);
  };

  try {
    // Resolved once up front so that missing credentials fail at once with a clear reason, not as retries until the deadline.
    await deps.credentials();
  } catch (err) {
    const detail = `no AWS credentials from the default provider chain: ${describeError(err)}`;
    deps.log(`verification: FAILED: ${detail}`);
    return { passed: false, checks: [{ name: 'credentials', passed: false, detail }] };
  }

  const ordersUrl = `${base}/orders`;
  deps.log(`verification ${runId}: order ${orderId} (BUY 1 VERIFY @ ${options.orderLimitPrice}) against ${base}`);

  // 1. The API's own answers: IAM, the request validator, and the SQS integration.
  record(CHECKS.unsigned, await apiAnswer(send, poll, 'POST', ordersUrl, JSON.stringify(verificationOrder(options.accountId, `${runId}-unsigned`, options.orderLimitPrice)), { signed: false }, (answer) => {
    if (answer.status === 202) return { status: 'failed', reason: 'an unsigned order was ACCEPTED (202): IAM authorization is off on POST /v1/orders' };
    if (answer.status !== 403) return { status: 'failed', reason: `${describeStatus(answer.status)}, expected 403: ${excerpt(answer.body)}` };
    const body = parseJsonObject(answer.body);
    return body === undefined ? { status: 'failed', reason: `403 without a JSON body: ${excerpt(answer.body)}` } : { status: 'found', value: `403 ${String(body['type'] ?? '')}`.trim() };
  }));
  const invalid = { ...order, clientOrderId: `${runId}-invalid`, side: 'SHORT' };
  record(CHECKS.invalid, await apiAnswer(send, poll, 'POST', ordersUrl, JSON.stringify(invalid), { signed: true }, (answer) => {
    const body = parseJsonObject(answer.body);
    if (answer.status !== 400) return { status: 'failed', reason: `${describeStatus(answer.status)}, expected 400 for side "SHORT": ${excerpt(answer.body)}` };
    if (body === undefined) return { status: 'failed', reason: `400 without a JSON body: ${excerpt(answer.body)}` };
    // BAD_REQUEST_BODY is the request validator's gateway response: the order never reached the queue.
    if (body['type'] !== 'BAD_REQUEST_BODY') return { status: 'failed', reason: `400 of type ${JSON.stringify(body['type'])}, expected BAD_REQUEST_BODY (the request validator): ${excerpt(answer.body)}` };
    return { status: 'found', value: '400 BAD_REQUEST_BODY (JSON)' };
  }));
  let requestId: string | undefined;
  const postedAt = clock.now();
  const accepted = await apiAnswer(send, poll, 'POST', ordersUrl, JSON.stringify(order), { signed: true }, (answer) => {
    // Retrying is safe: the clientOrderId is the FIFO deduplication id, so the order is queued once.
    if (answer.status !== 202) return { status: 'failed', reason: `${describeStatus(answer.status)}, expected 202: ${excerpt(answer.body)}` };
    const body = parseJsonObject(answer.body);
    if (body === undefined) return { status: 'failed', reason: `202 without a JSON body: ${excerpt(answer.body)}` };
    const id = body['requestId'];
    if (typeof id === 'string' && REQUEST_ID_PATTERN.test(id)) requestId = id;
    return { status: 'found', value: `202 ${excerpt(answer.body)}` };
  });
  record(CHECKS.accepted, accepted);

  // 2. The synthetic critical event, put before the slow checks start so its metrics have time to arrive.
  const marker = `${runId}-critical`;
  const putAt = clock.now();
  const put = await poll(`PutEvents on ${options.eventBusName}`, async (): Promise<Look<string>> => {
    const answer = await deps.clients.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: options.eventBusName,
            Source: VERIFICATION_EVENT.source,
            DetailType: VERIFICATION_EVENT.detailType,
            Detail: JSON.stringify({ severity: 'CRITICAL', verificationMarker: marker, message: 'Synthetic event of the pipeline\'s Staging verification: proves critical events reach the alert topic. No action needed.' }),
          },
        ],
      }),
    );
    const [entry] = answer.Entries ?? [];
    if (entry?.EventId) return { status: 'found', value: entry.EventId };
    const retryable = entry?.ErrorCode !== undefined && RETRYABLE_ENTRY_ERRORS.has(entry.ErrorCode);
    return { status: retryable ? 'not-yet' : 'failed', reason: `entry refused: ${entry?.ErrorCode ?? 'no result entry'} ${entry?.ErrorMessage ?? ''}`.trim() };
  });

  // 3. What follows asynchronously, looked for side by side until the deadline.
  const needsOrder = (what: string): PollResult<string> => ({ ok: false, reason: `not checked: ${what} needs the accepted order (${accepted.ok ? 'no requestId in the 202 body' : 'see the intake check'})` });
  const [readBack, audit, alert, accessLog, route53] = await Promise.all([
    accepted.ok ? readBackOrder(send, poll, `${ordersUrl}/${encodeURIComponent(orderId)}`, order) : Promise.resolve(needsOrder('the read-back')),
    accepted.ok ? auditedOrder(deps.clients.logs, poll, options.auditLogGroupName, orderId, postedAt) : Promise.resolve(needsOrder('the audit trail')),
    put.ok ? alertDelivered(deps.clients, poll, options, marker, putAt, clock) : Promise.resolve<PollResult<string>>({ ok: false, reason: put.reason }),
    accepted.ok && requestId !== undefined ? accessLogged(deps.clients.logs, poll, options.accessLogGroupName, requestId, postedAt) : Promise.resolve(needsOrder('the access log')),
    healthCheckHealthy(deps.clients.route53, poll, options.healthCheckId),
  ]);
  record(CHECKS.readBack, readBack);
  record(CHECKS.audit, audit);
  record(CHECKS.alert, alert);
  record(CHECKS.accessLog, accessLog);
  record(CHECKS.route53, route53);

  // 4. Last, so it sees whatever the checks above set off.
  record(CHECKS.alarms, await poll('DescribeAlarms', async (): Promise<Look<string>> => {
    const verdict = judgeAlarms(await readStageAlarms(deps.clients.cloudWatch, options.alarms), options.alarms);
    return verdict.healthy ? { status: 'found', value: verdict.summary } : { status: 'failed', reason: verdict.summary };
  }));

  const failed = checks.filter((check) => !check.passed);
  deps.log(
    failed.length === 0
      ? `verification: PASSED ${checks.length} checks in ${seconds(clock.now() - started)}`
      : `verification: FAILED ${failed.length} of ${checks.length} checks in ${seconds(clock.now() - started)}: ${failed.map((check) => check.name).join(' | ')}`,
  );
  return { passed: failed.length === 0, checks };
}

type Poll = <T>(what: string, look: () => Promise<Look<T>>) => Promise<PollResult<T>>;

/** Sends until `judge` gives a verdict: 429, 5xx and network faults are sent again, anything else is judged. */
function apiAnswer(send: ApiSender, poll: Poll, method: 'GET' | 'POST', url: string, body: string | undefined, options: { signed: boolean }, judge: (answer: ApiAnswer) => Look<string>): Promise<PollResult<string>> {
  return poll(`${method} ${url}`, async () => {
    const answer = await send(method, url, body, options);
    return isRetryableStatus(answer.status) ? { status: 'not-yet', reason: `${describeStatus(answer.status)} ${excerpt(answer.body)}` } : judge(answer);
  });
}

function readBackOrder(send: ApiSender, poll: Poll, url: string, order: ValidatedOrder): Promise<PollResult<string>> {
  return apiAnswer(send, poll, 'GET', url, undefined, { signed: true }, (answer) => {
    // 404: not processed yet, or not yet on the reader; the processor works asynchronously.
    if (answer.status === 404) return { status: 'not-yet', reason: 'not processed yet (404)' };
    if (answer.status !== 200) return { status: 'failed', reason: `${describeStatus(answer.status)}: ${excerpt(answer.body)}` };
    const stored = parseJsonObject(answer.body);
    if (stored === undefined) return { status: 'failed', reason: `200 without a JSON body: ${excerpt(answer.body)}` };
    if (stored['status'] !== 'ACCEPTED') return { status: 'failed', reason: `status ${JSON.stringify(stored['status'])}, expected "ACCEPTED" (rejectReason ${JSON.stringify(stored['rejectReason'] ?? null)})` };
    const sent: Readonly<Record<string, string | undefined>> = { ...order };
    const differences = [
      ...EXACT_FIELDS.filter((field) => stored[field] !== sent[field]),
      ...DECIMAL_FIELDS.filter((field) => !decimalEquals(stored[field], sent[field])),
    ].map((field) => `${field} ${JSON.stringify(stored[field])} (sent ${JSON.stringify(sent[field])})`);
    return differences.length > 0 ? { status: 'failed', reason: `ACCEPTED but with other values: ${differences.join(', ')}` } : { status: 'found', value: `ACCEPTED with the values sent (${excerpt(answer.body)})` };
  });
}

function decimalEquals(stored: unknown, sent: string | undefined): boolean {
  if (typeof stored !== 'string' || sent === undefined) return false;
  try {
    return compareDecimals(stored, sent) === 0;
  } catch {
    return false;
  }
}

/**
 * Log events of `logGroupName` matching a JSON filter pattern since `since`, every page. FilterLogEvents "can return
 * empty results while there are more log events available through the token" (CloudWatch Logs API Reference), so
 * the pages are followed, boundedly.
 */
async function filterLogEvents(logs: Pick<CloudWatchLogsClient, 'send'>, logGroupName: string, filterPattern: string, since: number): Promise<FilteredLogEvent[]> {
  const found: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 20; page += 1) {
    const answer = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern, startTime: since, ...(nextToken ? { nextToken } : {}) }));
    found.push(...(answer.events ?? []));
    nextToken = answer.nextToken;
    if (!nextToken || found.length > 0) break;
  }
  return found;
}

/** Log events are searched from a little before the request: the clocks of this build and of AWS are not the same. */
const LOG_SEARCH_SLACK_MS = 5 * 60_000;

function auditedOrder(logs: Pick<CloudWatchLogsClient, 'send'>, poll: Poll, logGroupName: string, orderId: string, postedAt: number): Promise<PollResult<string>> {
  return poll(`FilterLogEvents ${logGroupName}`, async (): Promise<Look<string>> => {
    const events = await filterLogEvents(logs, logGroupName, `{ $.detail.orderId = "${orderId}" }`, postedAt - LOG_SEARCH_SLACK_MS);
    // EventBridge writes the whole event as the log message (CloudWatch Logs target), so its detail type is in it.
    const acceptedEvent = events.map((event) => parseJsonObject(event.message ?? '')).find((event) => event?.['detail-type'] === ORDER_EVENT_DETAIL_TYPES.accepted);
    if (acceptedEvent === undefined) return { status: 'not-yet', reason: events.length === 0 ? `no event for order ${orderId} yet` : `${events.length} event(s) for ${orderId}, none OrderAccepted` };
    return { status: 'found', value: `OrderAccepted ${String(acceptedEvent['id'] ?? '')} for ${orderId} in ${logGroupName}` };
  });
}

function accessLogged(logs: Pick<CloudWatchLogsClient, 'send'>, poll: Poll, logGroupName: string, requestId: string, postedAt: number): Promise<PollResult<string>> {
  return poll(`FilterLogEvents ${logGroupName}`, async (): Promise<Look<string>> => {
    const lines = (await filterLogEvents(logs, logGroupName, `{ $.requestId = "${requestId}" }`, postedAt - LOG_SEARCH_SLACK_MS)).map((event) => parseJsonObject(event.message ?? ''));
    const line = lines.find((candidate) => candidate?.['requestId'] === requestId);
    if (line === undefined) return { status: 'not-yet', reason: `no access log line for requestId ${requestId} yet` };
    if (line['status'] !== '202' || line['httpMethod'] !== 'POST') return { status: 'failed', reason: `the line for ${requestId} says ${line['httpMethod']} ${line['status']}, expected POST 202` };
    return { status: 'found', value: `POST ${String(line['resourcePath'])} 202 logged as requestId ${requestId}` };
  });
}

interface MetricSum {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * The step cannot subscribe to the topic, so delivery is proven from what AWS records, all in the window of the put:
 * - the marker event in the audit log: the critical rule matched it (the audit group is that rule's other target);
 * - AWS/Events Invocations >= 1 for the critical rule and none failed (FailedInvocations, InvocationsSentToDlq,
 *   InvocationsFailedToBeSentToDlq all 0). Invocations counts successful and permanently failed invocations, not the
 *   ones still being retried; a rule of a custom bus has the dimensions EventBusName and RuleName (EventBridge User
 *   Guide, "Monitoring Amazon EventBridge"). EventBridge sends these metrics only when they are not zero;
 * - AWS/SNS NumberOfMessagesPublished >= 1 on the alert topic: the topic received a publish.
 */
async function alertDelivered(clients: VerificationClients, poll: Poll, options: VerificationOptions, marker: string, putAt: number, clock: PollClock): Promise<PollResult<string>> {
  const rule = { EventBusName: options.eventBusName, RuleName: options.criticalRuleName };
  const sums: readonly MetricSum[] = [
    { id: 'invocations', namespace: 'AWS/Events', metricName: 'Invocations', dimensions: rule },
    { id: 'failed', namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensions: rule },
    { id: 'sentToDlq', namespace: 'AWS/Events', metricName: 'InvocationsSentToDlq', dimensions: rule },
    { id: 'failedToDlq', namespace: 'AWS/Events', metricName: 'InvocationsFailedToBeSentToDlq', dimensions: rule },
    { id: 'published', namespace: 'AWS/SNS', metricName: 'NumberOfMessagesPublished', dimensions: { TopicName: options.alertTopicName } },
  ];
  const matched = await auditedMarker(clients.logs, poll, options.auditLogGroupName, marker, putAt);
  if (!matched.ok) return matched;
  return poll('GetMetricData', async (): Promise<Look<string>> => {
    const minute = 60_000;
    const startTime = new Date(Math.floor((putAt - minute) / minute) * minute);
    const endTime = new Date(Math.ceil((clock.now() + minute) / minute) * minute);
    const queries: MetricDataQuery[] = sums.map((sum) => ({
      Id: sum.id,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: sum.namespace, MetricName: sum.metricName, Dimensions: Object.entries(sum.dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: 60, Stat: 'Sum' },
    }));
    const answer = await clients.cloudWatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: startTime, EndTime: endTime, ScanBy: 'TimestampAscending' }));
    const total = (id: string): number => (answer.MetricDataResults ?? []).filter((result) => result.Id === id).flatMap((result) => result.Values ?? []).reduce((sum, value) => sum + value, 0);
    const failures = ['failed', 'sentToDlq', 'failedToDlq'].filter((id) => total(id) > 0).map((id) => `${sums.find((sum) => sum.id === id)?.metricName}=${total(id)}`);
    if (failures.length > 0) return { status: 'failed', reason: `rule ${options.criticalRuleName} failed to deliver: ${failures.join(', ')} (see the events DLQ)` };
    const seen = `Invocations=${total('invocations')} (rule ${options.criticalRuleName}), NumberOfMessagesPublished=${total('published')} (topic ${options.alertTopicName})`;
    if (total('invocations') < 1 || total('published') < 1) return { status: 'not-yet', reason: `metrics so far: ${seen}` };
    return { status: 'found', value: `${matched.value}; ${seen}, no failed invocation` };
  });
}

function auditedMarker(logs: Pick<CloudWatchLogsClient, 'send'>, poll: Poll, logGroupName: string, marker: string, putAt: number): Promise<PollResult<string>> {
  return poll(`FilterLogEvents ${logGroupName}`, async (): Promise<Look<string>> => {
    const events = await filterLogEvents(logs, logGroupName, `{ $.detail.verificationMarker = "${marker}" }`, putAt - LOG_SEARCH_SLACK_MS);
    return events.length > 0 ? { status: 'found', value: `critical rule matched ${marker} (audit log)` } : { status: 'not-yet', reason: `${marker} not in the audit log yet` };
  });
}

/**
 * Route 53 calls an endpoint healthy while more than 18% of its checkers do; the verification asks what the health
 * monitor asks, a strict majority (lambda/health-monitor/checks.ts, the one place that judges the observations).
 */
function healthCheckHealthy(route53: Pick<Route53Client, 'send'>, poll: Poll, healthCheckId: string): Promise<PollResult<string>> {
  return poll(`GetHealthCheckStatus ${healthCheckId}`, async (): Promise<Look<string>> => {
    const verdict = evaluateHealthCheckObservations((await route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId }))).HealthCheckObservations ?? []);
    return verdict.healthy ? { status: 'found', value: verdict.reason } : { status: 'not-yet', reason: verdict.reason };
  });
}

function defaultRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
  return `verify-${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Options from the environment; a ConfigurationError names what is wrong. */
export function verificationOptionsFromEnv(env: EnvSource = process.env): VerificationOptions {
  const baseUrl = requireEnv('API_URL', env);
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new ConfigurationError(`API_URL must be an absolute URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigurationError(`API_URL must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  const requiredAlarms = requireEnv('REQUIRED_ALARMS', env).split(',').map((name) => name.trim()).filter((name) => name !== '');
  const options: VerificationOptions = {
    baseUrl,
    region: optionalEnv('AWS_REGION', env) ?? 'us-east-1',
    accountId: optionalEnv('VERIFY_ACCOUNT_ID', env) ?? VERIFICATION_ACCOUNT_ID,
    orderLimitPrice: requireEnv('VERIFY_LIMIT_PRICE', env),
    auditLogGroupName: requireEnv('AUDIT_LOG_GROUP', env),
    accessLogGroupName: requireEnv('ACCESS_LOG_GROUP', env),
    eventBusName: requireEnv('EVENT_BUS_NAME', env),
    criticalRuleName: requireEnv('CRITICAL_RULE_NAME', env),
    alertTopicName: requireEnv('ALERT_TOPIC_NAME', env),
    healthCheckId: requireEnv('HEALTH_CHECK_ID', env),
    alarms: { namePrefix: requireEnv('ALARM_NAME_PREFIX', env), nameSuffix: requireEnv('ALARM_NAME_SUFFIX', env), requiredNames: requiredAlarms },
    deadlineMs: intEnv('VERIFY_DEADLINE_SECONDS', 600, { min: 1, max: 3_600, source: env }) * 1000,
    requestTimeoutMs: intEnv('VERIFY_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 60_000, source: env }),
    pollInitialDelayMs: intEnv('VERIFY_POLL_INITIAL_DELAY_MS', 1_000, { min: 1, max: 60_000, source: env }),
    pollMaxDelayMs: intEnv('VERIFY_POLL_MAX_DELAY_MS', 15_000, { min: 1, max: 300_000, source: env }),
  };
  // Fails here, as a usage error, rather than as a failed check after the first requests.
  verificationOrder(options.accountId, 'verify-usage-check', options.orderLimitPrice);
  return options;
}

/** Connect 3 s and 10 s a request, 3 attempts: AWS's public endpoints, from a build in the same region. */
export const VERIFICATION_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 3 };

/** The clients of the pipeline run: the one client factory, with bounded attempts and deadlines that abort. */
export function verificationClients(region: string, extra: Readonly<Record<string, unknown>> = {}): VerificationClients {
  const config = { deadlines: VERIFICATION_CALL_DEADLINES, extra: { region, ...extra } };
  return {
    logs: createAwsClient(CloudWatchLogsClient, config),
    cloudWatch: createAwsClient(CloudWatchClient, config),
    events: createAwsClient(EventBridgeClient, config),
    // Route 53 is a global service signed for us-east-1, whatever the stage's region.
    route53: createAwsClient(Route53Client, { deadlines: VERIFICATION_CALL_DEADLINES, extra: { region: 'us-east-1', ...extra } }),
  };
}

async function main(): Promise<number> {
  let options: VerificationOptions;
  try {
    options = verificationOptionsFromEnv();
  } catch (err) {
    console.error(`verification: ${errorMessage(err)}`);
    return 2;
  }
  // AWS_ENDPOINT_URL lets the tests point every client at a local stand-in; unset in the pipeline.
  const endpoint = optionalEnv('AWS_ENDPOINT_URL');
  const result = await runStagingVerification(options, {
    fetch: globalThis.fetch,
    credentials: defaultProvider(),
    clients: verificationClients(options.region, endpoint === undefined ? {} : { endpoint }),
    log: (line) => console.log(line),
  });
  return result.passed ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`verification: unexpected failure: ${isTransientError(err) ? 'transient: ' : ''}${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}
