/**
 * scripts/alarm-bake.ts against a loopback stand-in of CloudWatch answering DescribeAlarms as AWS documents it
 * (test/support/aws-contracts/cloudwatch-api.ts): a watch bake passes only if no alarm of the stage is in ALARM for the
 * whole window, and fails at the first one; a rollback execution's bake waits for the alarms to clear instead.
 */
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createAwsClient } from '../../lambda/shared/aws-clients';
import { bakeOptionsFromEnv, runAlarmBake, type BakeOptions, type BakeResult } from '../../scripts/alarm-bake';
import { describeAlarmsAnswer, type AlarmFixture } from '../support/aws-contracts/cloudwatch-api';
import { jsonProtocolError } from '../support/aws-contracts/cloudwatch-logs';
import { AwsStandIn, type AwsHandler } from './aws-stand-in';
import { minimalEnv, REPO_ROOT, runProcess } from './harness';
import { TEST_CREDENTIALS } from './sigv4-check';

const TS_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'ts-node');
const COMPOSITE = 'alarm-platform-degraded-us-east-1-prod';
const OK: readonly AlarmFixture[] = [
  { name: COMPOSITE, state: 'OK', kind: 'composite' },
  { name: 'alarm-api-5xx-rate-us-east-1-prod', state: 'OK' },
  { name: 'alarm-health-monitor-heartbeat-us-east-1-prod', state: 'INSUFFICIENT_DATA' },
];
const FIRING: readonly AlarmFixture[] = [{ name: COMPOSITE, state: 'ALARM', kind: 'composite', reason: 'alarm-api-5xx-rate-us-east-1-prod transitioned to ALARM' }, { name: 'alarm-api-5xx-rate-us-east-1-prod', state: 'ALARM', reason: 'Threshold Crossed' }, OK[2] as AlarmFixture];

const options = (overrides: Partial<BakeOptions> = {}): BakeOptions => ({
  alarms: { namePrefix: 'alarm-', nameSuffix: '-us-east-1-prod', requiredNames: [COMPOSITE] },
  windowMs: 400,
  mode: 'watch',
  pollIntervalMs: 40,
  settleMs: 120,
  readFailureMs: 200,
  ...overrides,
});

/** DescribeAlarms answering with the n-th entry of `sequence` on the n-th call (the last one repeats). */
const answers = (sequence: readonly (readonly AlarmFixture[] | { status: number; type: string })[]): AwsHandler => (_call, index) => {
  const entry = sequence[Math.min(index, sequence.length - 1)] ?? OK;
  return 'type' in entry ? { status: entry.status, body: jsonProtocolError(entry.type, `${entry.type} from the stand-in`) } : { body: describeAlarmsAnswer(entry) };
};

const standIns: AwsStandIn[] = [];
afterEach(async () => {
  for (const stand of standIns.splice(0)) await stand.stop();
});

async function bake(handler: AwsHandler, overrides: Partial<BakeOptions> = {}): Promise<{ result: BakeResult; lines: string[]; stand: AwsStandIn }> {
  const stand = await AwsStandIn.start({ DescribeAlarms: handler });
  standIns.push(stand);
  // One SDK attempt per poll, so the bake's own handling of a failed poll is what the test sees.
  const cloudWatch = createAwsClient(CloudWatchClient, { deadlines: { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 1 }, extra: { region: 'us-east-1', endpoint: stand.origin, credentials: TEST_CREDENTIALS } });
  const lines: string[] = [];
  const result = await runAlarmBake(options(overrides), { cloudWatch, log: (line) => lines.push(line) });
  return { result, lines, stand };
}

describe('runAlarmBake, watch (after the checks, and in a standard Prod execution)', () => {
  it('passes when no alarm of the stage is in ALARM for the whole window, logging the states once', async () => {
    const { result, lines, stand } = await bake(answers([OK]));

    expect(result.passed).toBe(true);
    expect(result.polls).toBeGreaterThanOrEqual(5);
    expect(stand.callsOf('DescribeAlarms')[0]?.input).toMatchObject({ AlarmNamePrefix: 'alarm-', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    expect(lines.filter((line) => line.startsWith('  ') && line.includes('3 alarm(s) *-us-east-1-prod: 2 OK, 0 ALARM, 1 INSUFFICIENT_DATA'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^bake: PASSED: no alarm in ALARM for/);
  });

  it('fails at the first poll that finds an alarm in ALARM, naming it and why', async () => {
    const { result, stand } = await bake(answers([OK, OK, FIRING]), { windowMs: 5_000 });

    expect(result).toMatchObject({ passed: false, polls: 3 });
    expect(result.passed ? '' : result.reason).toMatch(/in ALARM: alarm-api-5xx-rate-us-east-1-prod \(Threshold Crossed\); alarm-platform-degraded-us-east-1-prod \(alarm-api-5xx-rate-us-east-1-prod transitioned to ALARM\)/);
    expect(stand.callsOf('DescribeAlarms')).toHaveLength(3);
  });

  it('reads every page: an alarm in ALARM on the second page fails the bake', async () => {
    const stand: AwsHandler = (call) =>
      call.input['NextToken'] === 'page-2'
        ? { body: describeAlarmsAnswer([{ name: 'alarm-orders-dlq-depth-us-east-1-prod', state: 'ALARM', reason: 'Threshold Crossed' }]) }
        : { body: describeAlarmsAnswer(OK, 'page-2') };

    const { result } = await bake(stand);

    expect(result.passed ? '' : result.reason).toMatch(/in ALARM: alarm-orders-dlq-depth-us-east-1-prod/);
  });

  it('fails when the composite alarm is missing: a bake that watches nothing proves nothing', async () => {
    const { result } = await bake(answers([OK.slice(1)]));

    expect(result).toMatchObject({ passed: false, polls: 1, reason: `required alarm(s) missing: ${COMPOSITE}; the bake would watch nothing` });
  });

  it('rides out a throttled or failed poll, and gives up when DescribeAlarms keeps failing', async () => {
    const recovered = await bake(answers([OK, { status: 400, type: 'ThrottlingException' }, { status: 500, type: 'InternalServiceError' }, OK]));
    expect(recovered.result.passed).toBe(true);
    expect(recovered.lines.some((line) => line.includes('DescribeAlarms failed (ThrottlingException'))).toBe(true);

    const broken = await bake(answers([OK, { status: 400, type: 'ThrottlingException' }]), { windowMs: 5_000 });
    expect(broken.result.passed ? '' : broken.result.reason).toMatch(/^DescribeAlarms failing for [\d.]+s: ThrottlingException/);
  });

  it('fails at once when the role may not read the alarms', async () => {
    const { result } = await bake(answers([{ status: 400, type: 'AccessDenied' }]), { windowMs: 5_000 });

    expect(result).toMatchObject({ passed: false, polls: 1 });
    expect(result.passed ? '' : result.reason).toMatch(/^cannot read the alarms: AccessDenied/);
  });
});

describe('runAlarmBake, recover (a rollback execution of Prod)', () => {
  it('passes once every alarm has stayed out of ALARM for the settle time, before the window ends', async () => {
    const { result, lines } = await bake(answers([FIRING, FIRING, OK]), { mode: 'recover', windowMs: 5_000 });

    expect(result.passed).toBe(true);
    expect(result.polls).toBeLessThan(20);
    expect(lines.at(-1)).toMatch(/^bake: PASSED at [\d.]+s: every alarm out of ALARM for [\d.]+s after the rollback$/);
  });

  it('fails at the end of the window when the alarms do not clear', async () => {
    const { result } = await bake(answers([FIRING]), { mode: 'recover' });

    expect(result.passed ? '' : result.reason).toMatch(/^alarms did not stay out of ALARM for 0\.1s within 0\.4s of the rollback: 3 alarm\(s\)/);
  });

  it('starts the settle time again when an alarm fires again', async () => {
    const { result } = await bake(answers([OK, FIRING, OK]), { mode: 'recover', settleMs: 150, windowMs: 5_000 });

    expect(result.passed).toBe(true);
    expect(result.polls).toBeGreaterThanOrEqual(6);
  });
});

describe('scripts/alarm-bake.ts (as scripts/pipeline-bake.sh runs it)', () => {
  const env = (stand: AwsStandIn, extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    minimalEnv({
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stand.origin,
      ALARM_NAME_PREFIX: 'alarm-',
      ALARM_NAME_SUFFIX: '-us-east-1-prod',
      REQUIRED_ALARMS: COMPOSITE,
      BAKE_MINUTES: '60',
      ...extra,
    });

  it('exits 1 as soon as an alarm is in ALARM', async () => {
    const stand = await AwsStandIn.start({ DescribeAlarms: answers([FIRING]) });
    standIns.push(stand);

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/alarm-bake.ts'], env(stand));

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('bake: watching alarm(s) alarm-*-us-east-1-prod for 3600.0s; any ALARM fails the bake');
    expect(result.stdout).toMatch(/bake: FAILED at [\d.]+s: .*in ALARM: .*alarm-platform-degraded-us-east-1-prod/);
  });

  it('exits 2 on a usage error, naming the variable', async () => {
    const stand = await AwsStandIn.start({ DescribeAlarms: answers([OK]) });
    standIns.push(stand);

    const result = await runProcess(TS_NODE, ['--transpile-only', 'scripts/alarm-bake.ts'], env(stand, { BAKE_MODE: 'maybe' }));

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('BAKE_MODE must be watch or recover, got "maybe"');
    expect(stand.calls).toEqual([]);
  });
});

describe('bakeOptionsFromEnv', () => {
  const base = { ALARM_NAME_PREFIX: 'alarm-', ALARM_NAME_SUFFIX: '-us-east-1-stg', REQUIRED_ALARMS: 'alarm-platform-degraded-us-east-1-stg', BAKE_MINUTES: '20' };

  it('reads the window in minutes and polls once a minute, as CloudWatch evaluates alarms', () => {
    expect(bakeOptionsFromEnv(base)).toEqual({
      alarms: { namePrefix: 'alarm-', nameSuffix: '-us-east-1-stg', requiredNames: ['alarm-platform-degraded-us-east-1-stg'] },
      windowMs: 1_200_000,
      mode: 'watch',
      pollIntervalMs: 60_000,
      settleMs: 300_000,
      readFailureMs: 300_000,
    });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['no window', { BAKE_MINUTES: '' }, /BAKE_MINUTES is required/],
    ['no required alarm', { REQUIRED_ALARMS: ' , ' }, /REQUIRED_ALARMS must name at least one alarm/],
    ['a window of 13 hours', { BAKE_MINUTES: '780' }, /BAKE_MINUTES must be between 1 and 720, got 780/],
  ])('refuses %s', (_case, patch, message) => {
    expect(() => bakeOptionsFromEnv({ ...base, ...patch })).toThrow(message);
  });
});
