/**
 * The environments of the trading platform and the single reader of CDK context (`-c key=value`).
 * Account ids and the connection ARN below are documented placeholders (docs/deployment.md) to replace once.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AppConfig,
  ConfigError,
  EnvironmentConfig,
  PLATFORM_REGION,
  validateEnvironmentConfig,
  validateEnvironmentSuffix,
  validatePipelineConfig,
} from './environment-config';

/** Placeholder account ids: replace with your organisation's accounts before the first deploy. */
export const PLACEHOLDER_ACCOUNTS = {
  tooling: '111111111111',
  staging: '222222222222',
  prod: '333333333333',
  sandbox: '444444444444',
} as const;

/** Placeholder CodeConnections ARN; the real one is created once in the console (see docs/deployment.md). */
export const PLACEHOLDER_CONNECTION_ARN =
  'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000';

const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

/** The sandbox suffix when none is given with `-c environmentSuffix=...`. */
export const DEFAULT_SANDBOX_SUFFIX = 'dev';

const staging: EnvironmentConfig = {
  kind: 'staging',
  account: PLACEHOLDER_ACCOUNTS.staging,
  region: PLATFORM_REGION,
  availabilityZones: AZS,
  environmentSuffix: 'stg',
  database: { minCapacityAcu: 0.5, maxCapacityAcu: 8, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(500) },
  orders: { maxReceiveCount: 5, processorMaxConcurrency: 5, maxOrderNotional: '1000000.00', largeNotionalThreshold: '250000.00' },
  api: { throttleRateLimit: 200, throttleBurstLimit: 400, wafRateLimitPer5Minutes: 2000 },
  logRetention: RetentionDays.ONE_MONTH,
  alarmEmail: 'trading-platform-alerts-staging@example.com',
};

const prod: EnvironmentConfig = {
  kind: 'prod',
  account: PLACEHOLDER_ACCOUNTS.prod,
  region: PLATFORM_REGION,
  availabilityZones: AZS,
  environmentSuffix: 'prod',
  // A writer that never drops below 2 ACU answers the first burst of the trading day without a scale-up wait.
  database: { minCapacityAcu: 2, maxCapacityAcu: 64, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(250) },
  orders: { maxReceiveCount: 5, processorMaxConcurrency: 20, maxOrderNotional: '5000000.00', largeNotionalThreshold: '1000000.00' },
  api: { throttleRateLimit: 2000, throttleBurstLimit: 4000, wafRateLimitPer5Minutes: 10000 },
  logRetention: RetentionDays.ONE_YEAR,
  alarmEmail: 'trading-platform-oncall@example.com',
};

function sandbox(suffix: string, account: string): EnvironmentConfig {
  return {
    kind: 'sandbox',
    account,
    region: PLATFORM_REGION,
    availabilityZones: AZS,
    environmentSuffix: suffix,
    database: { minCapacityAcu: 0.5, maxCapacityAcu: 4, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(500) },
    orders: { maxReceiveCount: 3, processorMaxConcurrency: 2, maxOrderNotional: '100000.00', largeNotionalThreshold: '25000.00' },
    api: { throttleRateLimit: 50, throttleBurstLimit: 100, wafRateLimitPer5Minutes: 1000 },
    logRetention: RetentionDays.ONE_WEEK,
  };
}

/** Anything that can answer a context lookup: an App's node, or a plain map in tests. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/** Environment variables consulted for the sandbox account (the CDK CLI sets CDK_DEFAULT_ACCOUNT from credentials). */
export interface ProcessEnvironment {
  readonly [name: string]: string | undefined;
}

/**
 * Builds and validates the whole app config. The only function in the project that reads context:
 * - `environmentSuffix`: the sandbox copy's suffix (default `dev`); the staging/prod suffixes are fixed.
 * - `sandboxAccount`: account for the sandbox; else CDK_DEFAULT_ACCOUNT from the CLI; else the placeholder.
 */
export function loadAppConfig(context: ContextSource, env: ProcessEnvironment = {}): AppConfig {
  const rawSuffix = context.tryGetContext('environmentSuffix') ?? DEFAULT_SANDBOX_SUFFIX;
  const suffix = validateEnvironmentSuffix(rawSuffix);
  if (suffix === staging.environmentSuffix || suffix === prod.environmentSuffix) {
    throw new ConfigError('environmentSuffix', suffix, 'is reserved for the pipeline-managed staging/prod stages; choose a personal suffix');
  }
  const rawAccount = context.tryGetContext('sandboxAccount') ?? env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ACCOUNTS.sandbox;
  if (typeof rawAccount !== 'string') throw new ConfigError('sandboxAccount', rawAccount, 'expected a 12-digit AWS account id');
  return {
    pipeline: validatePipelineConfig({
      account: PLACEHOLDER_ACCOUNTS.tooling,
      region: PLATFORM_REGION,
      connectionArn: PLACEHOLDER_CONNECTION_ARN,
      repository: 'example-org/trading-platform',
      branch: 'main',
      notificationEmail: 'trading-platform-delivery@example.com',
    }),
    staging: validateEnvironmentConfig(staging),
    prod: validateEnvironmentConfig(prod),
    sandbox: validateEnvironmentConfig(sandbox(suffix, rawAccount)),
  };
}
