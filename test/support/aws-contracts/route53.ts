/**
 * What Route 53 answers to GetHealthCheckStatus, as AWS documents it, for the verification's DNS-health check.
 */

export interface Observation {
  readonly region: string;
  readonly ipAddress: string;
  /** "Success: ..." or "Failure: ...", the form the Route 53 API and console report (see below). */
  readonly status: string;
  readonly checkedTime: string;
}

/** Status texts as Route 53 reports them (the same ones test/lambda/health-monitor/checks.test.ts uses). */
export const ROUTE53_STATUS = {
  success: 'Success: HTTP Status Code 200, OK. Resolved IP: 52.1.2.3',
  failure503: 'Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 52.1.2.3',
  timeout: 'Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.',
} as const;

/**
 * The REST-XML answer to `GET /2013-04-01/healthcheck/{HealthCheckId}/status` (Route 53 API Reference,
 * GetHealthCheckStatus, Response Syntax: https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html):
 * one HealthCheckObservation (IPAddress, Region, StatusReport with Status and CheckedTime) per health checker.
 */
export function getHealthCheckStatusXml(observations: readonly Observation[]): string {
  const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const items = observations
    .map(
      (observation) =>
        `<HealthCheckObservation><Region>${observation.region}</Region><IPAddress>${observation.ipAddress}</IPAddress>` +
        `<StatusReport><Status>${escape(observation.status)}</Status><CheckedTime>${observation.checkedTime}</CheckedTime></StatusReport></HealthCheckObservation>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<GetHealthCheckStatusResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HealthCheckObservations>${items}</HealthCheckObservations></GetHealthCheckStatusResponse>`;
}

/** Observations of `count` checkers, the first `succeeding` of them reporting success. */
export function observations(count: number, succeeding: number): Observation[] {
  const regions = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'];
  return Array.from({ length: count }, (_, index) => ({
    region: regions[index % regions.length] ?? 'us-east-1',
    ipAddress: `15.177.${index}.14`,
    status: index < succeeding ? ROUTE53_STATUS.success : ROUTE53_STATUS.failure503,
    checkedTime: '2026-11-25T16:00:00Z',
  }));
}
