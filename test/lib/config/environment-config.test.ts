import { Duration } from 'aws-cdk-lib';
import {
  AppConfig,
  ConfigError,
  EnvironmentConfig,
  PipelineConfig,
  PlaceholderError,
  ProcessEnvironment,
  findPlaceholders,
  loadAppConfig as loadAppConfigWithWarnings,
  validateEnvironmentConfig,
  validateEnvironmentSuffix,
  validatePipelineConfig,
} from '../../../lib/config';

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });
/** The loader with its placeholder warning muted; the placeholder tests below pass their own sink. */
const loadAppConfig = (source: ReturnType<typeof context>, env: ProcessEnvironment = {}): AppConfig => loadAppConfigWithWarnings(source, env, () => undefined);

/** Every placeholder the shipped config holds, one line each (the sandbox account falls back to its placeholder). */
const SHIPPED_PLACEHOLDERS = [
  '  pipeline.account="111111111111"',
  '  pipeline.connectionArn="arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"',
  '  pipeline.repository="example-org/trading-platform"',
  '  pipeline.notificationEmail="trading-platform-delivery@example.com"',
  '  staging.account="222222222222"',
  '  staging.alarmEmail="trading-platform-alerts-staging@example.com"',
  '  prod.account="333333333333"',
  '  prod.alarmEmail="trading-platform-oncall@example.com"',
  '  sandbox.account="444444444444"',
];

describe('loadAppConfig', () => {
  it('builds staging, prod and a dev sandbox by default, all in us-east-1 over three AZs', () => {
    const config = loadAppConfig(context({}));
    expect(config.staging.environmentSuffix).toBe('stg');
    expect(config.prod.environmentSuffix).toBe('prod');
    expect(config.sandbox.environmentSuffix).toBe('dev');
    for (const env of [config.staging, config.prod, config.sandbox]) {
      expect(env.region).toBe('us-east-1');
      expect(env.availabilityZones).toHaveLength(3);
      expect(env.database.backupRetention.toDays()).toBe(7);
    }
    expect(config.pipeline.branch).toBe('main');
  });

  it('gives a sandbox copy the suffix from -c environmentSuffix', () => {
    expect(loadAppConfig(context({ environmentSuffix: 'jdoe' })).sandbox.environmentSuffix).toBe('jdoe');
  });

  it('takes the sandbox account from context first, then from the CLI credentials', () => {
    expect(loadAppConfig(context({ sandboxAccount: '123456789012' }), { CDK_DEFAULT_ACCOUNT: '999999999999' }).sandbox.account).toBe('123456789012');
    expect(loadAppConfig(context({}), { CDK_DEFAULT_ACCOUNT: '999999999999' }).sandbox.account).toBe('999999999999');
  });

  it.each([
    ['Dev', /environmentSuffix="Dev"/],
    ['a', /environmentSuffix="a"/],
    ['dev-1', /environmentSuffix="dev-1"/],
    ['averyveryverylongsuffix', /averyveryverylongsuffix/],
    [42, /environmentSuffix=42/],
  ])('rejects the suffix %p with a message naming it', (suffix, message) => {
    expect(() => loadAppConfig(context({ environmentSuffix: suffix }))).toThrow(message);
  });

  it.each(['stg', 'prod', 'cicd'])('refuses the pipeline-owned suffix %s for a sandbox', (suffix) => {
    expect(() => loadAppConfig(context({ environmentSuffix: suffix }))).toThrow(ConfigError);
    expect(() => loadAppConfig(context({ environmentSuffix: suffix }))).toThrow(new RegExp(`environmentSuffix="${suffix}": is reserved for the pipeline`));
  });

  it('rejects a malformed sandbox account', () => {
    expect(() => loadAppConfig(context({ sandboxAccount: '12345' }))).toThrow(/sandbox\.account="12345"/);
  });
});

describe('placeholders', () => {
  it('a local synth warns once, one line per placeholder left, and still builds the config', () => {
    const warnings: string[] = [];
    const config = loadAppConfigWithWarnings(context({}), {}, (message) => warnings.push(message));
    expect(config.pipeline.account).toBe('111111111111');
    expect(warnings).toHaveLength(1);
    const [headline, ...lines] = (warnings[0] ?? '').split('\n');
    expect(headline).toMatch(/^Warning: 9 placeholder value\(s\) left, the pipeline's synth \(-c strictPlaceholders=true\) refuses them; replace them in lib\/config\/environments\.ts/);
    expect(lines).toEqual(SHIPPED_PLACEHOLDERS);
    expect(warnings[0]).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it.each([true, 'true'])('the pipeline\'s synth (strictPlaceholders=%p) fails, naming every placeholder left', (strict) => {
    const warn = jest.fn();
    let thrown: unknown;
    try {
      loadAppConfigWithWarnings(context({ strictPlaceholders: strict }), {}, warn);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PlaceholderError);
    // A ConfigError, so the app prints it as one line (test/lib/config/app-config-errors.test.ts).
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as PlaceholderError;
    expect(error.placeholders.map((placeholder) => placeholder.key)).toEqual(SHIPPED_PLACEHOLDERS.map((line) => line.trim().split('=')[0]));
    expect(error.message).toBe(
      `Invalid configuration strictPlaceholders=true: 9 placeholder value(s) left (${SHIPPED_PLACEHOLDERS.map((line) => line.trim()).join(', ')}); ` +
        'replace them in lib/config/environments.ts (docs/deployment.md, "Placeholders to replace once")',
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('strict mode counts the sandbox account only while it falls back to its placeholder', () => {
    const placeholders = findPlaceholders(loadAppConfig(context({}), { CDK_DEFAULT_ACCOUNT: '123456789012' })).map((placeholder) => placeholder.key);
    expect(placeholders).not.toContain('sandbox.account');
    expect(placeholders).toHaveLength(8);
  });

  it('finds nothing, and neither warns nor fails, once every placeholder is replaced', () => {
    const shipped = loadAppConfig(context({}));
    const replaced: AppConfig = {
      pipeline: { ...shipped.pipeline, account: '123456789012', connectionArn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/4f6a2c1e-1111-4222-8333-944445555666', repository: 'bank/trading-platform', notificationEmail: 'delivery@bank.test' },
      staging: { ...shipped.staging, account: '210987654321', alarmEmail: 'alerts@bank.test' },
      prod: { ...shipped.prod, account: '109876543210', alarmEmail: 'oncall@bank.test' },
      sandbox: { ...shipped.sandbox, account: '123123123123' },
    };
    expect(findPlaceholders(replaced)).toEqual([]);
  });

  it.each(['yes', 1, 'TRUE'])('rejects strictPlaceholders=%p with a message naming it', (value) => {
    expect(() => loadAppConfig(context({ strictPlaceholders: value }))).toThrow(`Invalid configuration strictPlaceholders=${JSON.stringify(value)}: expected true or false`);
  });

  it('accepts strictPlaceholders=false like no flag at all', () => {
    const warn = jest.fn();
    loadAppConfigWithWarnings(context({ strictPlaceholders: 'false' }), {}, warn);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('validateEnvironmentConfig', () => {
  const valid = loadAppConfig(context({})).staging;
  const broken = (patch: Partial<EnvironmentConfig>): EnvironmentConfig => ({ ...valid, ...patch });

  it.each<[string, Partial<EnvironmentConfig>, RegExp]>([
    ['two AZs', { availabilityZones: ['us-east-1a', 'us-east-1b'] }, /staging\.availabilityZones/],
    ['an AZ of another region', { availabilityZones: ['us-east-1a', 'us-east-1b', 'eu-west-1a'] }, /"eu-west-1a"/],
    ['backups under 7 days', { database: { ...valid.database, backupRetention: Duration.days(3) } }, /staging\.database\.backupRetention=3/],
    ['max ACU below min', { database: { ...valid.database, minCapacityAcu: 4, maxCapacityAcu: 2 } }, /maxCapacityAcu=2/],
    ['a float-looking notional', { orders: { ...valid.orders, maxOrderNotional: '1e6' } }, /maxOrderNotional="1e6"/],
    ['concurrency 1', { orders: { ...valid.orders, processorMaxConcurrency: 1 } }, /processorMaxConcurrency=1/],
    ['a bad e-mail', { alarmEmail: 'not-an-address' }, /alarmEmail="not-an-address"/],
    ['a bad hosted zone id', { hostedZone: { hostedZoneId: 'zone', zoneName: 'example.com', apiRecordName: 'api' } }, /hostedZoneId="zone"/],
    // 5 receives with the redelivery schedule keep a failing record about a minute: an outage would dead-letter it.
    ['a retry window shorter than 30 minutes', { orders: { ...valid.orders, maxReceiveCount: 5 } }, /maxReceiveCount=5: keeps a failing record only 57 s before dead-lettering it; expected at least 1800 s/],
    // 0.5 ACU holds 94 connections: 40 health containers (40 writer + 40 reader connections) would crowd out the processor.
    [
      'API reads over a third of the connections',
      { database: { ...valid.database, apiReadConcurrency: { health: 40, orderQuery: 10 } } },
      /apiReadConcurrency=\{"health":40,"orderQuery":10\}: lets API reads hold 50 connections; at most 31/,
    ],
    ['pools over 80% of an instance', { orders: { ...valid.orders, processorMaxConcurrency: 40 } }, /pools exceed 75 connections \(80% of 94 at 0\.5 ACU\)/],
    ['a disrupted AZ outside the stage', { chaos: { ...valid.chaos, disruptedAz: 'us-east-1d' } }, /staging\.chaos\.disruptedAz="us-east-1d": expected one of the stage's availability zones \(us-east-1a, us-east-1b, us-east-1c\)/],
    ['a network disruption under FIS\'s minute', { chaos: { ...valid.chaos, networkDisruption: Duration.seconds(30) } }, /staging\.chaos\.networkDisruption="30 s"/],
    ['a fault duration over 12 hours', { chaos: { ...valid.chaos, processorFaults: { ...valid.chaos.processorFaults, duration: Duration.hours(13) } } }, /staging\.chaos\.processorFaults\.duration="46800 s"/],
    ['a fault percentage of 0', { chaos: { ...valid.chaos, processorFaults: { ...valid.chaos.processorFaults, invocationPercentage: 0 } } }, /staging\.chaos\.processorFaults\.invocationPercentage=0: expected an integer 1-100/],
    ['added latency that is a timeout', { chaos: { ...valid.chaos, processorFaults: { ...valid.chaos.processorFaults, addedLatency: Duration.seconds(30) } } }, /staging\.chaos\.processorFaults\.addedLatency="30000 ms"/],
  ])('rejects %s, naming the key and the value', (_case, patch, message) => {
    expect(() => validateEnvironmentConfig(broken(patch))).toThrow(ConfigError);
    expect(() => validateEnvironmentConfig(broken(patch))).toThrow(message);
  });

  it('rehearses failures in the sandbox and Staging, never in Prod unless its config says so', () => {
    const config = loadAppConfig(context({}));
    expect([config.sandbox.chaos.enabled, config.staging.chaos.enabled, config.prod.chaos.enabled]).toEqual([true, true, false]);
    // The writer's AZ: the worse case, since the database has to fail over too.
    expect(config.staging.chaos.disruptedAz).toBe(config.staging.availabilityZones[0]);
  });

  it('accepts the shipped environments unchanged', () => {
    expect(validateEnvironmentConfig(valid)).toBe(valid);
  });

  it('accepts 2-12 lowercase alphanumerics as suffix', () => {
    expect(validateEnvironmentSuffix('ab')).toBe('ab');
    expect(validateEnvironmentSuffix('abcdefghijk1')).toBe('abcdefghijk1');
  });
});

describe('validatePipelineConfig: bake windows', () => {
  const valid = loadAppConfig(context({})).pipeline;
  const withWindows = (staging: Duration, prod: Duration): PipelineConfig => ({ ...valid, bakeWindows: { staging, prod } });

  it('ships a Staging bake before the approval and a longer Prod bake', () => {
    expect(valid.bakeWindows.staging.toMinutes()).toBe(20);
    expect(valid.bakeWindows.prod.toMinutes()).toBe(60);
    expect(validatePipelineConfig(valid)).toBe(valid);
  });

  it.each<[string, Duration, Duration, RegExp]>([
    ['a Staging bake shorter than the slowest alarm needs to fire', Duration.minutes(5), Duration.minutes(60), /pipeline\.bakeWindows\.staging="5 minutes": expected 15-120 minutes/],
    ['a fraction of a minute', Duration.seconds(1230), Duration.minutes(60), /pipeline\.bakeWindows\.staging="20\.5 minutes": expected whole minutes/],
    ['a Prod bake over 8 hours', Duration.minutes(20), Duration.hours(9), /pipeline\.bakeWindows\.prod="540 minutes": expected 15-480 minutes/],
    ['a Prod bake no longer than Staging\'s', Duration.minutes(30), Duration.minutes(30), /pipeline\.bakeWindows\.prod="30 minutes": expected longer than the Staging bake \(30 minutes\)/],
  ])('rejects %s, naming the key and the value', (_case, staging, prod, message) => {
    expect(() => validatePipelineConfig(withWindows(staging, prod))).toThrow(ConfigError);
    expect(() => validatePipelineConfig(withWindows(staging, prod))).toThrow(message);
  });
});
