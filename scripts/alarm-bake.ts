/**
 * Pipeline bake (step Bake of Staging and of Prod): watches every alarm of the stage for the bake window and fails as
 * soon as one is in ALARM. In a rollback execution it instead waits for the alarms to clear. Exit 0 pass, 1 fail, 2 usage.
 *
 * Usage: npx ts-node --transpile-only scripts/alarm-bake.ts
 *   ALARM_NAME_PREFIX, ALARM_NAME_SUFFIX, REQUIRED_ALARMS (comma-separated)   which alarms are the stage's
 *   BAKE_MINUTES                 the window (pipeline config, lib/config)
 *   BAKE_MODE                    watch (default) | recover (set by scripts/pipeline-bake.sh in a rollback execution)
 *   BAKE_POLL_SECONDS (60)       CloudWatch evaluates alarms once a minute; polling faster sees nothing new
 *   BAKE_SETTLE_MINUTES (5)      recover: how long every alarm must stay out of ALARM
 *   BAKE_READ_FAILURE_MINUTES (5) how long DescribeAlarms may keep failing before the bake gives up (it cannot vouch)
 *   AWS_REGION (us-east-1)
 * Credentials: the default provider chain, i.e. the stage's alarm-reader role assumed by scripts/pipeline-bake.sh.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createAwsClient, type CallDeadlines } from '../lambda/shared/aws-clients';
import { ConfigurationError, errorMessage, isTransientError } from '../lambda/shared/errors';
import { intEnv, optionalEnv, requireEnv, type EnvSource } from '../lambda/shared/env';
import { defaultClock, type PollClock } from './poll';
import { describeError, seconds } from './signed-api';
import { judgeAlarms, readStageAlarms, type AlarmVerdict, type StageAlarmSelector } from './stage-alarms';

export type BakeMode = 'watch' | 'recover';

export interface BakeOptions {
  readonly alarms: StageAlarmSelector;
  readonly windowMs: number;
  readonly mode: BakeMode;
  readonly pollIntervalMs: number;
  readonly settleMs: number;
  /** DescribeAlarms failing (after the SDK's own retries) for longer than this ends the bake: it cannot vouch. */
  readonly readFailureMs: number;
}

export interface BakeDeps {
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
  readonly log: (line: string) => void;
  /** @default Date.now and setTimeout */
  readonly clock?: Partial<PollClock>;
}

export type BakeResult = { readonly passed: true; readonly polls: number } | { readonly passed: false; readonly polls: number; readonly reason: string };

export async function runAlarmBake(options: BakeOptions, deps: BakeDeps): Promise<BakeResult> {
  const clock: PollClock = { ...defaultClock, ...deps.clock };
  const started = clock.now();
  const end = started + options.windowMs;
  const at = (): string => seconds(clock.now() - started);
  let polls = 0;
  let lastSummary = '';
  let readFailingSince: number | undefined;
  /** Recover mode: since when every alarm has been out of ALARM. */
  let clearSince: number | undefined;
  const fail = (reason: string): BakeResult => {
    deps.log(`bake: FAILED at ${at()}: ${reason}`);
    return { passed: false, polls, reason };
  };

  deps.log(
    options.mode === 'watch'
      ? `bake: watching alarm(s) ${options.alarms.namePrefix}*${options.alarms.nameSuffix} for ${seconds(options.windowMs)}; any ALARM fails the bake`
      : `bake: rollback execution: waiting up to ${seconds(options.windowMs)} for alarm(s) ${options.alarms.namePrefix}*${options.alarms.nameSuffix} to stay out of ALARM for ${seconds(options.settleMs)}`,
  );
  for (;;) {
    polls += 1;
    let verdict: AlarmVerdict | undefined;
    try {
      verdict = judgeAlarms(await readStageAlarms(deps.cloudWatch, options.alarms), options.alarms);
      readFailingSince = undefined;
    } catch (err) {
      if (!isTransientError(err)) return fail(`cannot read the alarms: ${describeError(err)}`);
      readFailingSince ??= clock.now();
      if (clock.now() - readFailingSince >= options.readFailureMs) return fail(`DescribeAlarms failing for ${seconds(clock.now() - readFailingSince)}: ${describeError(err)}`);
      deps.log(`  ${at()}: DescribeAlarms failed (${describeError(err)}); trying again at the next poll`);
    }
    if (verdict !== undefined) {
      if (verdict.missing.length > 0) return fail(`required alarm(s) missing: ${verdict.missing.join(', ')}; the bake would watch nothing`);
      if (verdict.summary !== lastSummary) deps.log(`  ${at()}: ${verdict.summary}`);
      lastSummary = verdict.summary;
      if (options.mode === 'watch' && verdict.firing.length > 0) return fail(verdict.summary);
      if (options.mode === 'recover') {
        clearSince = verdict.firing.length > 0 ? undefined : (clearSince ?? clock.now());
        if (clearSince !== undefined && clock.now() - clearSince >= options.settleMs) {
          deps.log(`bake: PASSED at ${at()}: every alarm out of ALARM for ${seconds(clock.now() - clearSince)} after the rollback`);
          return { passed: true, polls };
        }
      }
    }
    if (clock.now() >= end) break;
    await clock.sleep(Math.min(options.pollIntervalMs, Math.max(0, end - clock.now())));
  }
  if (options.mode === 'recover') return fail(`alarms did not stay out of ALARM for ${seconds(options.settleMs)} within ${seconds(options.windowMs)} of the rollback: ${lastSummary}`);
  deps.log(`bake: PASSED: no alarm in ALARM for ${seconds(clock.now() - started)} (${polls} polls): ${lastSummary}`);
  return { passed: true, polls };
}

/** Options from the environment; a ConfigurationError names what is wrong. */
export function bakeOptionsFromEnv(env: EnvSource = process.env): BakeOptions {
  const mode = optionalEnv('BAKE_MODE', env) ?? 'watch';
  if (mode !== 'watch' && mode !== 'recover') throw new ConfigurationError(`BAKE_MODE must be watch or recover, got ${JSON.stringify(mode)}`);
  const requiredNames = requireEnv('REQUIRED_ALARMS', env).split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (requiredNames.length === 0) throw new ConfigurationError('REQUIRED_ALARMS must name at least one alarm (the composite platform-degraded alarm)');
  return {
    alarms: { namePrefix: requireEnv('ALARM_NAME_PREFIX', env), nameSuffix: requireEnv('ALARM_NAME_SUFFIX', env), requiredNames },
    windowMs: intEnv('BAKE_MINUTES', undefined, { min: 1, max: 720, source: env }) * 60_000,
    mode,
    pollIntervalMs: intEnv('BAKE_POLL_SECONDS', 60, { min: 1, max: 600, source: env }) * 1000,
    settleMs: intEnv('BAKE_SETTLE_MINUTES', 5, { min: 1, max: 120, source: env }) * 60_000,
    readFailureMs: intEnv('BAKE_READ_FAILURE_MINUTES', 5, { min: 1, max: 60, source: env }) * 60_000,
  };
}

/** Connect 3 s and 10 s a request, 3 attempts per poll; a poll that still fails is retried at the next poll. */
export const BAKE_CALL_DEADLINES: CallDeadlines = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 3 };

async function main(): Promise<number> {
  let options: BakeOptions;
  try {
    options = bakeOptionsFromEnv();
  } catch (err) {
    console.error(`bake: ${errorMessage(err)}`);
    return 2;
  }
  const cloudWatch = createAwsClient(CloudWatchClient, { deadlines: BAKE_CALL_DEADLINES, extra: { region: optionalEnv('AWS_REGION') ?? 'us-east-1' } });
  const result = await runAlarmBake(options, { cloudWatch, log: (line) => console.log(line) });
  return result.passed ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`bake: unexpected failure: ${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}
