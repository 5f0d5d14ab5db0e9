/**
 * The four health checks (API health endpoint, Route 53 health check, orders DLQ depth, session table status) as
 * pure probes over injected ports, and the isolation that turns any probe failure or timeout into a failed result.
 */
import type { HealthCheckObservation } from '@aws-sdk/client-route-53';
import { parseJsonObject } from '../shared/json';
import { AppError, describeValue, errorMessage } from '../shared/errors';
import { DeadlineExceededError, withDeadline } from '../shared/deadline';
import type { Clock, DescribeTablePort, FetchPort, GetHealthCheckStatusPort, GetQueueAttributesPort } from './ports';

export const CHECK_NAMES = ['HealthEndpoint', 'Route53HealthCheck', 'OrdersDlq', 'SessionTable'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/**
 * `unhealthy`: the dependency answered and the answer is bad. `error`: the check could not get an answer (timeout,
 * access denied, network); that is a failure too, since a monitor that cannot see is no evidence of health.
 */
export type CheckOutcome = 'healthy' | 'unhealthy' | 'error';

/** Numbers a check measured; the ones that exist become metrics and appear in the alert. */
export interface CheckMeasurements {
  readonly httpStatus?: number;
  readonly latencyMs?: number;
  readonly dlqDepth?: number;
  readonly dlqVisible?: number;
  readonly dlqInFlight?: number;
  readonly tableStatus?: string;
  readonly checkersReporting?: number;
  readonly checkersSucceeding?: number;
}

/** What a probe concludes when it got an answer. */
export interface Verdict {
  readonly healthy: boolean;
  readonly reason: string;
  readonly measurements?: CheckMeasurements;
}

export interface CheckResult {
  readonly check: CheckName;
  readonly healthy: boolean;
  readonly outcome: CheckOutcome;
  /** One line an operator can act on; names the value that was wrong. */
  readonly reason: string;
  readonly durationMs: number;
  readonly measurements: CheckMeasurements;
}

/** An AWS API answered with a shape the probe cannot judge; the check fails rather than guessing. */
export class UnexpectedResponseError extends AppError {
  readonly retryable = false;
}

/** Longest excerpt of a foreign text (response body, SDK message) quoted in a reason, so alerts stay readable. */
const MAX_EXCERPT = 300;

/**
 * Runs one probe within its own deadline and never rejects: whatever goes wrong becomes an `error` result, so that
 * one failing check cannot hide the others.
 */
export async function runCheck(
  check: CheckName,
  timeoutMs: number,
  clock: Clock,
  probe: (signal: AbortSignal) => Promise<Verdict>,
): Promise<CheckResult> {
  const started = clock.monotonicMs();
  const elapsed = (): number => Math.max(0, Math.round(clock.monotonicMs() - started));
  try {
    const verdict = await withDeadline(check, timeoutMs, probe);
    return {
      check,
      healthy: verdict.healthy,
      outcome: verdict.healthy ? 'healthy' : 'unhealthy',
      reason: verdict.reason,
      durationMs: elapsed(),
      measurements: verdict.measurements ?? {},
    };
  } catch (err) {
    return { check, healthy: false, outcome: 'error', reason: explainError(err), durationMs: elapsed(), measurements: {} };
  }
}

/**
 * GET the API's deep health endpoint: healthy only on HTTP 200 with a JSON body whose top-level `status` is "ok".
 * The top level matters: a degraded body can contain `"status":"ok"` for a component that still works.
 */
export async function probeHealthEndpoint(fetch: FetchPort, url: string, clock: Clock, signal: AbortSignal): Promise<Verdict> {
  const started = clock.monotonicMs();
  const response = await fetch(url, {
    method: 'GET',
    headers: { accept: 'application/json', 'user-agent': 'trading-platform-health-monitor' },
    signal,
    redirect: 'manual',
  });
  const body = await response.text();
  const latencyMs = Math.max(0, Math.round(clock.monotonicMs() - started));
  const measurements: CheckMeasurements = { httpStatus: response.status, latencyMs };
  const status = bodyStatus(body);
  if (response.status === 200 && status === 'ok') {
    return { healthy: true, reason: `HTTP 200 with status "ok" in ${latencyMs} ms`, measurements };
  }
  const bodyDescription =
    status === undefined ? `body is not a JSON object with a status: ${excerpt(body)}` : `body status ${describeValue(status)}: ${excerpt(body)}`;
  return { healthy: false, reason: `HTTP ${response.status} from ${url} in ${latencyMs} ms; ${bodyDescription}`, measurements };
}

function bodyStatus(body: string): unknown {
  return parseJsonObject(body)?.['status'];
}

/** Reads the Route 53 health check's latest observations and judges them with evaluateHealthCheckObservations. */
export async function probeRoute53HealthCheck(getStatus: GetHealthCheckStatusPort, healthCheckId: string, signal: AbortSignal): Promise<Verdict> {
  const output = await getStatus(healthCheckId, signal);
  return evaluateHealthCheckObservations(output.HealthCheckObservations ?? []);
}

/**
 * Healthy when a strict majority of the checkers' latest reports start with "Success". That is stricter than Route 53's
 * own verdict (healthy while more than 18% of checkers succeed) on purpose: this is an early warning that part of the
 * world cannot reach the API, before the health check itself flips and its alarm fires.
 */
export function evaluateHealthCheckObservations(observations: readonly HealthCheckObservation[]): Verdict {
  const total = observations.length;
  if (total === 0) {
    return { healthy: false, reason: 'Route 53 returned no checker observations', measurements: { checkersReporting: 0, checkersSucceeding: 0 } };
  }
  const failing = observations.filter((observation) => !(observation.StatusReport?.Status ?? '').startsWith('Success'));
  const succeeding = total - failing.length;
  const measurements: CheckMeasurements = { checkersReporting: total, checkersSucceeding: succeeding };
  if (succeeding * 2 > total) {
    return { healthy: true, reason: `${succeeding} of ${total} Route 53 checkers report success`, measurements };
  }
  const example = failing[0];
  const exampleText =
    example === undefined ? '' : `; e.g. ${example.Region ?? 'unknown region'}: ${excerpt(example.StatusReport?.Status ?? 'no status report')}`;
  return { healthy: false, reason: `only ${succeeding} of ${total} Route 53 checkers report success${exampleText}`, measurements };
}

/** Messages waiting plus messages received but not yet deleted: both are orders that could not be processed. */
const DLQ_ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;

/** Healthy when the orders DLQ holds no message at all: every dead-lettered order needs an operator. */
export async function probeOrdersDlq(getAttributes: GetQueueAttributesPort, queueUrl: string, signal: AbortSignal): Promise<Verdict> {
  const output = await getAttributes(queueUrl, DLQ_ATTRIBUTES, signal);
  const visible = countAttribute(output.Attributes, 'ApproximateNumberOfMessages', queueUrl);
  const inFlight = countAttribute(output.Attributes, 'ApproximateNumberOfMessagesNotVisible', queueUrl);
  const depth = visible + inFlight;
  const measurements: CheckMeasurements = { dlqDepth: depth, dlqVisible: visible, dlqInFlight: inFlight };
  if (depth === 0) return { healthy: true, reason: 'orders DLQ is empty', measurements };
  return {
    healthy: false,
    reason: `${depth} message(s) in the orders DLQ ${queueUrl} (${visible} visible, ${inFlight} in flight)`,
    measurements,
  };
}

function countAttribute(attributes: Partial<Record<string, string>> | undefined, name: string, queueUrl: string): number {
  const raw = attributes?.[name];
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new UnexpectedResponseError(`SQS returned no valid ${name} for ${queueUrl} (got ${describeValue(raw)})`);
  }
  return Number(raw);
}

/** Healthy only when the session table is ACTIVE; a missing table is unhealthy rather than a monitor error. */
export async function probeSessionTable(describeTable: DescribeTablePort, tableName: string, signal: AbortSignal): Promise<Verdict> {
  let status: string | undefined;
  try {
    status = (await describeTable(tableName, signal)).Table?.TableStatus;
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') {
      return { healthy: false, reason: `session table ${tableName} does not exist (${excerpt(err.message)})` };
    }
    throw err;
  }
  const measurements: CheckMeasurements = status === undefined ? {} : { tableStatus: status };
  if (status === 'ACTIVE') return { healthy: true, reason: `session table ${tableName} is ACTIVE`, measurements };
  return { healthy: false, reason: `session table ${tableName} is ${describeValue(status)}, expected "ACTIVE"`, measurements };
}

/**
 * A failure as one line: the SDK error name (NoSuchHealthCheck, AccessDenied, ...) and the cause chain, because
 * fetch reports a refused connection only as "fetch failed" with the useful part in `cause`. Read by shape, not
 * `instanceof Error`: fetch's errors come from Node's own realm, which is not always the caller's (jest, vm).
 */
export function explainError(err: unknown): string {
  if (err instanceof DeadlineExceededError) return err.message;
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
    const message = typeof current === 'object' ? Reflect.get(current, 'message') : undefined;
    const name = typeof current === 'object' ? Reflect.get(current, 'name') : undefined;
    if (typeof message !== 'string') {
      parts.push(errorMessage(current));
      break;
    }
    const prefix = typeof name === 'string' && name !== 'Error' && !message.startsWith(name) ? `${name}: ` : '';
    parts.push(`${prefix}${message}`);
    current = typeof current === 'object' ? Reflect.get(current, 'cause') : undefined;
  }
  return excerpt(parts.join(' <- '));
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_EXCERPT ? `${oneLine.slice(0, MAX_EXCERPT)}…` : oneLine;
}
