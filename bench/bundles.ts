/**
 * Bundle size of every Lambda (built exactly as the CDK app bundles them: esbuild, minified, node24, AWS SDK external)
 * with the dependencies that dominate each, and module initialisation time of each bundle in fresh Node processes.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync, type BuildOptions } from 'esbuild';
import { BUNDLE_SETTINGS } from '../lib/constructs/platform-function';
import { percentile } from './stats';

export interface BundleFigure {
  readonly name: string;
  readonly bytes: number;
  readonly topInputs: readonly { readonly module: string; readonly bytes: number }[];
  readonly initP50Ms: number;
  readonly initP99Ms: number;
  /** The AWS SDK packages the bundle leaves to the runtime, and what requiring just those costs (p50, fresh processes). */
  readonly sdkPackages: readonly string[];
  readonly sdkInitP50Ms: number;
}

const LAMBDA_ROOT = path.join(__dirname, '..', 'lambda');

/** Every function folder with a handler (shared/ is a library, not a function). */
export function functionNames(): string[] {
  return fs
    .readdirSync(LAMBDA_ROOT)
    .filter((name) => name !== 'shared' && fs.existsSync(path.join(LAMBDA_ROOT, name, 'handler.ts')))
    .sort();
}

function moduleOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? (input.startsWith('lambda/shared') ? 'lambda/shared' : input.split('/').slice(0, 2).join('/'));
}

/**
 * esbuild options layered over the deployed settings, to measure a candidate change before it is made in
 * lib/constructs/platform-function.ts. Only options NodejsFunction can express (directly or through esbuildArgs).
 */
export type BundleOverrides = Pick<BuildOptions, 'external' | 'mainFields' | 'alias' | 'legalComments'>;

/** Builds one function like NodejsFunction does (plus `overrides`, if any) and measures it. */
export function measureBundle(name: string, initRuns = 20, overrides: BundleOverrides = {}): BundleFigure {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `bundle-${name}-`));
  const outfile = path.join(outdir, 'index.js');
  const result = buildSync({
    entryPoints: [path.join(LAMBDA_ROOT, name, 'handler.ts')],
    bundle: true,
    minify: BUNDLE_SETTINGS.minify,
    platform: 'node',
    target: BUNDLE_SETTINGS.target,
    format: 'cjs',
    outfile,
    external: [...BUNDLE_SETTINGS.externalModules],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: path.join(__dirname, '..'),
    ...overrides,
  });
  const bytes = fs.statSync(outfile).size;
  const byModule = new Map<string, number>();
  const output = Object.values(result.metafile.outputs)[0];
  for (const [input, info] of Object.entries(output?.inputs ?? {})) {
    byModule.set(moduleOf(input), (byModule.get(moduleOf(input)) ?? 0) + info.bytesInOutput);
  }
  const topInputs = [...byModule.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([module, size]) => ({ module, bytes: size }));

  const sdkPackages = [...new Set((output?.imports ?? []).filter((entry) => entry.external && entry.path.startsWith('@aws-sdk/')).map((entry) => entry.path))].sort();

  // Each run is a fresh process: what a cold start pays for loading the bundle (the AWS SDK comes from node_modules,
  // as the Lambda runtime provides it). Environment variables are dummies: handlers must not connect at load time.
  // The second probe requires only the SDK packages the bundle imports, to show how much of init is the SDK's.
  const timedRequire = (modules: readonly string[]): string =>
    `const t=process.hrtime.bigint();${modules.map((module) => `require(${JSON.stringify(module)});`).join('')}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const run = (probe: string): number =>
    Number(
      execFileSync(process.execPath, ['-e', probe], {
        cwd: path.join(__dirname, '..'),
        env: { ...process.env, NODE_PATH: path.join(__dirname, '..', 'node_modules'), AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false' },
        encoding: 'utf8',
      }),
    );
  const samples: number[] = [];
  const sdkSamples: number[] = [];
  for (let index = 0; index < initRuns; index += 1) {
    samples.push(run(timedRequire([outfile])));
    if (sdkPackages.length > 0) sdkSamples.push(run(timedRequire(sdkPackages)));
  }
  samples.sort((a, b) => a - b);
  sdkSamples.sort((a, b) => a - b);
  fs.rmSync(outdir, { recursive: true, force: true });
  return {
    name,
    bytes,
    topInputs,
    initP50Ms: percentile(samples, 50),
    initP99Ms: percentile(samples, 99),
    sdkPackages,
    sdkInitP50Ms: sdkSamples.length > 0 ? percentile(sdkSamples, 50) : 0,
  };
}
