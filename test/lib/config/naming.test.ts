import { NAME_RULES, NamingError, ResourceNames } from '../../../lib/config';

const staging = new ResourceNames({ region: 'us-east-1', environmentSuffix: 'stg', account: '222222222222' });

describe('ResourceNames', () => {
  it('follows {resource-type}-{purpose}-{region}-{environmentSuffix}', () => {
    expect(staging.of('fifoQueue', 'orders')).toBe('sqs-orders-us-east-1-stg.fifo');
    expect(staging.of('lambda', 'order-processor')).toBe('lambda-order-processor-us-east-1-stg');
    expect(staging.of('table', 'sessions')).toBe('dynamodb-sessions-us-east-1-stg');
    expect(staging.of('dbCluster', 'trading')).toBe('aurora-trading-us-east-1-stg');
  });

  it('qualifies globally unique bucket names with the account id', () => {
    expect(staging.of('bucket', 'audit')).toBe('s3-audit-us-east-1-stg-222222222222');
  });

  it('puts the suffix in SSM parameter paths and log group names', () => {
    expect(staging.parameter('orders/trading-enabled')).toBe('/trading/stg/orders/trading-enabled');
    expect(staging.logGroup('lambda', 'order-processor')).toBe('/trading/stg/lambda/order-processor');
  });

  it.each([
    ['lambda', 'x'.repeat(60), /lambda name .* is \d+ characters; the limit is 64/],
    ['role', 'y'.repeat(60), /the limit is 64/],
    ['bucket', 'z'.repeat(40), /the limit is 63/],
    ['fifoQueue', 'q'.repeat(70), /the limit is 80/],
    ['dbCluster', 'd'.repeat(50), /the limit is 63/],
    ['eventRule', 'r'.repeat(50), /the limit is 64/],
  ] as const)('rejects a %s name over the service limit, naming it', (kind, purpose, message) => {
    expect(() => staging.of(kind, purpose)).toThrow(NamingError);
    expect(() => staging.of(kind, purpose)).toThrow(message);
  });

  it.each(['Orders', 'order_processor', 'orders-', '-orders', 'or--ders', ''])('rejects the purpose %p', (purpose) => {
    expect(() => staging.of('lambda', purpose)).toThrow(/must be lowercase kebab-case/);
  });

  it('rejects parameter paths that are not lowercase segments', () => {
    expect(() => staging.parameter('Orders//x')).toThrow(/SSM parameter path "Orders\/\/x"/);
  });

  it('keeps every rule within its documented limit for the longest allowed suffix', () => {
    const longest = new ResourceNames({ region: 'us-east-1', environmentSuffix: 'abcdefghijkl', account: '123456789012' });
    for (const kind of Object.keys(NAME_RULES) as (keyof typeof NAME_RULES)[]) {
      expect(longest.of(kind, 'order-processor').length).toBeLessThanOrEqual(NAME_RULES[kind].maxLength);
    }
  });
});
