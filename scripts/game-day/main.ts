/**
 * `npm run game-day -- --experiment aurora-failover --api-url https://…/v1 [--environment stg]`: runs one FIS
 * experiment of a deployed stage under a steady stream of signed orders, then prints the report (and writes it as JSON).
 *
 * Options: --experiment (one of CHAOS_EXPERIMENTS, required), --api-url (the stage's ApiUrl output, required),
 * --environment (suffix, default stg), --rate (orders/s, default 5), --warmup-seconds (60), --cooldown-seconds (60),
 * --max-experiment-minutes (20), --max-recovery-minutes (10), --report (file, default reports/game-day-<run>.json).
 * Credentials come from the default provider chain; the Region is the platform's (us-east-1). Exit 0 when every
 * accepted order was stored exactly once and /v1/health recovered, 1 otherwise, 2 on a usage error.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { CHAOS_EXPERIMENTS, PLATFORM_REGION, ResourceNames, validateEnvironmentSuffix, type ChaosExperimentName } from '../../lib/config';
import { errorMessage } from '../../lambda/shared/errors';
import { defaultSleep } from '../../lambda/shared/retry';
import { createSignedRequester } from '../signed-api';
import { apiOrderReader, apiOrderSender, fisExperimentRunner, httpHealthProber } from './aws-ports';
import { describeReport, runGameDay, type GameDayOptions } from './game-day';

export interface GameDayArguments {
  readonly experiment: ChaosExperimentName;
  readonly apiUrl: string;
  readonly environmentSuffix: string;
  readonly ordersPerSecond: number;
  readonly warmupSeconds: number;
  readonly cooldownSeconds: number;
  readonly maxExperimentMinutes: number;
  readonly maxRecoveryMinutes: number;
  readonly reportFile?: string;
}

/** Thrown for a bad command line; the message says which option and value. */
export class UsageError extends Error {}

const NUMBER_OPTIONS = {
  '--rate': { key: 'ordersPerSecond', min: 0.1, max: 100, fallback: 5 },
  '--warmup-seconds': { key: 'warmupSeconds', min: 0, max: 3_600, fallback: 60 },
  '--cooldown-seconds': { key: 'cooldownSeconds', min: 0, max: 3_600, fallback: 60 },
  '--max-experiment-minutes': { key: 'maxExperimentMinutes', min: 1, max: 720, fallback: 20 },
  '--max-recovery-minutes': { key: 'maxRecoveryMinutes', min: 1, max: 60, fallback: 10 },
} as const;

export function parseArguments(args: readonly string[]): GameDayArguments {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index] ?? '';
    const value = args[index + 1];
    if (!name.startsWith('--') || value === undefined) throw new UsageError(`expected --option value pairs, got ${JSON.stringify(args.slice(index).join(' '))}`);
    values.set(name, value);
  }
  const known = new Set(['--experiment', '--api-url', '--environment', '--report', ...Object.keys(NUMBER_OPTIONS)]);
  for (const name of values.keys()) if (!known.has(name)) throw new UsageError(`unknown option ${name}; known: ${[...known].join(', ')}`);

  const experiment = values.get('--experiment');
  if (!CHAOS_EXPERIMENTS.some((candidate) => candidate === experiment)) {
    throw new UsageError(`--experiment must be one of ${CHAOS_EXPERIMENTS.join(', ')}, got ${JSON.stringify(experiment)}`);
  }
  const apiUrl = values.get('--api-url');
  if (apiUrl === undefined || !/^https?:\/\/[^/]+/.test(apiUrl)) throw new UsageError(`--api-url must be the stage's ApiUrl output (https://…/v1), got ${JSON.stringify(apiUrl)}`);
  let environmentSuffix: string;
  try {
    environmentSuffix = validateEnvironmentSuffix(values.get('--environment') ?? 'stg', '--environment');
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const numbers: Record<string, number> = {};
  for (const [name, rule] of Object.entries(NUMBER_OPTIONS)) {
    const raw = values.get(name);
    const value = raw === undefined ? rule.fallback : Number(raw);
    if (!Number.isFinite(value) || value < rule.min || value > rule.max) throw new UsageError(`${name} must be a number from ${rule.min} to ${rule.max}, got ${JSON.stringify(raw)}`);
    numbers[rule.key] = value;
  }
  const reportFile = values.get('--report');
  return {
    experiment: experiment as ChaosExperimentName,
    apiUrl,
    environmentSuffix,
    ordersPerSecond: numbers['ordersPerSecond'] ?? NUMBER_OPTIONS['--rate'].fallback,
    warmupSeconds: numbers['warmupSeconds'] ?? NUMBER_OPTIONS['--warmup-seconds'].fallback,
    cooldownSeconds: numbers['cooldownSeconds'] ?? NUMBER_OPTIONS['--cooldown-seconds'].fallback,
    maxExperimentMinutes: numbers['maxExperimentMinutes'] ?? NUMBER_OPTIONS['--max-experiment-minutes'].fallback,
    maxRecoveryMinutes: numbers['maxRecoveryMinutes'] ?? NUMBER_OPTIONS['--max-recovery-minutes'].fallback,
    ...(reportFile === undefined ? {} : { reportFile }),
  };
}

/** The run's settings: the Route 53 check's pace for health (10 s here, 3 healthy in a row), the API's p99 target for "slow". */
export function gameDayOptions(args: GameDayArguments, runId: string): GameDayOptions {
  return {
    runId,
    // Three accounts: three FIFO message groups, so one stuck group would show beside two flowing ones.
    accountIds: ['game-day-a', 'game-day-b', 'game-day-c'],
    ordersPerSecond: args.ordersPerSecond,
    warmupMs: args.warmupSeconds * 1_000,
    cooldownMs: args.cooldownSeconds * 1_000,
    maxExperimentMs: args.maxExperimentMinutes * 60_000,
    maxRecoveryMs: args.maxRecoveryMinutes * 60_000,
    healthIntervalMs: 10_000,
    experimentPollMs: 5_000,
    recoveryProbes: 3,
    slowRequestMs: 1_000,
    readBackAfterMs: 2_000,
    submitAttempts: 5,
    // The processor's redelivery schedule keeps a failed record at least 34 minutes before the DLQ; 15 are plenty to
    // see a backlog drain, and a longer wait means something is stuck: that is a finding, not a reason to wait on.
    verifyDeadlineMs: 15 * 60_000,
    verifyPollMs: 5_000,
  };
}

async function main(): Promise<number> {
  let args: GameDayArguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (err) {
    console.error(`game-day: ${errorMessage(err)}`);
    return 2;
  }
  const runId = `gd-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
  const credentials = defaultProvider();
  const fetch = globalThis.fetch;
  const api = createSignedRequester({ service: 'execute-api', region: PLATFORM_REGION, credentials, fetch });
  const fis = createSignedRequester({ service: 'fis', region: PLATFORM_REGION, credentials, fetch });
  // The account only qualifies bucket names, which the game day never needs.
  const names = new ResourceNames({ region: PLATFORM_REGION, environmentSuffix: args.environmentSuffix, account: '000000000000' });
  const templateName = names.of('experimentTemplate', args.experiment);
  const report = await runGameDay(gameDayOptions(args, runId), {
    clock: { now: Date.now, sleep: defaultSleep },
    orders: apiOrderSender(api, args.apiUrl),
    reader: apiOrderReader(api, args.apiUrl),
    health: httpHealthProber(fetch, `${args.apiUrl.replace(/\/+$/, '')}/health`),
    experiment: fisExperimentRunner(fis, {
      endpoint: `https://fis.${PLATFORM_REGION}.amazonaws.com`,
      templateName,
      experimentTags: { GameDay: runId, Name: `${templateName}-${runId}` },
    }),
    log: (line) => console.log(line),
  });
  for (const line of describeReport(report)) console.log(line);
  const reportFile = args.reportFile ?? `reports/game-day-${runId}.json`;
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`game-day: report written to ${reportFile}`);
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`game-day: unexpected failure: ${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}
