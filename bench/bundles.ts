/**
 * Bundle size of every Lambda (built exactly as the CDK app bundles them: esbuild, minified, node24, AWS SDK external)
 * with the dependencies that dominate each, and module initialisation time of each bundle in fresh Node processes.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { BUNDLE_SETTINGS } from '../lib/constructs/platform-function';

export interface BundleFigure {
  readonly name: string;
  readonly bytes: number;
  readonly topInputs: readonly { readonly module: string; readonly bytes: number }[];
  readonly initP50Ms: number;
  readonly initP99Ms: number;
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

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** Builds one function like NodejsFunction does and measures it. */
export function measureBundle(name: string, initRuns = 20): BundleFigure {
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
  });
  const bytes = fs.statSync(outfile).size;
  const byModule = new Map<string, number>();
  const output = Object.values(result.metafile.outputs)[0];
  for (const [input, info] of Object.entries(output?.inputs ?? {})) {
    byModule.set(moduleOf(input), (byModule.get(moduleOf(input)) ?? 0) + info.bytesInOutput);
  }
  const topInputs = [...byModule.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([module, size]) => ({ module, bytes: size }));

  // Each run is a fresh process: what a cold start pays for loading the bundle (the AWS SDK comes from node_modules,
  // as the Lambda runtime provides it). Environment variables are dummies: handlers must not connect at load time.
  const samples: number[] = [];
  const probe = `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  for (let run = 0; run < initRuns; run += 1) {
    const out = execFileSync(process.execPath, ['-e', probe], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, NODE_PATH: path.join(__dirname, '..', 'node_modules'), AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false' },
      encoding: 'utf8',
    });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  fs.rmSync(outdir, { recursive: true, force: true });
  return { name, bytes, topInputs, initP50Ms: percentile(samples, 50), initP99Ms: percentile(samples, 99) };
}
