/**
 * The deployed entry point as Lambda calls it: environment parsed once, default-configured SDK clients (pointed at moto
 * by the test run's AWS_ENDPOINT_URL), and the invocation failing only for configuration or delivery faults.
 */
import type { Context } from 'aws-lambda';
import { findFreePort } from '../../support/services/process-utils';
import { createWorld, destroyClients, drainQueue, mockedClients, parseSnsEnvelope, type MotoClients } from './harness';

const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'lambda-health-monitor-us-east-1-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:lambda-health-monitor-us-east-1-test',
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/lambda-health-monitor-us-east-1-test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

const MONITOR_VARIABLES = [
  'HEALTH_URL',
  'HEALTH_CHECK_ID',
  'ORDERS_DLQ_URL',
  'SESSION_TABLE_NAME',
  'ALERT_TOPIC_ARN',
  'EVENT_BUS_NAME',
  'METRICS_NAMESPACE',
  'ENVIRONMENT_SUFFIX',
  'HTTP_TIMEOUT_MS',
  'POWERTOOLS_LOG_LEVEL',
] as const;

let clients: MotoClients;
const saved = new Map<string, string | undefined>();

beforeAll(() => {
  clients = mockedClients();
  for (const name of MONITOR_VARIABLES) saved.set(name, process.env[name]);
  // The handler logs through Powertools; the assertions below are on what it delivers, not on its log lines.
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

afterAll(() => {
  destroyClients(clients);
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('health monitor handler', () => {
  // Each test loads a fresh module: the handler wires its clients once per container, as in Lambda.
  beforeEach(() => jest.resetModules());
  afterEach(() => jest.restoreAllMocks());

  it('fails the invocation on a configuration fault, before calling anything', async () => {
    delete process.env['HEALTH_URL'];
    const { handler } = await import('../../../lambda/health-monitor/handler');
    // The class from the same fresh module registry as the handler, so instanceof compares like with like.
    const { ConfigurationError: LoadedConfigurationError } = await import('../../../lambda/shared/errors');

    await expect(handler({}, CONTEXT)).rejects.toThrow('Environment variable HEALTH_URL is required but not set');
    // Not cached as a broken wiring: the next invocation reads the environment again (and fails the same way here).
    await expect(handler({}, CONTEXT)).rejects.toBeInstanceOf(LoadedConfigurationError);
  });

  it('runs every check from the environment and alerts through SNS when the API cannot be reached', async () => {
    const world = await createWorld(clients);
    // Nothing listens on this loopback port: the endpoint and DLQ checks fail fast with a refused connection.
    const closedPort = await findFreePort();
    const sdkWarnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    Object.assign(process.env, {
      HEALTH_URL: `https://127.0.0.1:${closedPort}/v1/health`,
      HEALTH_CHECK_ID: world.healthCheckId,
      // The SQS client sends to the queue URL's own host (why the config insists on https): here, the closed port.
      ORDERS_DLQ_URL: `https://127.0.0.1:${closedPort}/123456789012/sqs-orders-dlq-us-east-1-test.fifo`,
      SESSION_TABLE_NAME: world.sessionTableName,
      ALERT_TOPIC_ARN: world.alertTopicArn,
      EVENT_BUS_NAME: world.eventBusName,
      METRICS_NAMESPACE: 'TradingPlatformHealthMonitorTest',
      ENVIRONMENT_SUFFIX: world.environment,
      HTTP_TIMEOUT_MS: '2000',
    });
    const { handler } = await import('../../../lambda/health-monitor/handler');

    const summary = await handler({ 'detail-type': 'Scheduled Event' }, CONTEXT);

    expect(summary.failedChecks).toEqual(['HealthEndpoint', 'OrdersDlq']);
    expect(summary.results.HealthEndpoint.reason).toBe(`TypeError: fetch failed <- connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    expect(summary.results.OrdersDlq.reason).toContain(`ECONNREFUSED 127.0.0.1:${closedPort}`);
    expect(sdkWarnings).toHaveBeenCalledWith(expect.stringContaining('using QueueUrl host as endpoint'));
    expect(summary.results.Route53HealthCheck.healthy).toBe(true);
    expect(summary.results.SessionTable.healthy).toBe(true);
    expect(summary.metrics).toMatchObject({ delivered: true });
    const alerts = (await drainQueue(clients.sqs, world.alertObserverUrl)).map(parseSnsEnvelope);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.Subject).toContain(`[${world.environment}]`);
    expect(await drainQueue(clients.sqs, world.eventObserverUrl)).toHaveLength(1);
  });
});
