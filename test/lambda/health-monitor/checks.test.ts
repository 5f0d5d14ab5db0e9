/**
 * The probes one by one: how the health endpoint's answer, Route 53 checker observations, DLQ attributes and table
 * status are judged, and how runCheck contains failures. Real HTTP on loopback, real SDK parsing; no AWS.
 */
import type { HealthCheckObservation, HealthCheckRegion } from '@aws-sdk/client-route-53';
import { Route53Client } from '@aws-sdk/client-route-53';
import {
  evaluateHealthCheckObservations,
  probeHealthEndpoint,
  probeOrdersDlq,
  probeRoute53HealthCheck,
  probeSessionTable,
  runCheck,
} from '../../../lambda/health-monitor/checks';
import { sdkPorts, systemClock } from '../../../lambda/health-monitor/ports';
import { awsClientConfig } from '../../support/services';
import { destroyClients, json, LocalServer, mockedClients, SDK_RETRY } from './harness';

function observation(region: HealthCheckRegion, status: string | undefined): HealthCheckObservation {
  return {
    Region: region,
    IPAddress: '15.177.2.14',
    ...(status === undefined ? {} : { StatusReport: { Status: status, CheckedTime: new Date('2026-11-25T16:00:00Z') } }),
  };
}

// Status texts in the form the Route 53 API and console report them: "Success: ..." or "Failure: ...".
const SUCCESS = 'Success: HTTP Status Code 200, OK. Resolved IP: 52.1.2.3';
const FAILURE_503 = 'Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 52.1.2.3';
const FAILURE_TIMEOUT =
  'Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.';

describe('evaluateHealthCheckObservations', () => {
  it('is healthy when a strict majority of checkers report success', () => {
    const verdict = evaluateHealthCheckObservations([
      observation('us-east-1', SUCCESS),
      observation('us-west-1', SUCCESS),
      observation('eu-west-1', SUCCESS),
      observation('ap-southeast-1', FAILURE_TIMEOUT),
      observation('sa-east-1', FAILURE_503),
    ]);
    expect(verdict).toEqual({
      healthy: true,
      reason: '3 of 5 Route 53 checkers report success',
      measurements: { checkersReporting: 5, checkersSucceeding: 3 },
    });
  });

  it('is unhealthy on a tie, and quotes one failing checker', () => {
    const verdict = evaluateHealthCheckObservations([
      observation('us-east-1', SUCCESS),
      observation('us-west-2', FAILURE_503),
      observation('eu-west-1', SUCCESS),
      observation('ap-northeast-1', FAILURE_TIMEOUT),
    ]);
    expect(verdict.healthy).toBe(false);
    expect(verdict.reason).toBe(`only 2 of 4 Route 53 checkers report success; e.g. us-west-2: ${FAILURE_503}`);
  });

  it('counts an observation without a status report as a failure', () => {
    const verdict = evaluateHealthCheckObservations([observation('us-east-1', SUCCESS), observation('us-west-1', undefined)]);
    expect(verdict).toMatchObject({ healthy: false, reason: 'only 1 of 2 Route 53 checkers report success; e.g. us-west-1: no status report' });
  });

  it('is unhealthy when there are no observations at all (a new or deleted health check)', () => {
    expect(evaluateHealthCheckObservations([])).toMatchObject({ healthy: false, reason: 'Route 53 returned no checker observations' });
  });

  it('reads many mixed observations through the real SDK client from a Route 53 XML answer', async () => {
    // The documented GetHealthCheckStatus response syntax, served as-is: moto always reports one successful checker,
    // so this is how the SDK's XML parsing of a real mixed answer reaches the verdict.
    const regions: HealthCheckRegion[] = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];
    const statuses = regions.map((_, index) => (index < 3 ? SUCCESS : FAILURE_503));
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<GetHealthCheckStatusResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HealthCheckObservations>' +
      regions
        .map(
          (region, index) =>
            `<HealthCheckObservation><Region>${region}</Region><IPAddress>15.177.${index}.14</IPAddress>` +
            `<StatusReport><Status>${statuses[index] ?? ''}</Status><CheckedTime>2026-11-25T16:00:00.000Z</CheckedTime></StatusReport>` +
            '</HealthCheckObservation>',
        )
        .join('') +
      '</HealthCheckObservations></GetHealthCheckStatusResponse>';
    const route53Api = await LocalServer.start((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(xml);
    }, '');
    const route53 = new Route53Client({ ...awsClientConfig(), ...SDK_RETRY, endpoint: route53Api.url });
    const otherClients = mockedClients();
    try {
      const { getHealthCheckStatus } = sdkPorts({ ...otherClients, route53 });
      const verdict = await probeRoute53HealthCheck(getHealthCheckStatus, 'abcdef12-3456-7890-abcd-ef1234567890', new AbortController().signal);
      expect(verdict).toMatchObject({ healthy: false, measurements: { checkersReporting: 8, checkersSucceeding: 3 } });
      expect(route53Api.requests).toEqual(['GET /2013-04-01/healthcheck/abcdef12-3456-7890-abcd-ef1234567890/status']);
    } finally {
      route53.destroy();
      destroyClients(otherClients);
      await route53Api.stop();
    }
  });
});

describe('probeHealthEndpoint', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await LocalServer.start(json(200, { status: 'ok' }));
  });
  afterAll(async () => {
    await server.stop();
  });

  const probe = (): ReturnType<typeof probeHealthEndpoint> => probeHealthEndpoint(globalThis.fetch, server.url, systemClock, new AbortController().signal);

  it('is healthy on 200 with a top-level status "ok", and measures latency', async () => {
    server.responder = json(200, { status: 'ok', checks: { writer: 'ok' } });
    const verdict = await probe();
    expect(verdict.healthy).toBe(true);
    expect(verdict.measurements?.httpStatus).toBe(200);
    expect(verdict.measurements?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('is unhealthy on 200 when only a nested component says "ok"', async () => {
    server.responder = json(200, { status: 'degraded', checks: { writer: { status: 'ok' }, reader: { status: 'fail' } } });
    const verdict = await probe();
    expect(verdict.healthy).toBe(false);
    expect(verdict.reason).toMatch(/^HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/v1\/health in \d+ ms; body status "degraded": \{"status":"degraded"/);
  });

  it('is unhealthy on 200 with a body that is not JSON', async () => {
    server.responder = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>"status":"ok"</html>');
    };
    const verdict = await probe();
    expect(verdict).toMatchObject({ healthy: false, reason: expect.stringContaining('body is not a JSON object with a status: <html>') });
  });

  it('reports a redirect as such instead of following it to a page that answers 200', async () => {
    server.responder = (_request, response) => {
      response.writeHead(302, { location: '/somewhere-else' });
      response.end();
    };
    const verdict = await probe();
    expect(verdict).toMatchObject({ healthy: false, measurements: { httpStatus: 302 } });
    expect(server.requests.filter((request) => request.includes('somewhere-else'))).toEqual([]);
  });
});

describe('probeOrdersDlq and probeSessionTable', () => {
  const signal = new AbortController().signal;

  it('adds visible and in-flight messages', async () => {
    const verdict = await probeOrdersDlq(
      async () => ({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '3' } }),
      'https://sqs.us-east-1.amazonaws.com/123456789012/sqs-orders-dlq-us-east-1-stg.fifo',
      signal,
    );
    expect(verdict).toMatchObject({ healthy: false, measurements: { dlqDepth: 3, dlqVisible: 0, dlqInFlight: 3 } });
  });

  it('refuses to call a DLQ empty when SQS did not say how many messages it holds', async () => {
    await expect(probeOrdersDlq(async () => ({ Attributes: {} }), 'https://sqs.example/q', signal)).rejects.toThrow(
      'SQS returned no valid ApproximateNumberOfMessages for https://sqs.example/q (got undefined)',
    );
  });

  it('treats a table that is not ACTIVE as unhealthy', async () => {
    const verdict = await probeSessionTable(async () => ({ Table: { TableStatus: 'UPDATING' } }), 'sessions', signal);
    expect(verdict).toEqual({
      healthy: false,
      reason: 'session table sessions is "UPDATING", expected "ACTIVE"',
      measurements: { tableStatus: 'UPDATING' },
    });
  });
});

describe('runCheck', () => {
  it('turns a probe that throws synchronously into a failed result', async () => {
    const result = await runCheck('SessionTable', 1_000, systemClock, () => {
      throw new TypeError('cannot read TableStatus');
    });
    expect(result).toMatchObject({ check: 'SessionTable', healthy: false, outcome: 'error', reason: 'TypeError: cannot read TableStatus' });
  });

  it('names the error and its cause, as fetch hides the useful part in cause', async () => {
    const result = await runCheck('HealthEndpoint', 1_000, systemClock, async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    });
    expect(result.reason).toBe('TypeError: fetch failed <- connect ECONNREFUSED 127.0.0.1:9');
  });

  it('aborts the probe at the deadline and reports the timeout', async () => {
    let abortedWith: unknown;
    const result = await runCheck('OrdersDlq', 50, systemClock, (signal) => {
      signal.addEventListener('abort', () => {
        abortedWith = signal.reason;
      });
      return new Promise(() => undefined);
    });
    expect(result).toMatchObject({ outcome: 'error', reason: 'OrdersDlq timed out after 50 ms' });
    expect(abortedWith).toBeInstanceOf(Error);
  });
});
