/**
 * Monthly cost model of one stage in us-east-1, from the resource counts of the synthesized templates (so the model
 * follows the code) and public list prices. Prints idle cost and the added cost per million orders a day.
 * Usage: npx ts-node --transpile-only bench/cost-model.ts [cdk.out] [stage assembly dir name]
 */
import * as fs from 'fs';
import * as path from 'path';

/** us-east-1 list prices (USD), as published on the AWS pricing pages; checked 2026-11-25. */
export const PRICES = {
  auroraAcuHour: 0.12, // Aurora Serverless v2, Aurora Standard
  auroraStorageGbMonth: 0.1,
  auroraIoPerMillion: 0.2,
  interfaceEndpointAzHour: 0.01,
  endpointDataGb: 0.01,
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestsPerMillion: 0.2,
  sqsFifoPerMillion: 0.5,
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  apiGatewayRestPerMillion: 3.5,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  wafRequestsPerMillion: 0.6,
  cloudwatchAlarmMetricMonth: 0.1,
  cloudwatchCompositeAlarmMonth: 0.5,
  cloudwatchCustomMetricMonth: 0.3,
  cloudwatchDashboardMonth: 3,
  logsIngestGb: 0.5,
  logsStorageGbMonth: 0.03,
  route53HealthCheckMonth: 0.75, // non-AWS endpoint (execute-api host)
  route53HealthCheckOptionMonth: 1, // each of HTTPS, string matching, latency measurement
  kmsKeyMonth: 1,
  kmsRequestsPer10k: 0.03,
  secretMonth: 0.4,
  eventBridgeCustomEventsPerMillion: 1,
  xrayTracesPerMillion: 5,
  natGatewayHour: 0.045, // avoided: shown for the lever
} as const;

const HOURS_PER_MONTH = 730;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface ResourceCounts {
  readonly availabilityZones: number;
  readonly interfaceEndpoints: number;
  readonly auroraInstances: number;
  readonly auroraMinAcu: number;
  readonly functions: number;
  readonly alarmMetrics: number;
  readonly compositeAlarms: number;
  readonly dashboards: number;
  readonly healthChecks: number;
  readonly healthCheckOptions: number;
  readonly kmsKeys: number;
  readonly managedSecrets: number;
  readonly webAcls: number;
  readonly webAclRules: number;
  readonly logGroups: number;
}

/** Counts the billable resources of one stage from its templates. */
export function countResources(resources: readonly Resource[]): ResourceCounts {
  const ofType = (type: string): Resource[] => resources.filter((resource) => resource.Type === type);
  const cluster = ofType('AWS::RDS::DBCluster')[0];
  const scaling = cluster?.Properties?.ServerlessV2ScalingConfiguration as { MinCapacity?: number } | undefined;
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const healthChecks = ofType('AWS::Route53::HealthCheck');
  return {
    availabilityZones: new Set(ofType('AWS::EC2::Subnet').map((subnet) => String(subnet.Properties?.AvailabilityZone))).size,
    interfaceEndpoints: ofType('AWS::EC2::VPCEndpoint').filter((endpoint) => endpoint.Properties?.VpcEndpointType === 'Interface').length,
    auroraInstances: ofType('AWS::RDS::DBInstance').length,
    auroraMinAcu: scaling?.MinCapacity ?? 0,
    functions: ofType('AWS::Lambda::Function').length,
    // A metric-math alarm is billed per metric it reads.
    alarmMetrics: alarms.reduce((sum, alarm) => sum + Math.max(1, ((alarm.Properties?.Metrics as unknown[] | undefined) ?? []).filter((m) => !(m as { Expression?: string }).Expression).length), 0),
    compositeAlarms: ofType('AWS::CloudWatch::CompositeAlarm').length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    healthChecks: healthChecks.length,
    healthCheckOptions: healthChecks.reduce((sum, check) => {
      const config = check.Properties?.HealthCheckConfig as { Type?: string; MeasureLatency?: boolean } | undefined;
      return sum + (config?.Type?.startsWith('HTTPS') ? 1 : 0) + (config?.Type?.endsWith('STR_MATCH') ? 1 : 0) + (config?.MeasureLatency ? 1 : 0);
    }, 0),
    kmsKeys: ofType('AWS::KMS::Key').length,
    managedSecrets: ofType('AWS::RDS::DBCluster').filter((c) => c.Properties?.ManageMasterUserPassword === true).length,
    webAcls: ofType('AWS::WAFv2::WebACL').length,
    webAclRules: ofType('AWS::WAFv2::WebACL').reduce((sum, acl) => sum + ((acl.Properties?.Rules as unknown[] | undefined)?.length ?? 0), 0),
    logGroups: ofType('AWS::Logs::LogGroup').length,
  };
}

export interface CostLine {
  readonly item: string;
  readonly idle: number;
  readonly perMillionOrdersPerDay: number;
  readonly basis: string;
}

/** Monthly cost lines: idle (no traffic) and the addition for 1,000,000 orders a day (30.4 M a month). */
export function costLines(counts: ResourceCounts): CostLine[] {
  const ordersPerMonth = 1_000_000 * 30.4;
  const millions = ordersPerMonth / 1e6;
  // Traffic assumptions per order, stated so they can be challenged: 1 API request; 1 SQS send + receive/delete in
  // batches of ~5; processor batches of 5 at 512 MB for 60 ms; 1 EventBridge event; ~1.5 KB of logs and ~1 KB through
  // the interface endpoints; KMS data keys reused; 5% of requests traced; +1.5 ACU on average during trading hours.
  const processorInvocations = ordersPerMonth / 5;
  return [
    { item: 'Aurora Serverless v2 (writer + reader)', idle: counts.auroraInstances * counts.auroraMinAcu * HOURS_PER_MONTH * PRICES.auroraAcuHour + 10 * PRICES.auroraStorageGbMonth, perMillionOrdersPerDay: 2 * 1.5 * 8 * 22 * PRICES.auroraAcuHour + millions * 6 * PRICES.auroraIoPerMillion + 15 * PRICES.auroraStorageGbMonth, basis: `${counts.auroraInstances} instances × ${counts.auroraMinAcu} ACU min × 730 h; +1.5 ACU each for 8 h × 22 trading days; ~6 I/Os and 0.5 KB per order` },
    { item: 'VPC interface endpoints', idle: counts.interfaceEndpoints * counts.availabilityZones * HOURS_PER_MONTH * PRICES.interfaceEndpointAzHour, perMillionOrdersPerDay: millions * 1 * PRICES.endpointDataGb, basis: `${counts.interfaceEndpoints} endpoints × ${counts.availabilityZones} AZs × 730 h` },
    { item: 'Lambda (arm64)', idle: HOURS_PER_MONTH * 120 * 0.25 * 0.5 * PRICES.lambdaArmGbSecond, perMillionOrdersPerDay: (processorInvocations / 1e6) * PRICES.lambdaRequestsPerMillion + processorInvocations * 0.5 * 0.06 * PRICES.lambdaArmGbSecond, basis: `${counts.functions} functions; idle = hourly monitor + health checks (120/h × 250 ms × 0.5 GB)` },
    { item: 'SQS FIFO', idle: 0.03, perMillionOrdersPerDay: millions * (1 + 2 / 5) * PRICES.sqsFifoPerMillion, basis: '1 send + receive/delete per batch of 5; idle = empty long polls' },
    { item: 'API Gateway REST', idle: (HOURS_PER_MONTH * 120) / 1e6 * PRICES.apiGatewayRestPerMillion, perMillionOrdersPerDay: millions * PRICES.apiGatewayRestPerMillion, basis: 'idle = Route 53 checkers (~120 requests/h)' },
    { item: 'WAF', idle: counts.webAcls * PRICES.wafWebAclMonth + counts.webAclRules * PRICES.wafRuleMonth, perMillionOrdersPerDay: millions * PRICES.wafRequestsPerMillion, basis: `${counts.webAcls} web ACL, ${counts.webAclRules} rules/rule groups` },
    { item: 'DynamoDB sessions (on-demand, PITR)', idle: 1 * (PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth), perMillionOrdersPerDay: millions * 0.2 * (PRICES.dynamoWritePerMillion + 2 * PRICES.dynamoReadPerMillion), basis: '1 GB stored; one session touch per 5 orders' },
    { item: 'EventBridge', idle: 0, perMillionOrdersPerDay: millions * PRICES.eventBridgeCustomEventsPerMillion, basis: '1 OrderAccepted/Rejected event per order; archive storage negligible' },
    { item: 'CloudWatch alarms, metrics, dashboard', idle: counts.alarmMetrics * PRICES.cloudwatchAlarmMetricMonth + counts.compositeAlarms * PRICES.cloudwatchCompositeAlarmMonth + counts.dashboards * PRICES.cloudwatchDashboardMonth + 12 * PRICES.cloudwatchCustomMetricMonth, perMillionOrdersPerDay: 0, basis: `${counts.alarmMetrics} alarm metrics, ${counts.compositeAlarms} composite, ${counts.dashboards} dashboard, ~12 custom metrics` },
    { item: 'CloudWatch Logs', idle: 1 * PRICES.logsIngestGb + 2 * PRICES.logsStorageGbMonth, perMillionOrdersPerDay: millions * 1.5 * (PRICES.logsIngestGb + PRICES.logsStorageGbMonth), basis: `${counts.logGroups} log groups; ~1.5 KB per order (access log + function logs)` },
    { item: 'Route 53 health check', idle: counts.healthChecks * PRICES.route53HealthCheckMonth + counts.healthCheckOptions * PRICES.route53HealthCheckOptionMonth, perMillionOrdersPerDay: 0, basis: `${counts.healthChecks} check, ${counts.healthCheckOptions} options (HTTPS, string match, latency)` },
    { item: 'KMS', idle: counts.kmsKeys * PRICES.kmsKeyMonth + 0.3, perMillionOrdersPerDay: (millions * 1e6) / 5000 / 1e4 * PRICES.kmsRequestsPer10k, basis: `${counts.kmsKeys} key; data keys reused (SQS 5 min, S3 bucket keys)` },
    { item: 'Secrets Manager', idle: counts.managedSecrets * PRICES.secretMonth, perMillionOrdersPerDay: 0.05, basis: `${counts.managedSecrets} RDS-managed secret; cached per container` },
    { item: 'X-Ray', idle: 0, perMillionOrdersPerDay: millions * 0.05 * PRICES.xrayTracesPerMillion, basis: '5% sampling beyond the first request per second' },
  ];
}

function stageResources(cdkOut: string, assembly: string): Resource[] {
  const directory = path.join(cdkOut, assembly);
  return fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.template.json'))
    .flatMap((name) => Object.values((JSON.parse(fs.readFileSync(path.join(directory, name), 'utf8')) as { Resources: Record<string, Resource> }).Resources));
}

export function main(cdkOut = 'cdk.out', assembly = 'assembly-TradingPlatformPipeline-Prod'): string {
  const counts = countResources(stageResources(cdkOut, assembly));
  const lines = costLines(counts);
  const idle = lines.reduce((sum, line) => sum + line.idle, 0);
  const perMillion = lines.reduce((sum, line) => sum + line.perMillionOrdersPerDay, 0);
  const rows = lines.map((line) => `| ${line.item} | ${line.idle.toFixed(2)} | ${line.perMillionOrdersPerDay.toFixed(2)} | ${line.basis} |`);
  return [
    `Cost model for ${assembly} (us-east-1, USD per month, list prices checked 2026-11-25)`,
    '',
    '| item | idle | + per 1 M orders/day | basis |',
    '|---|---:|---:|---|',
    ...rows,
    `| **total** | **${idle.toFixed(2)}** | **${perMillion.toFixed(2)}** | |`,
    '',
    `Avoided: NAT gateways in ${counts.availabilityZones} AZs would add ${(counts.availabilityZones * HOURS_PER_MONTH * PRICES.natGatewayHour).toFixed(2)} USD/month before data processing.`,
  ].join('\n');
}

if (require.main === module) console.log(main(process.argv[2], process.argv[3]));
