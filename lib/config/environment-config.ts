/**
 * Typed configuration of every environment the platform is deployed to, and the one place CDK context is read.
 * A bad value fails the synth with a message naming the key and the value, never a silent default.
 */
import { Duration } from 'aws-cdk-lib';
import { USD_AMOUNT_PATTERN } from '../../lambda/shared/runtime-parameters';
import { DEFAULT_REDELIVERY, minimumTimeToDeadLetterSeconds } from '../../lambda/order-processor/redelivery-schedule';
import { connectionBudget } from './connection-budget';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The only region the platform runs in (customer requirement: us-east-1, multi-AZ within it). */
export const PLATFORM_REGION = 'us-east-1';

/** Project tag value and the prefix of every SSM parameter path. */
export const PROJECT_NAME = 'trading-platform';

export type EnvironmentKind = 'sandbox' | 'staging' | 'prod';

/** Aurora Serverless v2 capacity and retention. */
export interface DatabaseConfig {
  /** Lowest Aurora capacity units the writer and reader scale down to. */
  readonly minCapacityAcu: number;
  /** Highest Aurora capacity units; bounds cost and the connection count. */
  readonly maxCapacityAcu: number;
  /** Automated backup retention; the customer asks for 7 days. */
  readonly backupRetention: Duration;
  /** Statements slower than this are written to the PostgreSQL log. */
  readonly slowStatementThreshold: Duration;
  /**
   * Reserved concurrency of the functions that read the database on behalf of API callers: the public
   * `GET /v1/health` and `GET /v1/orders/{orderId}`. It caps the connections a flood of either can hold
   * (lib/config/connection-budget.ts), so they can never starve the order processor.
   */
  readonly apiReadConcurrency: { readonly health: number; readonly orderQuery: number };
}

/** Order-flow tuning that differs between environments. */
export interface OrdersConfig {
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Upper bound of concurrent order processors, so Aurora connections are never exhausted. */
  readonly processorMaxConcurrency: number;
  /** Initial value of the max-notional risk limit (a decimal string, in USD); tunable at runtime in SSM. */
  readonly maxOrderNotional: string;
  /** Accepted orders above this notional (decimal string, USD) are flagged `largeNotional` for the audit rule. */
  readonly largeNotionalThreshold: string;
}

/** API Gateway stage throttling. */
export interface ApiConfig {
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Per-IP requests allowed by the WAF rate rule in each 5-minute window. */
  readonly wafRateLimitPer5Minutes: number;
}

/**
 * The experiments a stage with chaos enabled ships (lib/constructs/chaos-experiments.ts); the game day
 * (scripts/game-day) starts one by this name, found by the template's `Name` tag `fis-{name}-{region}-{suffix}`.
 */
export const CHAOS_EXPERIMENTS = ['aurora-failover', 'az-network', 'processor-faults'] as const;
export type ChaosExperimentName = (typeof CHAOS_EXPERIMENTS)[number];

/** Faults injected into the order processor by the `processor-faults` experiment (FIS Lambda actions). */
export interface ProcessorFaultsConfig {
  /** How long each of the two faults (added latency, then errors) is injected; 1 minute to 12 hours (FIS limits). */
  readonly duration: Duration;
  /** Share of processor invocations hit by each fault, 1-100. */
  readonly invocationPercentage: number;
  /**
   * Delay added before the handler runs: a slow dependency as the invocation sees it. At most 20 s, so that the
   * processor (30 s timeout) still has time to finish a batch: a longer delay is a timeout, which the error fault covers.
   */
  readonly addedLatency: Duration;
}

/**
 * AWS FIS experiment templates of the stage (lib/constructs/chaos-experiments.ts, docs/availability.md). Off means no
 * templates, no experiment roles, and no FIS extension on the order processor.
 */
export interface ChaosConfig {
  readonly enabled: boolean;
  /**
   * The AZ whose isolated subnets the `az-network` experiment cuts off. The writer's AZ (the first of
   * `availabilityZones`) by default: losing it is the worse case, since the database must fail over too.
   */
  readonly disruptedAz: string;
  /** How long the `az-network` experiment denies the AZ's traffic; 1 minute to 12 hours (FIS limits). */
  readonly networkDisruption: Duration;
  readonly processorFaults: ProcessorFaultsConfig;
}

/** Optional public DNS: when present the API gets a custom domain and an alias record. */
export interface HostedZoneConfig {
  readonly hostedZoneId: string;
  readonly zoneName: string;
  /** Record name below the zone, e.g. `api` for `api.example.com`. */
  readonly apiRecordName: string;
}

/** Everything one deployment of the TradingPlatformStage needs to know. */
export interface EnvironmentConfig {
  readonly kind: EnvironmentKind;
  /** 12-digit AWS account id. */
  readonly account: string;
  readonly region: typeof PLATFORM_REGION;
  /**
   * Availability zones the VPC and Aurora spread over. Fixed in config so synth never asks an account.
   * Three, so that the loss of one AZ still leaves a writer and a reader in different AZs.
   */
  readonly availabilityZones: readonly string[];
  /** Lowercase suffix in every resource name, e.g. `stg`, `prod`, `dev`, `jdoe`. */
  readonly environmentSuffix: string;
  readonly database: DatabaseConfig;
  readonly orders: OrdersConfig;
  readonly api: ApiConfig;
  /** Retention of every log group of the stage. */
  readonly logRetention: RetentionDays;
  /** Failure experiments shipped with the stage: on in sandboxes and Staging, off in Prod unless this says so. */
  readonly chaos: ChaosConfig;
  /** Address subscribed to the alert topic; none means alerts reach only the topic's other subscribers. */
  readonly alarmEmail?: string;
  readonly hostedZone?: HostedZoneConfig;
}

/**
 * How long the pipeline watches a stage's alarms after its checks pass (docs/deployment.md, "Bake and rollback").
 * Every platform alarm must stay out of ALARM for the whole window.
 */
export interface BakeWindows {
  /** After the Staging verification, before anyone is asked to approve. */
  readonly staging: Duration;
  /** After the Prod health gate; a platform alarm in this window rolls the Prod stage back. Longer than Staging's. */
  readonly prod: Duration;
}

/** Where the delivery pipeline lives and what it pulls. */
export interface PipelineConfig {
  readonly account: string;
  readonly region: typeof PLATFORM_REGION;
  /** ARN of the AWS CodeConnections connection to the Git host (created once by hand, see docs/deployment.md). */
  readonly connectionArn: string;
  /** `owner/repository` on the Git host. */
  readonly repository: string;
  readonly branch: string;
  /** Receives pipeline failures and approvals waiting. */
  readonly notificationEmail?: string;
  readonly bakeWindows: BakeWindows;
}

/** The full configuration of the app: the pipeline, its two stages, and a sandbox copy. */
export interface AppConfig {
  readonly pipeline: PipelineConfig;
  readonly staging: EnvironmentConfig;
  readonly prod: EnvironmentConfig;
  readonly sandbox: EnvironmentConfig;
}

/** Thrown when configuration or context is invalid; the message names the key and the value. */
export class ConfigError extends Error {
  constructor(key: string, value: unknown, expectation: string) {
    super(`Invalid configuration ${key}=${JSON.stringify(value)}: ${expectation}`);
    this.name = 'ConfigError';
  }
}

const SUFFIX_PATTERN = /^[a-z][a-z0-9]{1,11}$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const AZ_PATTERN = /^us-east-1[a-f]$/;
/** The rule the max-notional parameter and the processor's threshold are held to (lambda/shared/runtime-parameters.ts). */
const DECIMAL_PATTERN = new RegExp(USD_AMOUNT_PATTERN, 'u');
const CONNECTION_ARN_PATTERN = /^arn:aws:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/;

/** Validates an environment suffix: 2–12 lowercase letters and digits, starting with a letter. */
export function validateEnvironmentSuffix(suffix: unknown, key = 'environmentSuffix'): string {
  if (typeof suffix !== 'string' || !SUFFIX_PATTERN.test(suffix)) {
    throw new ConfigError(key, suffix, 'expected 2-12 lowercase letters or digits starting with a letter (e.g. "dev", "jdoe")');
  }
  return suffix;
}

function check(condition: boolean, key: string, value: unknown, expectation: string): void {
  if (!condition) throw new ConfigError(key, value, expectation);
}

/** Checks every field of an environment config and returns it unchanged; throws ConfigError on the first bad value. */
export function validateEnvironmentConfig(config: EnvironmentConfig): EnvironmentConfig {
  const at = (field: string): string => `${config.kind}.${field}`;
  validateEnvironmentSuffix(config.environmentSuffix, at('environmentSuffix'));
  check(ACCOUNT_PATTERN.test(config.account), at('account'), config.account, 'expected a 12-digit AWS account id');
  check(config.region === PLATFORM_REGION, at('region'), config.region, `expected ${PLATFORM_REGION}`);
  check(config.availabilityZones.length >= 3, at('availabilityZones'), config.availabilityZones, 'expected at least 3 availability zones');
  check(new Set(config.availabilityZones).size === config.availabilityZones.length, at('availabilityZones'), config.availabilityZones, 'expected distinct availability zones');
  for (const az of config.availabilityZones) check(AZ_PATTERN.test(az), at('availabilityZones'), az, 'expected a us-east-1 zone name such as us-east-1a');
  const db = config.database;
  check(Number.isFinite(db.minCapacityAcu) && db.minCapacityAcu >= 0.5 && (db.minCapacityAcu * 2) % 1 === 0, at('database.minCapacityAcu'), db.minCapacityAcu, 'expected a multiple of 0.5, at least 0.5 (a paused writer would fail the health check)');
  check(Number.isFinite(db.maxCapacityAcu) && db.maxCapacityAcu <= 256 && (db.maxCapacityAcu * 2) % 1 === 0 && db.maxCapacityAcu >= db.minCapacityAcu, at('database.maxCapacityAcu'), db.maxCapacityAcu, 'expected a multiple of 0.5 between minCapacityAcu and 256');
  check(db.backupRetention.toDays() >= 7 && db.backupRetention.toDays() <= 35, at('database.backupRetention'), db.backupRetention.toDays(), 'expected 7-35 days (customer requirement: at least 7)');
  check(Number.isInteger(db.apiReadConcurrency.health) && db.apiReadConcurrency.health >= 1, at('database.apiReadConcurrency.health'), db.apiReadConcurrency.health, 'expected a positive integer');
  check(Number.isInteger(db.apiReadConcurrency.orderQuery) && db.apiReadConcurrency.orderQuery >= 1, at('database.apiReadConcurrency.orderQuery'), db.apiReadConcurrency.orderQuery, 'expected a positive integer');
  const orders = config.orders;
  check(Number.isInteger(orders.maxReceiveCount) && orders.maxReceiveCount >= 1 && orders.maxReceiveCount <= 1000, at('orders.maxReceiveCount'), orders.maxReceiveCount, 'expected an integer 1-1000');
  check(Number.isInteger(orders.processorMaxConcurrency) && orders.processorMaxConcurrency >= 2 && orders.processorMaxConcurrency <= 1000, at('orders.processorMaxConcurrency'), orders.processorMaxConcurrency, 'expected an integer 2-1000 (the SQS event source minimum is 2)');
  if (config.kind !== 'sandbox') {
    // A record failing through a database or EventBridge outage must not be dead-lettered (and its account's later
    // orders held) before the outage is over: the redelivery schedule must span at least MIN_RETRY_WINDOW.
    const window = minimumTimeToDeadLetterSeconds(orders.maxReceiveCount, DEFAULT_REDELIVERY);
    check(window >= MIN_RETRY_WINDOW_SECONDS, at('orders.maxReceiveCount'), orders.maxReceiveCount, `keeps a failing record only ${window} s before dead-lettering it; expected at least ${MIN_RETRY_WINDOW_SECONDS} s`);
  }
  const budget = connectionBudget(config);
  check(budget.apiReads <= budget.apiReadLimit, at('database.apiReadConcurrency'), db.apiReadConcurrency, `lets API reads hold ${budget.apiReads} connections; at most ${budget.apiReadLimit} (a third of ${budget.perInstanceAtMinimum} at ${db.minCapacityAcu} ACU) keeps the processor's share`);
  check(budget.writer <= budget.poolLimit && budget.reader <= budget.poolLimit, at('database'), { writer: budget.writer, reader: budget.reader }, `pools exceed ${budget.poolLimit} connections (80% of ${budget.perInstanceAtMinimum} at ${db.minCapacityAcu} ACU)`);
  check(DECIMAL_PATTERN.test(orders.maxOrderNotional), at('orders.maxOrderNotional'), orders.maxOrderNotional, 'expected a positive decimal string with at most 2 decimals');
  check(DECIMAL_PATTERN.test(orders.largeNotionalThreshold), at('orders.largeNotionalThreshold'), orders.largeNotionalThreshold, 'expected a positive decimal string with at most 2 decimals');
  const api = config.api;
  check(Number.isInteger(api.throttleRateLimit) && api.throttleRateLimit > 0, at('api.throttleRateLimit'), api.throttleRateLimit, 'expected a positive integer');
  check(Number.isInteger(api.throttleBurstLimit) && api.throttleBurstLimit > 0, at('api.throttleBurstLimit'), api.throttleBurstLimit, 'expected a positive integer');
  check(Number.isInteger(api.wafRateLimitPer5Minutes) && api.wafRateLimitPer5Minutes >= 10, at('api.wafRateLimitPer5Minutes'), api.wafRateLimitPer5Minutes, 'expected an integer of at least 10 (the WAF minimum)');
  validateChaosConfig(config.chaos, config.availabilityZones, (field) => at(`chaos.${field}`));
  if (config.alarmEmail !== undefined) check(EMAIL_PATTERN.test(config.alarmEmail), at('alarmEmail'), config.alarmEmail, 'expected an e-mail address');
  if (config.hostedZone !== undefined) {
    check(/^Z[A-Z0-9]{1,31}$/.test(config.hostedZone.hostedZoneId), at('hostedZone.hostedZoneId'), config.hostedZone.hostedZoneId, 'expected a Route 53 hosted zone id such as Z0123456789ABC');
    check(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(config.hostedZone.zoneName), at('hostedZone.zoneName'), config.hostedZone.zoneName, 'expected a lowercase DNS name');
    check(/^[a-z0-9-]{1,63}$/.test(config.hostedZone.apiRecordName), at('hostedZone.apiRecordName'), config.hostedZone.apiRecordName, 'expected one lowercase DNS label');
  }
  return config;
}

/** FIS accepts action durations from one minute to 12 hours (AWS FIS actions reference, `duration` parameters). */
const FIS_MIN_DURATION_SECONDS = 60;
const FIS_MAX_DURATION_SECONDS = 12 * 3_600;
/** Kept well below the order processor's 30 s timeout: the added latency is a slowdown, not a timeout. */
export const MAX_PROCESSOR_ADDED_LATENCY_MS = 20_000;

function validateChaosConfig(chaos: ChaosConfig, availabilityZones: readonly string[], at: (field: string) => string): void {
  check(availabilityZones.includes(chaos.disruptedAz), at('disruptedAz'), chaos.disruptedAz, `expected one of the stage's availability zones (${availabilityZones.join(', ')})`);
  const fisDuration = (field: string, duration: Duration): void => {
    const seconds = duration.toSeconds();
    check(Number.isInteger(seconds) && seconds >= FIS_MIN_DURATION_SECONDS && seconds <= FIS_MAX_DURATION_SECONDS, at(field), `${seconds} s`, 'expected whole seconds from 1 minute to 12 hours (the FIS action limits)');
  };
  fisDuration('networkDisruption', chaos.networkDisruption);
  const faults = chaos.processorFaults;
  fisDuration('processorFaults.duration', faults.duration);
  check(Number.isInteger(faults.invocationPercentage) && faults.invocationPercentage >= 1 && faults.invocationPercentage <= 100, at('processorFaults.invocationPercentage'), faults.invocationPercentage, 'expected an integer 1-100');
  const latencyMs = faults.addedLatency.toMilliseconds();
  check(Number.isInteger(latencyMs) && latencyMs >= 1 && latencyMs <= MAX_PROCESSOR_ADDED_LATENCY_MS, at('processorFaults.addedLatency'), `${latencyMs} ms`, `expected 1-${MAX_PROCESSOR_ADDED_LATENCY_MS} ms (below the processor's 30 s timeout)`);
}

/** The shortest outage a failing order record must survive in Staging and Prod before it is dead-lettered. */
export const MIN_RETRY_WINDOW_SECONDS = 1_800;

/** Checks the pipeline config; throws ConfigError on the first bad value. */
export function validatePipelineConfig(config: PipelineConfig): PipelineConfig {
  check(ACCOUNT_PATTERN.test(config.account), 'pipeline.account', config.account, 'expected a 12-digit AWS account id');
  check(config.region === PLATFORM_REGION, 'pipeline.region', config.region, `expected ${PLATFORM_REGION}`);
  check(CONNECTION_ARN_PATTERN.test(config.connectionArn), 'pipeline.connectionArn', config.connectionArn, 'expected a CodeConnections connection ARN');
  check(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(config.repository), 'pipeline.repository', config.repository, 'expected owner/repository');
  check(/^[A-Za-z0-9._/-]+$/.test(config.branch), 'pipeline.branch', config.branch, 'expected a branch name');
  if (config.notificationEmail !== undefined) check(EMAIL_PATTERN.test(config.notificationEmail), 'pipeline.notificationEmail', config.notificationEmail, 'expected an e-mail address');
  validateBakeWindows(config.bakeWindows);
  return config;
}

/**
 * Bounds of a bake window, in whole minutes: alarms are evaluated per minute, so a fraction of one would only round.
 * The lower bounds are the slowest alarm's time to fire (Aurora CPU: 3 periods of 5 minutes; the pipeline tests check
 * the synthesized alarms against them); the upper bound keeps a release from holding the pipeline for a working day.
 */
export const BAKE_WINDOW_LIMITS = {
  staging: { minMinutes: 15, maxMinutes: 120 },
  prod: { minMinutes: 15, maxMinutes: 480 },
} as const;

function validateBakeWindows(windows: BakeWindows): void {
  for (const stage of ['staging', 'prod'] as const) {
    const key = `pipeline.bakeWindows.${stage}`;
    const minutes = windows[stage].toMinutes({ integral: false });
    const { minMinutes, maxMinutes } = BAKE_WINDOW_LIMITS[stage];
    check(Number.isInteger(minutes), key, `${minutes} minutes`, 'expected whole minutes (alarms are evaluated once a minute)');
    check(minutes >= minMinutes && minutes <= maxMinutes, key, `${minutes} minutes`, `expected ${minMinutes}-${maxMinutes} minutes`);
  }
  const staging = windows.staging.toMinutes();
  const prod = windows.prod.toMinutes();
  check(prod > staging, 'pipeline.bakeWindows.prod', `${prod} minutes`, `expected longer than the Staging bake (${staging} minutes): Prod takes the real traffic, and its bake is what rolls it back`);
}
