/**
 * The environments of the trading platform and the single reader of CDK context (`-c key=value`).
 * Account ids, the connection ARN, the repository and the e-mails below are documented placeholders
 * (docs/deployment.md) to replace once: a local synth lists those left, the pipeline's synth refuses them.
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

/** Placeholder Git repository (`owner/name`) the pipeline pulls. */
export const PLACEHOLDER_REPOSITORY = 'example-org/trading-platform';

/** Domains reserved for documentation (RFC 2606): an address there never reaches anyone. */
const PLACEHOLDER_EMAIL_DOMAIN = /@example\.(com|org|net)$/i;

const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

/**
 * The experiments' settings, the same everywhere; only `enabled` differs. The writer's AZ is cut off (the worse case),
 * for 5 minutes: long enough for every alarm on the request path (3 periods of 1 minute) to have had its say.
 */
const CHAOS_SETTINGS = {
  disruptedAz: AZS[0],
  networkDisruption: Duration.minutes(5),
  processorFaults: { duration: Duration.minutes(3), invocationPercentage: 50, addedLatency: Duration.seconds(5) },
} as const;

/** The sandbox suffix when none is given with `-c environmentSuffix=...`. */
export const DEFAULT_SANDBOX_SUFFIX = 'dev';

/** Suffix of the tooling environment (the pipeline's own resources); like `stg` and `prod`, never a sandbox's. */
export const TOOLING_ENVIRONMENT_SUFFIX = 'cicd';

const staging: EnvironmentConfig = {
  kind: 'staging',
  account: PLACEHOLDER_ACCOUNTS.staging,
  region: PLATFORM_REGION,
  availabilityZones: AZS,
  environmentSuffix: 'stg',
  database: { minCapacityAcu: 0.5, maxCapacityAcu: 8, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(500), apiReadConcurrency: { health: 5, orderQuery: 10 } },
  // 15 receives: the redelivery schedule keeps a failing record at least 34 minutes (MIN_RETRY_WINDOW_SECONDS).
  orders: { maxReceiveCount: 15, processorMaxConcurrency: 5, maxOrderNotional: '1000000.00', largeNotionalThreshold: '250000.00' },
  api: { throttleRateLimit: 200, throttleBurstLimit: 400, wafRateLimitPer5Minutes: 2000 },
  logRetention: RetentionDays.ONE_MONTH,
  // Staging is where failures are rehearsed before Prod is asked to survive them.
  chaos: { enabled: true, ...CHAOS_SETTINGS },
  alarmEmail: 'trading-platform-alerts-staging@example.com',
};

const prod: EnvironmentConfig = {
  kind: 'prod',
  account: PLACEHOLDER_ACCOUNTS.prod,
  region: PLATFORM_REGION,
  availabilityZones: AZS,
  environmentSuffix: 'prod',
  // A writer that never drops below 2 ACU answers the first burst of the trading day without a scale-up wait.
  database: { minCapacityAcu: 2, maxCapacityAcu: 64, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(250), apiReadConcurrency: { health: 10, orderQuery: 50 } },
  orders: { maxReceiveCount: 15, processorMaxConcurrency: 20, maxOrderNotional: '5000000.00', largeNotionalThreshold: '1000000.00' },
  api: { throttleRateLimit: 2000, throttleBurstLimit: 4000, wafRateLimitPer5Minutes: 10000 },
  logRetention: RetentionDays.ONE_YEAR,
  // Off: no experiment can be started against Prod, and its processor runs without the FIS extension. Turning it on
  // is a reviewed change here, never a command-line flag.
  chaos: { enabled: false, ...CHAOS_SETTINGS },
  alarmEmail: 'trading-platform-oncall@example.com',
};

function sandbox(suffix: string, account: string): EnvironmentConfig {
  return {
    kind: 'sandbox',
    account,
    region: PLATFORM_REGION,
    availabilityZones: AZS,
    environmentSuffix: suffix,
    database: { minCapacityAcu: 0.5, maxCapacityAcu: 4, backupRetention: Duration.days(7), slowStatementThreshold: Duration.millis(500), apiReadConcurrency: { health: 2, orderQuery: 2 } },
    orders: { maxReceiveCount: 8, processorMaxConcurrency: 2, maxOrderNotional: '100000.00', largeNotionalThreshold: '25000.00' },
    api: { throttleRateLimit: 50, throttleBurstLimit: 100, wafRateLimitPer5Minutes: 1000 },
    logRetention: RetentionDays.ONE_WEEK,
    // An engineer can rehearse a game day on a personal copy before running it in Staging.
    chaos: { enabled: true, ...CHAOS_SETTINGS },
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

/** Receives the one warning a synth with placeholders left prints. */
export type ConfigWarningSink = (message: string) => void;

/** Where the CLI's app process shows warnings: stderr, next to the CLI's own. */
const writeToStderr: ConfigWarningSink = (message) => {
  process.stderr.write(`${message}\n`);
};

/** A configuration value that is still one of the documented placeholders. */
export interface Placeholder {
  /** Config path, e.g. `pipeline.account`. */
  readonly key: string;
  readonly value: string;
}

/**
 * Thrown by a strict synth (`-c strictPlaceholders=true`, as the pipeline runs it) while placeholders are left. A
 * ConfigError, so the app shows it as one line (lib/config/exit-on-config-error.ts): every key and value on it.
 */
export class PlaceholderError extends ConfigError {
  declare readonly placeholders: readonly Placeholder[];

  constructor(placeholders: readonly Placeholder[]) {
    const listed = placeholders.map(describePlaceholder).join(', ');
    super('strictPlaceholders', true, `${placeholders.length} placeholder value(s) left (${listed}); ${REPLACE_PLACEHOLDERS}`);
    this.name = 'PlaceholderError';
    // Not enumerable: Node prints an uncaught error's own enumerable fields, and the message already lists them.
    Object.defineProperty(this, 'placeholders', { value: placeholders, enumerable: false });
  }
}

const REPLACE_PLACEHOLDERS = 'replace them in lib/config/environments.ts (docs/deployment.md, "Placeholders to replace once")';

const describePlaceholder = (placeholder: Placeholder): string => `${placeholder.key}=${JSON.stringify(placeholder.value)}`;

/** The local synth's warning: one line per placeholder, under a headline. */
function listPlaceholders(placeholders: readonly Placeholder[]): string {
  return [`${REPLACE_PLACEHOLDERS}:`, ...placeholders.map((placeholder) => `  ${describePlaceholder(placeholder)}`)].join('\n');
}

const PLACEHOLDER_ACCOUNT_IDS: ReadonlySet<string> = new Set(Object.values(PLACEHOLDER_ACCOUNTS));

/** Every value of the config that is still a placeholder, in config order; empty once all are replaced. */
export function findPlaceholders(config: AppConfig): Placeholder[] {
  const found: Placeholder[] = [];
  const isEmail = (value: string | undefined): value is string => value !== undefined && PLACEHOLDER_EMAIL_DOMAIN.test(value);
  const { pipeline } = config;
  if (PLACEHOLDER_ACCOUNT_IDS.has(pipeline.account)) found.push({ key: 'pipeline.account', value: pipeline.account });
  if (pipeline.connectionArn === PLACEHOLDER_CONNECTION_ARN) found.push({ key: 'pipeline.connectionArn', value: pipeline.connectionArn });
  if (pipeline.repository === PLACEHOLDER_REPOSITORY) found.push({ key: 'pipeline.repository', value: pipeline.repository });
  if (isEmail(pipeline.notificationEmail)) found.push({ key: 'pipeline.notificationEmail', value: pipeline.notificationEmail });
  for (const environment of [config.staging, config.prod, config.sandbox]) {
    if (PLACEHOLDER_ACCOUNT_IDS.has(environment.account)) found.push({ key: `${environment.kind}.account`, value: environment.account });
    if (isEmail(environment.alarmEmail)) found.push({ key: `${environment.kind}.alarmEmail`, value: environment.alarmEmail });
  }
  return found;
}

/** `-c strictPlaceholders=true|false`; the CLI passes `-c` values as strings, code may pass booleans. */
function parseStrictPlaceholders(raw: unknown): boolean {
  if (raw === undefined || raw === false || raw === 'false') return false;
  if (raw === true || raw === 'true') return true;
  throw new ConfigError('strictPlaceholders', raw, 'expected true or false');
}

/** Suffixes a sandbox may not take: the pipeline's stages and its own tooling environment own them. */
const RESERVED_SUFFIXES: ReadonlySet<string> = new Set([staging.environmentSuffix, prod.environmentSuffix, TOOLING_ENVIRONMENT_SUFFIX]);

/**
 * Builds and validates the whole app config. The only function in the project that reads context:
 * - `environmentSuffix`: the sandbox copy's suffix (default `dev`); `stg`, `prod` and `cicd` are the pipeline's.
 * - `sandboxAccount`: account for the sandbox; else CDK_DEFAULT_ACCOUNT from the CLI; else the placeholder.
 * - `strictPlaceholders`: `true` (the pipeline's synth) throws PlaceholderError while any placeholder is left;
 *   otherwise the placeholders left are listed once through `warn`.
 */
export function loadAppConfig(context: ContextSource, env: ProcessEnvironment = {}, warn: ConfigWarningSink = writeToStderr): AppConfig {
  const rawSuffix = context.tryGetContext('environmentSuffix') ?? DEFAULT_SANDBOX_SUFFIX;
  const suffix = validateEnvironmentSuffix(rawSuffix);
  if (RESERVED_SUFFIXES.has(suffix)) {
    throw new ConfigError('environmentSuffix', suffix, `is reserved for the pipeline (${[...RESERVED_SUFFIXES].join(', ')}); choose a personal suffix`);
  }
  const rawAccount = context.tryGetContext('sandboxAccount') ?? env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ACCOUNTS.sandbox;
  if (typeof rawAccount !== 'string') throw new ConfigError('sandboxAccount', rawAccount, 'expected a 12-digit AWS account id');
  const strictPlaceholders = parseStrictPlaceholders(context.tryGetContext('strictPlaceholders'));
  const config: AppConfig = {
    pipeline: validatePipelineConfig({
      account: PLACEHOLDER_ACCOUNTS.tooling,
      region: PLATFORM_REGION,
      connectionArn: PLACEHOLDER_CONNECTION_ARN,
      repository: PLACEHOLDER_REPOSITORY,
      branch: 'main',
      notificationEmail: 'trading-platform-delivery@example.com',
      // Staging: the slowest alarm (Aurora CPU, 15 minutes) plus a margin, before the approval. Prod: an hour under
      // real traffic, in which any platform alarm rolls the stage back (docs/deployment.md, "Bake and rollback").
      bakeWindows: { staging: Duration.minutes(20), prod: Duration.minutes(60) },
    }),
    staging: validateEnvironmentConfig(staging),
    prod: validateEnvironmentConfig(prod),
    sandbox: validateEnvironmentConfig(sandbox(suffix, rawAccount)),
  };
  const placeholders = findPlaceholders(config);
  if (placeholders.length > 0) {
    if (strictPlaceholders) throw new PlaceholderError(placeholders);
    warn(`Warning: ${placeholders.length} placeholder value(s) left, the pipeline's synth (-c strictPlaceholders=true) refuses them; ${listPlaceholders(placeholders)}`);
  }
  return config;
}
