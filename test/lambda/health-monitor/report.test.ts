/**
 * What leaves the monitor, without AWS: metric data per run, the SNS subject within SNS's limits, the alert body and
 * the HealthCheckFailed event detail.
 */
import type { CheckResult } from '../../../lambda/health-monitor/checks';
import { alertMessage, alertSubject, buildMetricData, failureEventDetail, MAX_SUBJECT_LENGTH } from '../../../lambda/health-monitor/report';

const RESULTS: readonly CheckResult[] = [
  { check: 'HealthEndpoint', healthy: false, outcome: 'unhealthy', reason: 'HTTP 503 from https://api/v1/health', durationMs: 40, measurements: { httpStatus: 503, latencyMs: 38 } },
  { check: 'Route53HealthCheck', healthy: true, outcome: 'healthy', reason: '8 of 8 Route 53 checkers report success', durationMs: 90, measurements: {} },
  { check: 'OrdersDlq', healthy: false, outcome: 'error', reason: 'OrdersDlq timed out after 10000 ms', durationMs: 10_000, measurements: {} },
  { check: 'SessionTable', healthy: true, outcome: 'healthy', reason: 'session table t is ACTIVE', durationMs: 30, measurements: { tableStatus: 'ACTIVE' } },
];
const CHECKED_AT = '2026-11-25T16:00:00.000Z';

describe('buildMetricData', () => {
  it('publishes one success flag per check, the latency that was measured and the heartbeat', () => {
    const timestamp = new Date(CHECKED_AT);
    const data = buildMetricData(RESULTS, 'stg', timestamp);
    expect(data.map((datum) => [datum.MetricName, datum.Dimensions?.map((d) => `${d.Name}=${d.Value}`).join(','), datum.Value, datum.Unit])).toEqual([
      ['HealthCheckSucceeded', 'Check=HealthEndpoint,Environment=stg', 0, 'Count'],
      ['HealthCheckSucceeded', 'Check=Route53HealthCheck,Environment=stg', 1, 'Count'],
      ['HealthCheckSucceeded', 'Check=OrdersDlq,Environment=stg', 0, 'Count'],
      ['HealthCheckSucceeded', 'Check=SessionTable,Environment=stg', 1, 'Count'],
      ['HealthEndpointLatency', 'Environment=stg', 38, 'Milliseconds'],
      // No OrdersDlqDepth: the depth was not read, and a 0 would claim an empty DLQ.
      ['HealthMonitorHeartbeat', 'Environment=stg', 1, 'Count'],
    ]);
    expect(data.every((datum) => datum.Timestamp === timestamp)).toBe(true);
  });
});

describe('alertSubject', () => {
  it('names the environment and the count', () => {
    expect(alertSubject('prod', 2, 4)).toBe('CRITICAL trading-platform [prod]: 2 of 4 health checks failed');
  });

  it('stays under the SNS limit and in printable ASCII whatever the environment is called', () => {
    const subject = alertSubject(`${'x'.repeat(150)}\nstg`, 4, 4);
    expect(subject.length).toBe(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^CRITICAL trading-platform \[x+\.\.\.\]: 4 of 4 health checks failed$/);
    expect(alertSubject('stg\u00e9\t', 1, 4)).toBe('CRITICAL trading-platform [stg??]: 1 of 4 health checks failed');
  });
});

describe('alertMessage and failureEventDetail', () => {
  const findings = { environment: 'stg', checkedAt: CHECKED_AT, results: RESULTS };

  it('lists every failed check with its reason before the passed ones', () => {
    expect(alertMessage(findings)).toBe(
      [
        'CRITICAL: 2 of 4 health checks of trading-platform environment "stg" failed in the run started at 2026-11-25T16:00:00.000Z.',
        '',
        'Failed checks:',
        '- HealthEndpoint (unhealthy): HTTP 503 from https://api/v1/health',
        '- OrdersDlq (could not be checked): OrdersDlq timed out after 10000 ms',
        '',
        'Passed checks:',
        '- Route53HealthCheck: 8 of 8 Route 53 checkers report success',
        '- SessionTable: session table t is ACTIVE',
        '',
        'The same findings are on the event bus as a HealthCheckFailed event (severity CRITICAL).',
      ].join('\n'),
    );
  });

  it('builds the event detail the bus rules filter on', () => {
    expect(failureEventDetail(findings)).toEqual({
      environment: 'stg',
      failedChecks: ['HealthEndpoint', 'OrdersDlq'],
      severity: 'CRITICAL',
      checkedAt: CHECKED_AT,
      results: {
        HealthEndpoint: { healthy: false, outcome: 'unhealthy', reason: 'HTTP 503 from https://api/v1/health', durationMs: 40, httpStatus: 503, latencyMs: 38 },
        Route53HealthCheck: { healthy: true, outcome: 'healthy', reason: '8 of 8 Route 53 checkers report success', durationMs: 90 },
        OrdersDlq: { healthy: false, outcome: 'error', reason: 'OrdersDlq timed out after 10000 ms', durationMs: 10_000 },
        SessionTable: { healthy: true, outcome: 'healthy', reason: 'session table t is ACTIVE', durationMs: 30, tableStatus: 'ACTIVE' },
      },
    });
  });
});
