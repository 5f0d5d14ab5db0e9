/**
 * The processor's pure decisions and configuration parsing: idempotency keys, rejection reasons, risk rules at their
 * boundaries, jsonb-safe payloads, the environment contract, and the risk parameters as read from (moto) SSM.
 */
import { randomBytes } from 'node:crypto';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSRecord } from 'aws-lambda';
import { sqsFifoRecord } from '../../support/aws-contracts/lambda-events';
import { processorSettingsFromEnv, ssmRiskLimits } from '../../../lambda/order-processor/config';
import { decide, parseMessage, storablePayload, UNKNOWN_ACCOUNT } from '../../../lambda/order-processor/decide';
import type { RiskLimits } from '../../../lambda/shared/runtime-parameters';
import { ConfigurationError } from '../../../lambda/shared/errors';
import { awsClientConfig } from '../../support/services';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const SENT = new Date('2026-03-02T09:59:59.123Z');
const OPEN: RiskLimits = { tradingEnabled: true, maxOrderNotional: '100000' };

function record(body: string, attributes: { group?: string; dedup?: string; sent?: string } = {}): SQSRecord {
  const fifo = sqsFifoRecord({
    body,
    messageId: 'msg-1',
    messageGroupId: attributes.group ?? 'absent',
    messageDeduplicationId: attributes.dedup ?? 'absent',
    sentTimestamp: attributes.sent ?? String(SENT.getTime()),
  });
  // Some cases model a record without the FIFO attributes (a misrouted standard-queue message).
  const { MessageGroupId, MessageDeduplicationId, ...rest } = fifo.attributes;
  return {
    ...fifo,
    attributes: {
      ...rest,
      ...(attributes.group === undefined ? {} : { MessageGroupId }),
      ...(attributes.dedup === undefined ? {} : { MessageDeduplicationId }),
    },
  };
}

const limitOrder = {
  clientOrderId: 'c-1',
  accountId: 'ACC-1',
  symbol: 'MSFT',
  side: 'BUY',
  type: 'LIMIT',
  quantity: '0.1',
  limitPrice: '3',
  timeInForce: 'FOK',
};

function decided(body: unknown, limits: RiskLimits = OPEN) {
  return decide(parseMessage(record(JSON.stringify(body), { group: 'ACC-1', dedup: 'c-1' }), NOW), limits, NOW);
}

describe('parseMessage', () => {
  it('keys the order by the queue attributes and takes receivedAt from SentTimestamp', () => {
    const parsed = parseMessage(record(JSON.stringify(limitOrder), { group: 'ACC-1', dedup: 'c-1' }), NOW);
    expect(parsed).toMatchObject({ kind: 'valid', key: { accountId: 'ACC-1', clientOrderId: 'c-1' }, receivedAt: SENT });
  });

  it('falls back to valid body ids, then to placeholders that cannot collide with a real account', () => {
    expect(parseMessage(record(JSON.stringify(limitOrder)), NOW).key).toEqual({ accountId: 'ACC-1', clientOrderId: 'c-1' });
    expect(parseMessage(record('[1]'), NOW).key).toEqual({ accountId: UNKNOWN_ACCOUNT, clientOrderId: 'sqs-msg-1' });
    // A body id that could break the insert (NUL, 200 characters) is not used as a key.
    expect(parseMessage(record(JSON.stringify({ accountId: 'A\u0000', clientOrderId: 'x'.repeat(200) })), NOW).key).toEqual({
      accountId: UNKNOWN_ACCOUNT,
      clientOrderId: 'sqs-msg-1',
    });
  });

  it('uses the clock when SentTimestamp is unusable', () => {
    expect(parseMessage(record('{}', { sent: 'soon' }), NOW).receivedAt).toEqual(NOW);
  });

  it('rejects a body whose client order id differs from the deduplication id', () => {
    const parsed = parseMessage(record(JSON.stringify(limitOrder), { group: 'ACC-1', dedup: 'other' }), NOW);
    expect(parsed).toMatchObject({
      kind: 'invalid',
      key: { accountId: 'ACC-1', clientOrderId: 'other' },
      reason: 'Invalid clientOrderId "c-1": does not match the SQS deduplication id "other" it was queued under',
    });
  });

  it('shows unprintable characters of a non-JSON body in the reason', () => {
    const parsed = parseMessage(record('\u202Eoops', { group: 'ACC-1', dedup: 'c-1' }), NOW);
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^Invalid order "<U\+202E>oops": is not valid JSON/);
  });

  it('cuts a long non-JSON body in the reason; request_payload keeps all of it', () => {
    const body = `not json ${'x'.repeat(10_000)}`;
    const parsed = parseMessage(record(body, { group: 'ACC-1', dedup: 'c-1' }), NOW);
    if (parsed.kind !== 'invalid') throw new Error('a non-JSON body was accepted');
    expect(parsed.reason.startsWith(`Invalid order "${body.slice(0, 64)}…": is not valid JSON`)).toBe(true);
    expect(parsed.reason.length).toBeLessThan(200);
    expect(JSON.parse(parsed.requestPayload)).toBe(body);
  });
});

describe('decide', () => {
  it('accepts a LIMIT order with its exact notional', () => {
    expect(decided(limitOrder)).toMatchObject({ status: 'ACCEPTED', notional: '0.3', rejectReason: null, limitPrice: '3', requestPayload: null });
  });

  it('accepts a notional equal to the maximum and rejects one just above it', () => {
    expect(decided({ ...limitOrder, quantity: '1000', limitPrice: '100' }).status).toBe('ACCEPTED');
    expect(decided({ ...limitOrder, quantity: '1000', limitPrice: '100.00000001' })).toMatchObject({
      status: 'REJECTED',
      rejectReason: 'Order notional 100000.00001 (quantity 1000 x limitPrice 100.00000001) exceeds the maximum order notional 100000',
    });
  });

  it('never applies the notional limit to MARKET orders, which have no price', () => {
    // The price is dropped: the schema forbids one on a MARKET order.
    const { limitPrice, ...withoutPrice } = limitOrder;
    expect(limitPrice).toBe('3');
    expect(decided({ ...withoutPrice, type: 'MARKET', quantity: '999999999999' })).toMatchObject({ status: 'ACCEPTED', notional: null, limitPrice: null });
  });

  it('checks the kill switch before anything else', () => {
    expect(decided({ ...limitOrder, quantity: '1000000' }, { tradingEnabled: false, maxOrderNotional: '1' })).toMatchObject({
      status: 'REJECTED',
      rejectReason: 'Trading is disabled by the operator kill switch: no orders are accepted',
      symbol: 'MSFT',
    });
  });

  it('stores an invalid order untyped, with its reason and payload, without needing limits', () => {
    const row = decide(parseMessage(record('{"accountId":"ACC-1"}', { group: 'ACC-1', dedup: 'c-1' }), NOW), undefined, NOW);
    expect(row).toMatchObject({
      status: 'REJECTED',
      rejectReason: 'Invalid clientOrderId undefined: is required',
      symbol: null,
      quantity: null,
      requestPayload: '{"accountId":"ACC-1"}',
      processedAt: NOW,
    });
  });
});

describe('storablePayload', () => {
  const parse = (text: string) => ({ ok: true as const, value: JSON.parse(text) as unknown });

  it('keeps JSON as JSON and anything jsonb would refuse as a JSON string of the body', () => {
    expect(storablePayload('{"a": 1}', parse('{"a": 1}'))).toBe('{"a":1}');
    expect(storablePayload('{"a":"\\u0000"}', parse('{"a":"\\u0000"}'))).toBe(JSON.stringify('{"a":"\\u0000"}'));
    expect(storablePayload('"\\ud800"', parse('"\\ud800"'))).toBe(JSON.stringify('"\\ud800"'));
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    expect(storablePayload(deep, parse(deep))).toBe(JSON.stringify(deep));
    expect(storablePayload('not json', { ok: false, reason: 'x' })).toBe('"not json"');
  });

  it('replaces characters jsonb cannot hold in a raw body', () => {
    expect(JSON.parse(storablePayload('a\u0000b\uD800c', { ok: false, reason: 'x' }))).toBe('a\uFFFDb\uFFFDc');
  });
});

describe('processorSettingsFromEnv', () => {
  const env = {
    EVENT_BUS_NAME: 'eventbus-trading-us-east-1-dev',
    TRADING_ENABLED_PARAMETER: '/trading/dev/orders/trading-enabled',
    MAX_ORDER_NOTIONAL_PARAMETER: '/trading/dev/orders/max-order-notional',
    LARGE_NOTIONAL_THRESHOLD: '250000.00',
    ORDERS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/sqs-orders-us-east-1-dev.fifo',
  };

  it('reads the contract of the CDK side with a 30 s default cache', () => {
    expect(processorSettingsFromEnv(env)).toEqual({
      eventBusName: 'eventbus-trading-us-east-1-dev',
      tradingEnabledParameter: '/trading/dev/orders/trading-enabled',
      maxOrderNotionalParameter: '/trading/dev/orders/max-order-notional',
      largeNotionalThreshold: '250000.00',
      parameterCacheSeconds: 30,
      ordersQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/sqs-orders-us-east-1-dev.fifo',
      redelivery: { baseSeconds: 5, maxSeconds: 300 },
    });
    expect(processorSettingsFromEnv({ ...env, PARAMETER_CACHE_SECONDS: '5' }).parameterCacheSeconds).toBe(5);
  });

  it('names the variable and the bad value', () => {
    expect(() => processorSettingsFromEnv({ ...env, EVENT_BUS_NAME: '' })).toThrow('Environment variable EVENT_BUS_NAME is required but empty');
    expect(() => processorSettingsFromEnv({ ...env, LARGE_NOTIONAL_THRESHOLD: '1e6' })).toThrow(/LARGE_NOTIONAL_THRESHOLD .*"1e6"/);
    expect(() => processorSettingsFromEnv({ ...env, PARAMETER_CACHE_SECONDS: '-1' })).toThrow(/PARAMETER_CACHE_SECONDS/);
    expect(() => processorSettingsFromEnv({ ...env, REDELIVERY_BASE_SECONDS: '0' })).toThrow(/REDELIVERY_BASE_SECONDS/);
    const { ORDERS_QUEUE_URL: _queue, ...withoutQueue } = env;
    expect(() => processorSettingsFromEnv(withoutQueue)).toThrow(/ORDERS_QUEUE_URL is required/);
  });
});

describe('ssmRiskLimits (moto SSM)', () => {
  const ssm = new SSMClient(awsClientConfig());
  const prefix = `/trading/t${randomBytes(4).toString('hex')}`;
  let parameterSet = 0;
  const limits = (enabled: string, max: string | undefined) => async () => {
    parameterSet += 1;
    const names = { tradingEnabledParameter: `${prefix}/${parameterSet}/enabled`, maxOrderNotionalParameter: `${prefix}/${parameterSet}/max` };
    await ssm.send(new PutParameterCommand({ Name: names.tradingEnabledParameter, Value: enabled, Type: 'String', Overwrite: true }));
    if (max !== undefined) {
      await ssm.send(new PutParameterCommand({ Name: names.maxOrderNotionalParameter, Value: max, Type: 'String', Overwrite: true }));
    }
    return ssmRiskLimits(new SSMProvider({ awsSdkV3Client: ssm }), { ...names, parameterCacheSeconds: 30 })();
  };

  it('parses the switch strictly and the limit as a decimal', async () => {
    await expect(limits('false', '250000.50')()).resolves.toEqual({ tradingEnabled: false, maxOrderNotional: '250000.50' });
    await expect(limits('yes', '1')()).rejects.toThrow(
      new ConfigurationError(`SSM parameter ${prefix}/2/enabled must be "true" or "false", got "yes"`),
    );
    await expect(limits('true', '-5')()).rejects.toThrow(/max must be a non-negative decimal string .*"-5"/);
  });

  it('treats a missing parameter as a configuration fault, not as a limit', async () => {
    const error = await limits('true', undefined)().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(String(error)).toContain(`${prefix}/4/max`);
  });

  describe('the container cache', () => {
    /** Fresh parameters, a provider that counts its reads, and a clock the test moves. */
    async function cachedLimits(parameterCacheSeconds: number) {
      parameterSet += 1;
      const names = { tradingEnabledParameter: `${prefix}/${parameterSet}/enabled`, maxOrderNotionalParameter: `${prefix}/${parameterSet}/max` };
      const put = (name: string, value: string) => ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
      await put(names.tradingEnabledParameter, 'true');
      await put(names.maxOrderNotionalParameter, '1000');
      const provider = new SSMProvider({ awsSdkV3Client: ssm });
      const reads: Array<{ name: string; forceFetch: boolean | undefined }> = [];
      const counting = {
        get: ((name: string, options?: { forceFetch?: boolean }) => {
          reads.push({ name, forceFetch: options?.forceFetch });
          return provider.get(name, options);
        }) as SSMProvider['get'],
      };
      const clock = { now: 1_000_000 };
      const source = ssmRiskLimits(counting, { ...names, parameterCacheSeconds }, () => clock.now);
      return { names, put, reads, clock, source };
    }

    it('keeps the parsed limits for parameterCacheSeconds, shares a read under way, and then reads again past every cache', async () => {
      const { names, put, reads, clock, source } = await cachedLimits(30);
      const [first, concurrent] = await Promise.all([source(), source()]);
      expect(first).toEqual({ tradingEnabled: true, maxOrderNotional: '1000' });
      expect(concurrent).toBe(first);
      expect(reads).toHaveLength(2);
      await put(names.tradingEnabledParameter, 'false');
      clock.now += 29_999;
      await expect(source()).resolves.toBe(first);
      expect(reads).toHaveLength(2);
      // The window is over on this clock while the provider's own cache, on the real one, would still hold the old
      // values: the read forces a fetch, so the kill switch bites after parameterCacheSeconds and no later.
      clock.now += 1;
      await expect(source()).resolves.toEqual({ tradingEnabled: false, maxOrderNotional: '1000' });
      expect(reads).toHaveLength(4);
      expect(reads.every((read) => read.forceFetch === true)).toBe(true);
    });

    it('does not keep a failed read or a value that does not parse: the next batch reads again', async () => {
      const { names, put, reads, source } = await cachedLimits(30);
      await put(names.maxOrderNotionalParameter, '1e6');
      await expect(source()).rejects.toThrow(/max must be a non-negative decimal string .*"1e6"/);
      await put(names.maxOrderNotionalParameter, '2000');
      await expect(source()).resolves.toEqual({ tradingEnabled: true, maxOrderNotional: '2000' });
      expect(reads).toHaveLength(4);
    });

    it('reads on every call with a cache of 0 seconds', async () => {
      const { reads, source } = await cachedLimits(0);
      await source();
      await source();
      expect(reads).toHaveLength(4);
    });
  });
});
