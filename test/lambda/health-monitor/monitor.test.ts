/**
 * Whole monitor runs against moto (Route 53, SQS, DynamoDB, CloudWatch, SNS, EventBridge) and a local health endpoint:
 * what is measured, published and alerted for healthy, failing, hanging and partly unreachable dependencies.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CHECK_NAMES } from '../../../lambda/health-monitor/checks';
import { HealthMonitorDeliveryError, runHealthMonitor, type HealthMonitorSummary } from '../../../lambda/health-monitor/monitor';
import { sdkPorts, type HealthMonitorPorts } from '../../../lambda/health-monitor/ports';
import { MAX_SUBJECT_LENGTH } from '../../../lambda/health-monitor/report';
import { refusedPutEventsEntry, throttledPutEventsEntry } from '../../support/aws-contracts/eventbridge';
import { startRefusingEventBridge, type EntryRefusal } from '../../support/faults/refusing-event-bridge';
import { awsClientConfig } from '../../support/services';
import { findFreePort } from '../../support/services/process-utils';
import {
  createWorld,
  deadLetterOrders,
  destroyClients,
  drainQueue,
  hang,
  json,
  LocalServer,
  METRICS_TEST_NAMESPACE,
  metricSum,
  mockedClients,
  parseBusEvent,
  parseSnsEnvelope,
  SDK_RETRY,
  settingsFor,
  uniqueName,
  type MonitoredWorld,
  type MotoClients,
} from './harness';

const HEALTHY_BODY = { status: 'ok', checks: { writer: 'ok', reader: 'ok', sessions: 'ok', config: 'ok' } };
const FAILING_BODY = { status: 'error', checks: { writer: 'fail', reader: 'ok', sessions: 'ok', config: 'ok' } };

let clients: MotoClients;
let healthEndpoint: LocalServer;

beforeAll(async () => {
  clients = mockedClients();
  healthEndpoint = await LocalServer.start(json(200, HEALTHY_BODY));
});

afterAll(async () => {
  await healthEndpoint.stop();
  destroyClients(clients);
});

beforeEach(() => {
  healthEndpoint.responder = json(200, HEALTHY_BODY);
});

function ports(overrides: Partial<HealthMonitorPorts> = {}): HealthMonitorPorts {
  return { ...sdkPorts(clients), ...overrides };
}

async function alertsOf(world: MonitoredWorld): Promise<ReturnType<typeof parseSnsEnvelope>[]> {
  return (await drainQueue(clients.sqs, world.alertObserverUrl)).map(parseSnsEnvelope);
}

async function eventsOf(world: MonitoredWorld): Promise<ReturnType<typeof parseBusEvent>[]> {
  return (await drainQueue(clients.sqs, world.eventObserverUrl)).map(parseBusEvent);
}

function succeeded(world: MonitoredWorld, check: string): Promise<number | undefined> {
  return metricSum(clients.cloudwatch, METRICS_TEST_NAMESPACE, 'HealthCheckSucceeded', [
    { Name: 'Check', Value: check },
    { Name: 'Environment', Value: world.environment },
  ]);
}

function environmentMetric(world: MonitoredWorld, metricName: string): Promise<number | undefined> {
  return metricSum(clients.cloudwatch, METRICS_TEST_NAMESPACE, metricName, [{ Name: 'Environment', Value: world.environment }]);
}

/** Runs the monitor where delivery is expected to fail, returning the summary the error carries. */
async function runExpectingDeliveryError(...args: Parameters<typeof runHealthMonitor>): Promise<{ error: HealthMonitorDeliveryError; summary: HealthMonitorSummary }> {
  try {
    await runHealthMonitor(...args);
  } catch (err) {
    if (err instanceof HealthMonitorDeliveryError) return { error: err, summary: err.summary };
    throw err;
  }
  throw new Error('expected the run to fail with HealthMonitorDeliveryError');
}

describe('runHealthMonitor', () => {
  it('publishes every metric and the heartbeat, and alerts nobody, when everything is healthy', async () => {
    const world = await createWorld(clients);

    const summary = await runHealthMonitor(ports(), settingsFor(world, healthEndpoint.url));

    expect(summary).toMatchObject({ healthy: true, failedChecks: [], alert: { required: false }, metrics: { delivered: true, count: 7 } });
    for (const check of CHECK_NAMES) {
      expect(summary.results[check]).toMatchObject({ healthy: true, outcome: 'healthy' });
      expect(await succeeded(world, check)).toBe(1);
    }
    expect(summary.results.Route53HealthCheck.reason).toBe('1 of 1 Route 53 checkers report success');
    expect(await environmentMetric(world, 'HealthMonitorHeartbeat')).toBe(1);
    expect(await environmentMetric(world, 'OrdersDlqDepth')).toBe(0);
    expect(await environmentMetric(world, 'HealthEndpointLatency')).toBeGreaterThanOrEqual(0);
    expect(await alertsOf(world)).toEqual([]);
    expect(await eventsOf(world)).toEqual([]);
    expect(healthEndpoint.requests.at(-1)).toBe('GET /v1/health');
  });

  it('sends one alert and one event naming the health endpoint when it answers 503', async () => {
    const world = await createWorld(clients);
    healthEndpoint.responder = json(503, FAILING_BODY);

    const summary = await runHealthMonitor(ports(), settingsFor(world, healthEndpoint.url));

    expect(summary.failedChecks).toEqual(['HealthEndpoint']);
    expect(summary.results.HealthEndpoint).toMatchObject({ outcome: 'unhealthy', measurements: { httpStatus: 503 } });
    expect(summary.alert).toMatchObject({ required: true, sns: { delivered: true }, event: { delivered: true } });
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.Subject).toBe(`CRITICAL trading-platform [${world.environment}]: 1 of 4 health checks failed`);
    expect(alerts[0]?.Message).toContain('- HealthEndpoint (unhealthy): HTTP 503 from');
    expect(alerts[0]?.Message).toContain('"writer":"fail"');
    const events = await eventsOf(world);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'trading.platform',
      'detail-type': 'HealthCheckFailed',
      detail: { environment: world.environment, failedChecks: ['HealthEndpoint'], severity: 'CRITICAL', checkedAt: summary.checkedAt },
    });
    expect(events[0]?.detail.results['SessionTable']).toMatchObject({ healthy: true });
    expect(await succeeded(world, 'HealthEndpoint')).toBe(0);
    expect(await succeeded(world, 'SessionTable')).toBe(1);
    expect(await environmentMetric(world, 'HealthMonitorHeartbeat')).toBe(1);
  });

  it('fails the endpoint check with a timeout reason when the endpoint hangs, without holding up the others', async () => {
    const world = await createWorld(clients);
    healthEndpoint.responder = hang;

    const summary = await runHealthMonitor(ports(), settingsFor(world, healthEndpoint.url, { httpTimeoutMs: 300 }));

    expect(summary.failedChecks).toEqual(['HealthEndpoint']);
    expect(summary.results.HealthEndpoint).toMatchObject({ outcome: 'error', reason: 'HealthEndpoint timed out after 300 ms' });
    expect(summary.results.HealthEndpoint.durationMs).toBeLessThan(2_000);
    expect(summary.results.HealthEndpoint.measurements.latencyMs).toBeUndefined();
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.Message).toContain('- HealthEndpoint (could not be checked): HealthEndpoint timed out after 300 ms');
    // No response, no latency: the metric is absent rather than a made-up number.
    expect(await environmentMetric(world, 'HealthEndpointLatency')).toBeUndefined();
  });

  it('alerts on dead-lettered orders and publishes the DLQ depth', async () => {
    const world = await createWorld(clients);
    await deadLetterOrders(clients.sqs, world.ordersDlqUrl, 2);

    const summary = await runHealthMonitor(ports(), settingsFor(world, healthEndpoint.url));

    expect(summary.failedChecks).toEqual(['OrdersDlq']);
    expect(summary.results.OrdersDlq.measurements).toEqual({ dlqDepth: 2, dlqVisible: 2, dlqInFlight: 0 });
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.Message).toContain(`- OrdersDlq (unhealthy): 2 message(s) in the orders DLQ ${world.ordersDlqUrl} (2 visible, 0 in flight)`);
    expect(await eventsOf(world)).toHaveLength(1);
    expect(await environmentMetric(world, 'OrdersDlqDepth')).toBe(2);
  });

  it('alerts when the session table does not exist', async () => {
    const world = await createWorld(clients);
    const missingTable = uniqueName('missing-sessions');

    const summary = await runHealthMonitor(ports(), settingsFor(world, healthEndpoint.url, { sessionTableName: missingTable }));

    expect(summary.failedChecks).toEqual(['SessionTable']);
    expect(summary.results.SessionTable.reason).toMatch(new RegExp(`^session table ${missingTable} does not exist`));
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.Message).toContain(`- SessionTable (unhealthy): session table ${missingTable} does not exist`);
    expect((await eventsOf(world))[0]?.detail.failedChecks).toEqual(['SessionTable']);
  });

  it('sends exactly one alert and one event listing every failure when all four checks fail', async () => {
    const world = await createWorld(clients);
    healthEndpoint.responder = json(503, FAILING_BODY);
    await deadLetterOrders(clients.sqs, world.ordersDlqUrl, 1);
    const settings = settingsFor(world, healthEndpoint.url, { sessionTableName: uniqueName('missing'), healthCheckId: 'no-such-health-check' });

    const summary = await runHealthMonitor(ports(), settings);

    expect(summary.failedChecks).toEqual(['HealthEndpoint', 'Route53HealthCheck', 'OrdersDlq', 'SessionTable']);
    expect(summary.results.Route53HealthCheck).toMatchObject({ outcome: 'error', reason: expect.stringContaining('NoSuchHealthCheck') });
    const alerts = await alertsOf(world);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.Subject).toBe(`CRITICAL trading-platform [${world.environment}]: 4 of 4 health checks failed`);
    expect(alert?.Subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    for (const check of CHECK_NAMES) expect(alert?.Message).toContain(`- ${check} (`);
    expect(alert?.Message).not.toContain('Passed checks');
    const events = await eventsOf(world);
    expect(events).toHaveLength(1);
    expect(events[0]?.detail.failedChecks).toEqual(['HealthEndpoint', 'Route53HealthCheck', 'OrdersDlq', 'SessionTable']);
    expect(Object.keys(events[0]?.detail.results ?? {}).sort()).toEqual([...CHECK_NAMES].sort());
    for (const check of CHECK_NAMES) expect(await succeeded(world, check)).toBe(0);
    expect(await environmentMetric(world, 'HealthMonitorHeartbeat')).toBe(1);
  });

  it('times out one hung AWS dependency on its own and still completes the run', async () => {
    const world = await createWorld(clients);
    // An SQS endpoint that accepts the connection and never answers.
    const stuckSqsEndpoint = await LocalServer.start(hang, '');
    const stuckSqs = new SQSClient({ ...awsClientConfig(), ...SDK_RETRY, endpoint: stuckSqsEndpoint.url });
    try {
      const stuckPorts = ports({ getQueueAttributes: sdkPorts({ ...clients, sqs: stuckSqs }).getQueueAttributes });

      // 1.5 s: short enough to prove the bound, long enough that moto's own answers (PutEvents, SNS) never hit it
      // on a loaded 2-core machine; at 500 ms they sometimes did.
      const summary = await runHealthMonitor(stuckPorts, settingsFor(world, healthEndpoint.url, { awsTimeoutMs: 1_500 }));

      expect(summary.failedChecks).toEqual(['OrdersDlq']);
      expect(summary.results.OrdersDlq).toMatchObject({ outcome: 'error', reason: 'OrdersDlq timed out after 1500 ms' });
      expect(summary.results.HealthEndpoint.healthy).toBe(true);
      expect(summary.durationMs).toBeLessThan(6_000);
      expect(stuckSqsEndpoint.requests).toHaveLength(1);
      expect(await alertsOf(world)).toHaveLength(1);
      // The depth could not be read, so no depth is published; the failed check is.
      expect(await environmentMetric(world, 'OrdersDlqDepth')).toBeUndefined();
      expect(await succeeded(world, 'OrdersDlq')).toBe(0);
    } finally {
      stuckSqs.destroy();
      await stuckSqsEndpoint.stop();
    }
  });

  it('still alerts when CloudWatch is unreachable, then fails the invocation', async () => {
    const world = await createWorld(clients);
    healthEndpoint.responder = json(503, FAILING_BODY);
    const closedPort = await findFreePort();
    const unreachableCloudWatch = new CloudWatchClient({ ...awsClientConfig(), ...SDK_RETRY, endpoint: `http://127.0.0.1:${closedPort}` });
    try {
      const brokenMetrics = ports({ putMetricData: sdkPorts({ ...clients, cloudwatch: unreachableCloudWatch }).putMetricData });

      const { error, summary } = await runExpectingDeliveryError(brokenMetrics, settingsFor(world, healthEndpoint.url));

      expect(error.message).toMatch(/could not deliver: metrics \(PutMetricData: .*ECONNREFUSED/);
      expect(summary.metrics).toMatchObject({ delivered: false });
      expect(summary.alert).toMatchObject({ required: true, sns: { delivered: true }, event: { delivered: true } });
      expect(await alertsOf(world)).toHaveLength(1);
      expect(await eventsOf(world)).toHaveLength(1);
      expect(await environmentMetric(world, 'HealthMonitorHeartbeat')).toBeUndefined();
    } finally {
      unreachableCloudWatch.destroy();
    }
  });

  /** A run with a failing health endpoint whose HealthCheckFailed entries EventBridge refuses as `refuse` picks. */
  async function runWithRefusingBus(refuse: EntryRefusal): Promise<{ world: MonitoredWorld; calls: number; run: Promise<HealthMonitorSummary> }> {
    const world = await createWorld(clients);
    healthEndpoint.responder = json(503, FAILING_BODY);
    const bus = await startRefusingEventBridge(refuse, { connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 1 });
    const eventBridge = new EventBridgeClient({ ...awsClientConfig(), ...SDK_RETRY, endpoint: bus.proxy.endpoint });
    const run = runHealthMonitor(ports({ putEvents: sdkPorts({ ...clients, eventBridge }).putEvents }), settingsFor(world, healthEndpoint.url)).finally(async () => {
      eventBridge.destroy();
      await bus.close();
    });
    await run.catch(() => undefined);
    return { world, calls: bus.entriesOfCalls().length, run };
  }

  it('sends a throttled HealthCheckFailed event again and delivers it once', async () => {
    const { world, calls, run } = await runWithRefusingBus((ordinal) => (ordinal === 1 ? throttledPutEventsEntry() : undefined));
    const summary = await run;
    expect(calls).toBe(2);
    expect(summary.alert).toMatchObject({ required: true, event: { delivered: true, id: expect.any(String) } });
    expect(await eventsOf(world)).toHaveLength(1);
  });

  it('fails the invocation, naming the code, when EventBridge refuses the event for good', async () => {
    const { world, calls, run } = await runWithRefusingBus(() => refusedPutEventsEntry('AccessDeniedException', 'not authorized'));
    const error = await run.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(HealthMonitorDeliveryError);
    expect(calls).toBe(1);
    expect((error as HealthMonitorDeliveryError).summary.alert).toMatchObject({
      required: true,
      sns: { delivered: true },
      event: { delivered: false, error: 'PutEvents did not accept the event: AccessDeniedException: not authorized' },
    });
    expect(await eventsOf(world)).toEqual([]);
  });

  it('publishes metrics and the event when the SNS alert cannot be sent, then fails the invocation', async () => {
    const world = await createWorld(clients);
    healthEndpoint.responder = json(503, FAILING_BODY);
    const missingTopic = `${world.alertTopicArn}-deleted`;

    const { error, summary } = await runExpectingDeliveryError(ports(), settingsFor(world, healthEndpoint.url, { alertTopicArn: missingTopic }));

    expect(error.message).toMatch(/could not deliver: SNS alert \(SNS Publish: NotFound/);
    expect(summary.alert).toMatchObject({ required: true, sns: { delivered: false }, event: { delivered: true } });
    expect(summary.metrics).toMatchObject({ delivered: true });
    expect(await environmentMetric(world, 'HealthMonitorHeartbeat')).toBe(1);
    expect(await eventsOf(world)).toHaveLength(1);
    expect(await alertsOf(world)).toEqual([]);
  });
});
