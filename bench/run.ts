/**
 * `npm run bench`: measures every performance figure of issues 6 and 12 on this machine and prints them as one Markdown table
 * (stdout; progress goes to stderr). BENCH_SKIP_SLOW=1 skips the full synth and the test suite (minutes, not seconds);
 * BENCH_ONLY=bundles,orders,health,slow (any subset) runs only those groups, for iterating on one figure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { boolEnv, optionalEnv } from '../lambda/shared/env';
import { startServices, stopServices } from '../test/support/services/lifecycle';
import { functionNames, measureBundle, type BundleFigure } from './bundles';
import { HEALTH_TIMEOUT_MS, measureHealthLatency, type HealthLatencyResult } from './health-latency';
import { ORDER_SERIES, measureOrderThroughput, type OrderSeriesResult } from './order-throughput';
import { formatKiB, formatLatency, formatMs, formatRate, renderTable, type TableRow } from './stats';
import { jestSummary, logTail, measureWallTime, slowestTestFiles } from './wall-time';

/** The bundle target (issue 12: apart from a locked AWS SDK), in KB of 1,024 bytes. */
const BUNDLE_TARGET_BYTES = 250 * 1_024;
const RATIO_TARGET = 0.7;
const INIT_RUNS = 20;

const GROUPS = ['bundles', 'orders', 'health', 'slow'] as const;
type Group = (typeof GROUPS)[number];

function isGroup(value: string): value is Group {
  return (GROUPS as readonly string[]).includes(value);
}

/** BENCH_ONLY parsed once; an unknown name is an error rather than a silently empty run. */
function selectedGroups(): ReadonlySet<Group> {
  const raw = optionalEnv('BENCH_ONLY');
  if (raw === undefined) return new Set(GROUPS);
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isGroup(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown groups ${unknown.join(', ')}; choose from ${GROUPS.join(', ')}`);
  return new Set(names.filter(isGroup));
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function failedRow(figure: string, err: unknown): TableRow {
  const message = err instanceof Error ? err.message : String(err);
  return { figure, result: `FAILED: ${message.split('\n')[0] ?? ''}`, target: '', method: 'see the stderr output above the table' };
}

function largestInputs(figure: BundleFigure): string {
  return figure.topInputs.map((input) => `${input.module} ${formatKiB(input.bytes)}`).join(', ');
}

function bundleRow(figure: BundleFigure): TableRow {
  const sdkBytes = figure.bytes - figure.bytesWithoutSdk;
  const initCost = figure.initP50Ms - figure.runtimeSdkInitP50Ms;
  return {
    figure: `Bundle ${figure.name}`,
    result:
      `${formatKiB(figure.bytesWithoutSdk)} apart from the locked AWS SDK (+ ${formatKiB(sdkBytes)} SDK = ${formatKiB(figure.bytes)}) · ` +
      `init p50 ${formatMs(figure.initP50Ms)} (${formatMs(figure.runtimeSdkInitP50Ms)} with the runtime's SDK: locking costs ${initCost >= 0 ? '+' : ''}${formatMs(initCost)})`,
    target: '≤ 250 KB apart from the SDK',
    meetsTarget: figure.bytesWithoutSdk <= BUNDLE_TARGET_BYTES,
    method:
      `esbuild with the deployed BUNDLE_SETTINGS (minified, node24, cjs, module-first, AWS SDK bundled, ${figure.externalImports.join(', ')} from the layer); ` +
      `apart from the SDK = the same build with @aws-sdk/* and @smithy/* external, as deployed before; init = require() of the bundle in a fresh node process, ` +
      `p50 of ${INIT_RUNS} per build, interleaved, layer and runtime modules from node_modules; largest inputs apart from the SDK: ${largestInputs(figure)}`,
  };
}

function measureBundles(): TableRow[] {
  const rows: TableRow[] = [];
  for (const name of functionNames()) {
    progress(`bundle: ${name}`);
    try {
      rows.push(bundleRow(measureBundle(name, INIT_RUNS)));
    } catch (err) {
      rows.push(failedRow(`Bundle ${name}`, err));
    }
  }
  return rows;
}

function orderRows(results: readonly OrderSeriesResult[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const result of results) {
    const batches = ORDER_SERIES.find((series) => series.batchSize === result.batchSize)?.batches ?? 0;
    const size = `batch of ${result.batchSize}`;
    const line = (path: keyof OrderSeriesResult['latency']): string =>
      `${formatRate(result.ordersPerSecond[path], 'orders')} · ${formatLatency(result.latency[path])}`;
    const split = (path: keyof OrderSeriesResult['parts'], publishLabel: string): string => {
      const parts = result.parts[path];
      return `; p50 per part: database ${formatMs(parts.database.p50Ms)}, ${publishLabel} ${formatMs(parts.publish.p50Ms)}, other ${formatMs(parts.other.p50Ms)}`;
    };
    const drive = result.batchSize > 10 ? 'handler driven with 100 records (SQS FIFO delivers ≤ 10; the code has no limit)' : 'handler driven with SQS-shaped records';
    rows.push({
      figure: `Order processor, ${size}`,
      result: line('processor') + split('processor', 'PutEvents'),
      target: '',
      method: `createHandler wired as deployed (pg pool defaults, risk limits read through SSMProvider and kept 30 s, EventBridge client) on a migrated database; PutEvents to a moto bus with no rules; ${drive}; ${batches} timed batches after 5 warm-up, in a loop of their own after the other three paths (moto's server keeps a core busy after answering); parts timed around the pool's withClient and the PutEvents port, other = the rest (parse, validate, decide, events; the Powertools FIFO report only when a record failed)`,
    });
    rows.push({
      figure: `Order processor, ${size}, PutEvents in-process`,
      result: line('processorNoPublish') + split('processorNoPublish', 'PutEvents stub'),
      target: '',
      method: 'same handler, but the PutEvents port answers in-process: the processor\'s own cost (parse, validate, decide, insert ... RETURNING, events, FIFO report)',
    });
    rows.push({
      figure: `Raw pg INSERT, ${size}`,
      result: line('raw'),
      target: '',
      method: 'the baseline: one hand-written multi-row INSERT ... ON CONFLICT DO NOTHING of the same rows (all 17 columns the processor writes, same values) through a pg.Pool, interleaved with the in-process processor batches (the moto path is timed in a loop of its own, after them)',
    });
    rows.push({
      figure: `Raw INSERT ... RETURNING stored columns, ${size}`,
      result: line('rawReturning'),
      target: '',
      method: 'the same INSERT returning the stored columns, as the processor\'s store does (it reads back only keys that already existed, none here)',
    });
    const ratio = (path: 'processor' | 'processorNoPublish'): number => result.ordersPerSecond[path] / result.ordersPerSecond.raw;
    rows.push({
      figure: `Processor / raw throughput, ${size}`,
      result: `${ratio('processorNoPublish').toFixed(2)} with PutEvents in-process; ${ratio('processor').toFixed(2)} with PutEvents to moto`,
      target: `≥ ${RATIO_TARGET}`,
      meetsTarget: ratio('processorNoPublish') >= RATIO_TARGET,
      method: 'orders/s of the processor over orders/s of the raw INSERT, same run; throughput = orders / time inside the calls, one batch at a time; the verdict uses the in-process PutEvents figure, as moto\'s PutEvents (Python, one HTTP call per 10 events) is not the processor',
    });
  }
  return rows;
}

function healthRows(health: HealthLatencyResult): TableRow[] {
  return [
    {
      figure: 'GET /v1/health handler, all dependencies up',
      result: formatLatency(health.healthy),
      target: '',
      method: 'createHandler(healthSetupFromEnv(...)) with HEALTH_CACHE_SECONDS=0 (each sequential call runs a full check, proven by counting SSM GetParameters calls); writer + reader = local PostgreSQL, secret/table/parameters in moto',
    },
    {
      figure: 'GET /v1/health handler, reader hung',
      result: formatLatency(health.hungReader),
      target: `≈ ${HEALTH_TIMEOUT_MS} ms timeout`,
      meetsTarget: health.hungReader.maxMs < HEALTH_TIMEOUT_MS + 250,
      method: `DB_READER_HOST = a local TCP server that accepts and never answers; answers 503 naming the reader; bounded by HEALTH_CHECK_TIMEOUT_MS=${HEALTH_TIMEOUT_MS} (deployed value); target met when max < timeout + 250 ms`,
    },
  ];
}

/** One figure failing (a half-finished handler, say) must not cost the others: it becomes a FAILED row. */
async function attempt(figure: string, measure: () => Promise<TableRow[]>): Promise<TableRow[]> {
  try {
    return await measure();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return [failedRow(figure, err)];
  }
}

async function measureWithServices(rows: TableRow[], groups: ReadonlySet<Group>): Promise<void> {
  progress('starting PostgreSQL and moto_server');
  // startServices announces itself on stdout; stdout is reserved for the table.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr);
  try {
    await startServices();
  } finally {
    process.stdout.write = write;
  }
  try {
    if (groups.has('orders')) rows.push(...(await attempt('Order processor throughput', async () => orderRows(await measureOrderThroughput(progress)))));
    if (groups.has('health')) rows.push(...(await attempt('GET /v1/health handler', async () => healthRows(await measureHealthLatency(progress)))));
  } finally {
    progress('stopping PostgreSQL and moto_server');
    await stopServices();
  }
}

async function measureSlow(rows: TableRow[], baseEnv: NodeJS.ProcessEnv): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-slow-'));
  const env = { ...baseEnv, CDK_DISABLE_CLI_TELEMETRY: 'true', JEST_JUNIT_OUTPUT_DIR: scratch };
  try {
    progress('cdk synth (with bundling), about half a minute');
    const synth = await measureWallTime('npx', ['cdk', 'synth', '--quiet', '**', '--output', path.join(scratch, 'cdk.out')], {
      env,
      logFile: path.join(scratch, 'synth.log'),
    });
    if (synth.exitCode !== 0) process.stderr.write(`${logTail(synth.logFile)}\n`);
    rows.push({
      figure: 'Full cdk synth',
      result: synth.exitCode === 0 ? formatMs(synth.ms) : `${formatMs(synth.ms)}, FAILED (exit ${synth.exitCode ?? 'signal'})`,
      target: '',
      method: "wall time of `npx cdk synth --quiet '**'` (every stack, every function bundled by local esbuild, cdk-nag), CDK_DISABLE_CLI_TELEMETRY=true, output to a temp dir",
    });
    progress('the CDK app without bundling, to see what esbuild costs');
    // The CLI refuses user context under aws:, so the app runs directly, given the context the CLI would pass it.
    const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as { app: string; context?: Record<string, unknown> };
    const [appCommand = 'npx', ...appArgs] = cdkJson.app.split(/\s+/);
    const appOnly = await measureWallTime(appCommand, appArgs, {
      env: {
        ...env,
        CDK_OUTDIR: path.join(scratch, 'cdk.out.unbundled'),
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }),
      },
      logFile: path.join(scratch, 'app.log'),
    });
    if (appOnly.exitCode !== 0) process.stderr.write(`${logTail(appOnly.logFile)}\n`);
    rows.push({
      figure: 'CDK app synth, bundling skipped',
      result: appOnly.exitCode === 0 ? formatMs(appOnly.ms) : `${formatMs(appOnly.ms)}, FAILED (exit ${appOnly.exitCode ?? 'signal'})`,
      target: '',
      method: `cdk.json's app command run directly with cdk.json's context plus aws:cdk:bundling-stacks=[] (as the infrastructure tests synthesize): the full synth minus this is esbuild plus the CLI's own work`,
    });
    progress('npm test, a few minutes');
    const tests = await measureWallTime('npm', ['test'], { env, logFile: path.join(scratch, 'test.log') });
    if (tests.exitCode !== 0) process.stderr.write(`${logTail(tests.logFile)}\n`);
    rows.push({
      figure: 'Test suite (npm test)',
      result: `${formatMs(tests.ms)}${tests.exitCode === 0 ? '' : `, exit ${tests.exitCode ?? 'signal'}`}`,
      target: '',
      method:
        `wall time of \`npm test\` (tsc --noEmit, then jest --runInBand with its own PostgreSQL + moto); ${jestSummary(tests.logFile) ?? 'no jest summary found'}; ` +
        `slowest files: ${slowestTestFiles(tests.logFile).map((entry) => `${entry.file} ${entry.seconds} s`).join(', ') || 'none reported'}`,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

async function main(): Promise<void> {
  // Before startServices points the AWS SDK at moto: the synth and the test run must see the caller's environment.
  const baseEnv = { ...process.env };
  const skipSlow = boolEnv('BENCH_SKIP_SLOW', false);
  const groups = selectedGroups();
  const started = new Date();
  const rows: TableRow[] = [];

  if (groups.has('bundles')) rows.push(...measureBundles());
  if (groups.has('orders') || groups.has('health')) await measureWithServices(rows, groups);
  if (groups.has('slow') && skipSlow) {
    for (const figure of ['Full cdk synth', 'CDK app synth, bundling skipped', 'Test suite (npm test)']) {
      rows.push({ figure, result: 'skipped (BENCH_SKIP_SLOW=1)', target: '', method: 'run `npm run bench` without BENCH_SKIP_SLOW to measure' });
    }
  } else if (groups.has('slow')) {
    await measureSlow(rows, baseEnv);
  }

  process.stdout.write(`\nMeasured ${started.toISOString()} on ${machine()}\n\n${renderTable(rows)}\n`);
  if (rows.some((row) => row.result.startsWith('FAILED') || row.result.includes(', FAILED'))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
