/**
 * Assertions on sessions routes, the deep health endpoint, the Route 53 health check, the hourly monitor and every
 * alarm (metric, threshold, period, action) of one synthesized stage (suffix `test`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MetricAlarmModel, isInAlarm } from '../../support/aws-contracts/cloudwatch';
import { synthesizeStage } from '../../support/cdk-app';

let service: Template;

beforeAll(() => {
  service = Template.fromStack(synthesizeStage().stage.serviceStack);
});

const alertTopic = { Ref: Match.stringLikeRegexp('AlertingTopic') };

describe('sessions API', () => {
  it.each(['POST', 'GET', 'PUT', 'DELETE'])('%s is IAM-authorized and proxied to the sessions function', (verb) => {
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: verb,
      AuthorizationType: 'AWS_IAM',
      Integration: Match.objectLike({ Type: 'AWS_PROXY', Uri: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('SessionsHandlerFunction'), 'Arn'] }])]) }) }),
    });
  });

  it('grants exact item actions on the table, nothing else', () => {
    const [policy] = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('SessionsHandlerRole') }] } }));
    const statements = JSON.stringify(policy?.Properties.PolicyDocument.Statement);
    expect(statements).toContain('"Action":["dynamodb:DeleteItem","dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem"]');
    expect(statements).not.toContain('dynamodb:Scan');
    expect(statements).not.toContain('dynamodb:*');
  });

  it('forwards the table stream with partial batch failures, bisecting and an on-failure destination', () => {
    service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamFailureQueue'), 'Arn'] } } },
    });
  });

  it('gives the stream consumer the failure queue as its replay queue, with the right to send to it through its key', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-session-stream-us-east-1-test',
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: Match.anyValue(), REPLAY_QUEUE_URL: { Ref: Match.stringLikeRegexp('StreamFailureQueue') } }) },
    });
    service.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('StreamConsumerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'StreamFailures', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamFailureQueue'), 'Arn'] } }),
          Match.objectLike({ Sid: 'StreamFailuresKms', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'kms:ViaService': Match.stringLikeRegexp('^sqs\\.') } } }),
        ]),
      },
    });
  });
});

describe('deep health endpoint', () => {
  it('GET /v1/health is public and served by the in-VPC health function', () => {
    service.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'NONE',
      Integration: Match.objectLike({ Uri: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^HealthFunction'), 'Arn'] }])]) }) }),
    });
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-health-us-east-1-test',
      VpcConfig: Match.anyValue(),
      Environment: { Variables: Match.objectLike({ DB_READER_HOST: Match.anyValue(), HEALTH_CACHE_SECONDS: '5', HEALTH_CHECK_TIMEOUT_MS: '1500' }) },
    });
  });
});

describe('Route 53 health check', () => {
  it('checks /v1/health over HTTPS every 30 s with failure threshold 3 and a string match', () => {
    service.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS_STR_MATCH',
        FullyQualifiedDomainName: Match.anyValue(),
        Port: 443,
        ResourcePath: '/v1/health',
        SearchString: '"status":"ok"',
        RequestInterval: 30,
        FailureThreshold: 3,
        EnableSNI: true,
        MeasureLatency: true,
      },
      HealthCheckTags: Match.arrayWith([{ Key: 'Name', Value: 'r53hc-api-us-east-1-test' }]),
    });
  });

  it('raises an alarm when the health check status drops, missing data breaching', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'alarm-health-check-status-us-east-1-test',
      Namespace: 'AWS/Route53',
      MetricName: 'HealthCheckStatus',
      Dimensions: [{ Name: 'HealthCheckId', Value: { 'Fn::GetAtt': [Match.anyValue(), 'HealthCheckId'] } }],
      Statistic: 'Minimum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [alertTopic],
    });
  });
});

describe('hourly health monitor', () => {
  it('runs outside the VPC with everything it checks in its environment', () => {
    const [monitor] = Object.values(service.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'lambda-health-monitor-us-east-1-test' } }));
    expect(monitor?.Properties.VpcConfig).toBeUndefined();
    expect(Object.keys(monitor?.Properties.Environment.Variables ?? {})).toEqual(
      expect.arrayContaining(['HEALTH_URL', 'HEALTH_CHECK_ID', 'ORDERS_DLQ_URL', 'SESSION_TABLE_NAME', 'ALERT_TOPIC_ARN', 'EVENT_BUS_NAME']),
    );
    expect(monitor?.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/MonitorDeadLetterQueue/), 'Arn'] } });
  });

  it('is run every hour by EventBridge Scheduler with retries and a DLQ', () => {
    service.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'schedule-health-monitor-us-east-1-test',
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('HealthMonitorFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('MonitorDeadLetterQueue'), 'Arn'] } },
      }),
    });
  });

  it('may publish metrics only in the platform namespace and read exactly its health check', () => {
    const [policy] = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('HealthMonitorRole') }] } }));
    const statements = policy?.Properties.PolicyDocument.Statement as { Sid?: string; Condition?: unknown; Resource?: unknown }[];
    expect(statements.find((s) => s.Sid === 'PublishPlatformMetrics')?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'TradingPlatform' } });
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadHealthCheckStatus')?.Resource)).toContain(':route53:::healthcheck/');
  });

  it('alarms when the monitor has not run for two hours (missing data breaching)', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'alarm-health-monitor-heartbeat-us-east-1-test',
      Namespace: 'TradingPlatform',
      MetricName: 'HealthMonitorHeartbeat',
      Period: 3600,
      EvaluationPeriods: 2,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });
});

describe('heartbeat of a new stack', () => {
  const heartbeatAlarm = () => {
    const [entry] = Object.entries(service.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'alarm-health-monitor-heartbeat-us-east-1-test' } }));
    if (!entry) throw new Error('no heartbeat alarm');
    const [id, resource] = entry;
    const properties = resource.Properties as { Namespace: string; MetricName: string; Dimensions: unknown; Period: number; EvaluationPeriods: number; DatapointsToAlarm: number; Threshold: number; TreatMissingData: 'breaching' | 'notBreaching' };
    const model: MetricAlarmModel = { periodSeconds: properties.Period, evaluationPeriods: properties.EvaluationPeriods, datapointsToAlarm: properties.DatapointsToAlarm, threshold: properties.Threshold, treatMissingData: properties.TreatMissingData };
    return { id, resource, properties, model };
  };
  const seed = () => {
    const [entry] = Object.entries(service.findResources('Custom::HeartbeatSeed'));
    if (!entry) throw new Error('no heartbeat seed');
    return { id: entry[0], properties: entry[1].Properties as { Create: string; Update?: string; Delete?: string } };
  };

  it('publishes one heartbeat when the stack is created, exactly the datapoint the alarm reads, and only then creates the alarm', () => {
    const alarm = heartbeatAlarm();
    const { id, properties } = seed();
    expect(alarm.resource.DependsOn).toEqual(expect.arrayContaining([id]));
    // Only on create: on later deploys a seed would hide a monitor a deploy broke for an hour.
    expect(properties.Update).toBeUndefined();
    expect(properties.Delete).toBeUndefined();
    expect(JSON.parse(properties.Create)).toMatchObject({
      service: 'CloudWatch',
      action: 'putMetricData',
      parameters: { Namespace: alarm.properties.Namespace, MetricData: [{ MetricName: alarm.properties.MetricName, Dimensions: alarm.properties.Dimensions, Value: 1 }] },
    });
  });

  it('runs the seed in a named, traced function that logs to a group the stack owns and may only publish platform metrics', () => {
    service.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-heartbeat-seed-us-east-1-test',
      TracingConfig: { Mode: 'Active' },
      MemorySize: 256,
      LoggingConfig: Match.objectLike({ LogGroup: { Ref: Match.stringLikeRegexp('HeartbeatSeedLogGroup') } }),
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('HeartbeatSeedRole'), 'Arn'] },
    });
    service.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/trading/test/lambda/heartbeat-seed', KmsKeyId: Match.anyValue() });
    const [policy] = Object.values(service.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('HeartbeatSeedRole') }] } }));
    const statements = policy?.Properties.PolicyDocument.Statement as { Sid: string; Action: unknown; Condition?: unknown }[];
    expect(statements.find((statement) => statement.Sid === 'PublishHeartbeat')).toMatchObject({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'TradingPlatform' } } });
  });

  // Numbers: the schedule is rate(1 hour), so the first run is at most an hour (plus Scheduler's 60 s precision) after
  // the schedule exists; the schedule may be created a few minutes before the seed. Minutes are the evaluation grid.
  const minute = 60;
  const hour = 3600;
  const deployedAt = 1_750_000_000 + 17 * minute; // not on an hour boundary
  const evaluationsBetween = (from: number, to: number) => Array.from({ length: Math.floor((to - from) / minute) + 1 }, (_, index) => from + index * minute);
  const hourlyRuns = (first: number, until: number) => Array.from({ length: Math.floor((until - first) / hour) + 1 }, (_, index) => first + index * hour + 59);

  it('without the seed a new stack would page at once, whatever M out of N', () => {
    const { model } = heartbeatAlarm();
    const runs = hourlyRuns(deployedAt + hour, deployedAt + 6 * hour);
    expect(isInAlarm(model, runs, deployedAt + minute)).toBe(true);
    // At creation every period of the window is empty: no M <= N avoids the page.
    for (let evaluationPeriods = 1; evaluationPeriods <= 24; evaluationPeriods += 1) {
      for (let datapointsToAlarm = 1; datapointsToAlarm <= evaluationPeriods; datapointsToAlarm += 1) {
        expect(isInAlarm({ ...model, evaluationPeriods, datapointsToAlarm }, runs, deployedAt + minute)).toBe(true);
      }
    }
  });

  it('with the seed a new stack does not page before or after the first scheduled run', () => {
    const { model } = heartbeatAlarm();
    for (const scheduleLead of [0, 5 * minute]) {
      // The first run comes up to 65 minutes after the seed (schedule created 5 minutes before it, 59 s precision).
      const datapoints = [deployedAt, ...hourlyRuns(deployedAt - scheduleLead + hour, deployedAt + 12 * hour)];
      const paged = evaluationsBetween(deployedAt + minute, deployedAt + 12 * hour).filter((at) => isInAlarm(model, datapoints, at));
      expect(paged).toEqual([]);
    }
  });

  it('still pages when the monitor stops: after two hours without a run, not for one late or missed run', () => {
    const { model } = heartbeatAlarm();
    const runs = hourlyRuns(deployedAt + hour, deployedAt + 4 * hour);
    const lastRun = runs[runs.length - 1] ?? deployedAt;
    const datapoints = [deployedAt, ...runs];
    const firstPage = evaluationsBetween(lastRun, lastRun + 6 * hour).find((at) => isInAlarm(model, datapoints, at));
    expect(firstPage).toBeDefined();
    // Two full hourly periods without a heartbeat: the page comes two hours (and a minute) after the last run.
    expect((firstPage ?? Infinity) - lastRun).toBeLessThanOrEqual(2 * hour + minute);
    expect((firstPage ?? 0) - lastRun).toBeGreaterThan(hour);
  });
});

describe('alarms', () => {
  it.each([
    ['aurora-cpu', 'AWS/RDS', 'CPUUtilization', 'Average', 300, 80],
    ['aurora-replica-lag', 'AWS/RDS', 'AuroraReplicaLagMaximum', 'Maximum', 60, 2000],
    ['aurora-acu-utilization', 'AWS/RDS', 'ACUUtilization', 'Average', 300, 90],
    ['aurora-connections', 'AWS/RDS', 'DatabaseConnections', 'Maximum', 300, 720],
    ['api-5xx-rate', 'AWS/ApiGateway', '5XXError', 'Average', 60, 0.01],
    ['api-4xx-rate', 'AWS/ApiGateway', '4XXError', 'Average', 60, 0.1],
    ['orders-queue-age', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum', 60, 60],
    ['orders-dlq-depth', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 60, 1],
    ['events-dlq-depth', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 60, 1],
  ])('%s watches %s %s (%s, %i s) against %d and notifies the alert topic', (purpose, namespace, metricName, statistic, period, threshold) => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `alarm-${purpose}-us-east-1-test`,
      Namespace: namespace,
      MetricName: metricName,
      Statistic: statistic,
      Period: period,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [alertTopic],
      OKActions: [alertTopic],
    });
  });

  it('watches API p99 latency against the 1000 ms target', () => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'alarm-api-latency-p99-us-east-1-test',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 1000,
      AlarmActions: [alertTopic],
    });
  });

  it.each(['order-processor', 'order-query', 'sessions', 'session-stream', 'health', 'health-monitor'])('%s has error-rate (errors / invocations), throttle and p99 duration alarms', (purpose) => {
    service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `alarm-${purpose}-error-rate-us-east-1-test`,
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(invocations > 0, 100 * errors / invocations, 0)' })]),
      AlarmActions: [alertTopic],
    });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `alarm-${purpose}-throttles-us-east-1-test`, MetricName: 'Throttles', Statistic: 'Sum', Threshold: 1 });
    service.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `alarm-${purpose}-duration-p99-us-east-1-test`, MetricName: 'Duration', ExtendedStatistic: 'p99' });
  });

  it('combines the critical alarms into one "platform degraded" composite that notifies', () => {
    const [composite] = Object.values(service.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composite?.Properties).toMatchObject({ AlarmName: 'alarm-platform-degraded-us-east-1-test', AlarmActions: [expect.objectContaining({ Ref: expect.stringMatching(/AlertingTopic/) })] });
    const rule = JSON.stringify(composite?.Properties.AlarmRule);
    expect(rule).toContain(') OR ALARM(');
    for (const child of ['healthcheckstatus', 'healthmonitorheartbeat', 'api5xxrate', 'apilatencyp99', 'orderprocessorerrorrate', 'ordersdlqdepth', 'auroracpu', 'aurorareplicalag']) {
      expect(rule).toContain(`{"Fn::GetAtt":["AlarmsAlarm${child}`);
    }
  });

  it('forwards this stage\'s alarm state changes from the default bus to the platform bus', () => {
    service.hasResourceProperties('AWS::Events::Rule', {
      Name: 'ebrule-alarm-state-changes-us-east-1-test',
      EventPattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [{ suffix: '-test' }] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventBus'), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });
});

describe('alert topic and dashboard', () => {
  it('the alert topic is KMS-encrypted', () => {
    service.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'sns-alerts-us-east-1-test', KmsMasterKeyId: Match.anyValue() });
  });

  it('one dashboard per stage covers API, functions, queue, database, sessions and health', () => {
    const [dashboard] = Object.values(service.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('dashboard-platform-us-east-1-test');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const section of ['## API', '## Functions', '## Orders queue', '## Database', '## Sessions and health', 'HealthCheckStatus', 'HealthMonitorHeartbeat']) {
      expect(body).toContain(section);
    }
  });
});

/** The composite's children, by alarm purpose (`alarm-{purpose}-us-east-1-test`), resolved from its rule's references. */
function compositeChildren(): string[] {
  const [composite] = Object.values(service.findResources('AWS::CloudWatch::CompositeAlarm'));
  const rule = JSON.stringify(composite?.Properties.AlarmRule);
  const referenced = [...rule.matchAll(/\{"Fn::GetAtt":\["([^"]+)","Arn"\]\}/g)].map((match) => match[1] ?? '');
  // Only ORs of ALARM states: the docs' "any of these" reading of the rule.
  expect(rule.match(/ALARM\(/g)).toHaveLength(referenced.length);
  expect(rule).not.toMatch(/ AND |NOT |OK\(|INSUFFICIENT_DATA\(/);
  const alarms = service.findResources('AWS::CloudWatch::Alarm');
  return referenced.map((logicalId) => String(alarms[logicalId]?.Properties.AlarmName).replace(/^alarm-/, '').replace(/-us-east-1-test$/, '')).sort();
}

const doc = (name: string): string => fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', name), 'utf8');
const kebabNames = (text: string): string[] => [...text.matchAll(/`([a-z0-9]+(?:-[a-z0-9]+)+)`/g)].map((match) => match[1] ?? '');

describe('the docs name exactly the composite\'s children', () => {
  let children: string[];
  beforeAll(() => {
    children = compositeChildren();
  });

  it('has the critical alarms as children', () => {
    expect(children).toEqual(expect.arrayContaining(['health-check-status', 'orders-failed', 'orders-stuck-account', 'aurora-cpu']));
  });

  it('runbook: the platform-degraded section lists them, with their count', () => {
    const runbook = doc('runbook.md');
    const section = runbook.slice(runbook.indexOf('<a id="platform-degraded"></a>'), runbook.indexOf('<a id="health-check-status"></a>'));
    const listed = /- \*\*Children:\*\*([\s\S]*?)\n- \*\*/.exec(section)?.[1] ?? '';
    expect(kebabNames(listed).map((name) => name.replace(/^alarm-/, '')).sort()).toEqual(children);
    expect(section).toContain(`exactly these ${children.length} alarms`);
  });

  it('architecture: the detection row lists them, with their count', () => {
    const row = doc('architecture.md').split('\n').find((line) => line.startsWith('| Detection |')) ?? '';
    const [, components = ''] = row.split(' | ');
    const listed = components.slice(components.indexOf('critical alarms:'));
    expect(kebabNames(listed).sort()).toEqual(children);
    expect(components).toContain(`over the ${children.length} critical alarms`);
  });

  it('availability: the rows marked critical are exactly them', () => {
    const rows = doc('availability.md').split('\n').filter((line) => line.startsWith('| `') && line.endsWith('| yes |'));
    expect(rows.flatMap((row) => kebabNames(row.split(' | ')[0] ?? '')).sort()).toEqual(children);
  });
});

describe('runbook coverage', () => {
  it('every alarm links to a runbook section that exists', () => {
    const runbook = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'runbook.md'), 'utf8');
    const alarms = [...Object.values(service.findResources('AWS::CloudWatch::Alarm')), ...Object.values(service.findResources('AWS::CloudWatch::CompositeAlarm'))];
    expect(alarms.length).toBeGreaterThan(30);
    const missing = alarms
      .map((alarm) => String(alarm.Properties.AlarmDescription))
      .map((description) => /docs\/runbook\.md#([a-z0-9-]+)/.exec(description)?.[1] ?? `(no runbook link in "${description}")`)
      .filter((anchor) => !runbook.includes(`<a id="${anchor}"></a>`));
    expect(missing).toEqual([]);
  });

  it('every alarm section says in its own words whether a rollback helps', () => {
    const runbook = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'runbook.md'), 'utf8');
    const sections = runbook.split('\n### ').slice(1).filter((section) => section.startsWith('alarm-'));
    expect(sections.length).toBeGreaterThan(20);
    const advice = sections.map((section) => {
      const lines = [...section.matchAll(/\n- \*\*Roll back:\*\* ((?:.|\n {2})*)/g)].map((match) => (match[1] ?? '').replace(/\s+/g, ' '));
      return { heading: section.split('\n')[0] ?? '', lines };
    });
    expect(advice.filter((section) => section.lines.length !== 1).map((section) => section.heading)).toEqual([]);
    const texts = advice.map((section) => section.lines[0] ?? '');
    expect(texts.filter((text, index) => texts.indexOf(text) !== index)).toEqual([]);
  });
});
