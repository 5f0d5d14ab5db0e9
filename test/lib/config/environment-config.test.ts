import { Duration } from 'aws-cdk-lib';
import {
  ConfigError,
  EnvironmentConfig,
  loadAppConfig,
  validateEnvironmentConfig,
  validateEnvironmentSuffix,
} from '../../../lib/config';

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });

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

  it('refuses the pipeline-owned suffixes for a sandbox', () => {
    expect(() => loadAppConfig(context({ environmentSuffix: 'prod' }))).toThrow(/environmentSuffix="prod".*reserved/);
  });

  it('rejects a malformed sandbox account', () => {
    expect(() => loadAppConfig(context({ sandboxAccount: '12345' }))).toThrow(/sandbox\.account="12345"/);
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
  ])('rejects %s, naming the key and the value', (_case, patch, message) => {
    expect(() => validateEnvironmentConfig(broken(patch))).toThrow(ConfigError);
    expect(() => validateEnvironmentConfig(broken(patch))).toThrow(message);
  });

  it('accepts the shipped environments unchanged', () => {
    expect(validateEnvironmentConfig(valid)).toBe(valid);
  });

  it('accepts 2-12 lowercase alphanumerics as suffix', () => {
    expect(validateEnvironmentSuffix('ab')).toBe('ab');
    expect(validateEnvironmentSuffix('abcdefghijk1')).toBe('abcdefghijk1');
  });
});
