/**
 * The monitor's environment contract: defaults, and loud ConfigurationErrors for the values a deployment can get wrong.
 */
import { AWS_CALL_TIMEOUT_MS, healthMonitorSettingsFromEnv } from '../../../lambda/health-monitor/config';
import { ConfigurationError } from '../../../lambda/shared/errors';

const ENV = {
  HEALTH_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/v1/health',
  HEALTH_CHECK_ID: 'abcdef12-3456-7890-abcd-ef1234567890',
  ORDERS_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/sqs-orders-dlq-us-east-1-stg.fifo',
  SESSION_TABLE_NAME: 'dynamodb-sessions-us-east-1-stg',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:sns-alerts-us-east-1-stg',
  EVENT_BUS_NAME: 'events-trading-us-east-1-stg',
  ENVIRONMENT_SUFFIX: 'stg',
};

describe('healthMonitorSettingsFromEnv', () => {
  it('reads every variable and applies the defaults', () => {
    expect(healthMonitorSettingsFromEnv(ENV)).toEqual({
      healthUrl: ENV.HEALTH_URL,
      healthCheckId: ENV.HEALTH_CHECK_ID,
      ordersDlqUrl: ENV.ORDERS_DLQ_URL,
      sessionTableName: ENV.SESSION_TABLE_NAME,
      alertTopicArn: ENV.ALERT_TOPIC_ARN,
      eventBusName: ENV.EVENT_BUS_NAME,
      metricsNamespace: 'TradingPlatform',
      environment: 'stg',
      httpTimeoutMs: 5_000,
      awsTimeoutMs: AWS_CALL_TIMEOUT_MS,
    });
  });

  it('takes a namespace and HTTP timeout when given', () => {
    expect(healthMonitorSettingsFromEnv({ ...ENV, METRICS_NAMESPACE: 'Custom', HTTP_TIMEOUT_MS: '2500' })).toMatchObject({
      metricsNamespace: 'Custom',
      httpTimeoutMs: 2_500,
    });
  });

  it.each([
    [{ HEALTH_URL: 'http://abc123.execute-api.us-east-1.amazonaws.com/v1/health' }, 'HEALTH_URL must be an https URL'],
    [{ HEALTH_URL: 'not a url' }, 'HEALTH_URL must be an absolute URL, got "not a url"'],
    [{ ALERT_TOPIC_ARN: 'sns-alerts' }, 'ALERT_TOPIC_ARN must be an SNS topic ARN'],
    [{ HTTP_TIMEOUT_MS: '5s' }, 'HTTP_TIMEOUT_MS must be an integer, got "5s"'],
    [{ HTTP_TIMEOUT_MS: '60000' }, 'HTTP_TIMEOUT_MS must be between 100 and 30000, got 60000'],
    [{ ENVIRONMENT_SUFFIX: '' }, 'ENVIRONMENT_SUFFIX is required but empty'],
    [{ HEALTH_CHECK_ID: undefined }, 'HEALTH_CHECK_ID is required but not set'],
  ])('rejects %j', (override, message) => {
    const read = (): unknown => healthMonitorSettingsFromEnv({ ...ENV, ...override });
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });
});
