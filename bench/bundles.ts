/**
 * Bundle size of every Lambda, built exactly as the CDK app bundles them (BUNDLE_SETTINGS: esbuild, minified, node24,
 * the AWS SDK bundled, Powertools Tracer left to the pinned Powertools layer), with what locking the AWS SDK costs:
 * the same build with the SDK left to the runtime, as deployed before, gives the size apart from the SDK and the init
 * time a runtime-provided SDK would have. Init = require() of the bundle in fresh Node processes.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as os from 'os';
import * as path from 'path';
import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
import { BUNDLE_SETTINGS } from '../lib/constructs/platform-function';
import { percentile } from './stats';

const PROJECT_ROOT = path.join(__dirname, '..');
const LAMBDA_ROOT = path.join(PROJECT_ROOT, 'lambda');

/** The AWS SDK for JavaScript v3 and the Smithy runtime it is built on. */
export const AWS_SDK_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** Every function folder with a handler (shared/ is a library, not a function). */
export function functionNames(): string[] {
  return fs
    .readdirSync(LAMBDA_ROOT)
    .filter((name) => name !== 'shared' && fs.existsSync(path.join(LAMBDA_ROOT, name, 'handler.ts')))
    .sort();
}

export interface BuiltBundle {
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
  /** Modules the bundle requires at run time that are not Node built-ins: what the layer (or runtime) must provide. */
  readonly externalImports: readonly string[];
}

/**
 * Builds one function as NodejsFunction does with BUNDLE_SETTINGS (sources maps aside, which are separate files), into
 * `outdir`. `extraExternal` leaves more modules out, for the comparison with a runtime-provided SDK.
 */
export function buildFunctionBundle(name: string, outdir: string, extraExternal: readonly string[] = []): BuiltBundle {
  const file = path.join(outdir, `${name}.js`);
  const options: BuildOptions = {
    entryPoints: [path.join(LAMBDA_ROOT, name, 'handler.ts')],
    bundle: true,
    minify: BUNDLE_SETTINGS.minify,
    platform: 'node',
    target: BUNDLE_SETTINGS.target,
    format: 'cjs',
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    outfile: file,
    external: [...BUNDLE_SETTINGS.externalModules, ...extraExternal],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PROJECT_ROOT,
  };
  const result = buildSync(options);
  if (result.metafile === undefined) throw new Error(`esbuild wrote no metafile for ${name}`);
  const output = Object.values(result.metafile.outputs).find((entry) => entry.entryPoint !== undefined);
  const externalImports = [...new Set((output?.imports ?? []).filter((entry) => entry.external && !isBuiltin(entry.path)).map((entry) => entry.path))].sort();
  return { file, bytes: fs.statSync(file).size, metafile: result.metafile, externalImports };
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? specifier);
}

/** Node's environment for loading a bundle the way Lambda would: layer modules on NODE_PATH, dummy settings only. */
export function lambdaLikeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'), AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false' };
}

function moduleOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? (input.startsWith('lambda/shared') ? 'lambda/shared' : input.split('/').slice(0, 2).join('/'));
}

function largestInputs(metafile: Metafile, count: number): { readonly module: string; readonly bytes: number }[] {
  const byModule = new Map<string, number>();
  const output = Object.values(metafile.outputs).find((entry) => entry.entryPoint !== undefined);
  for (const [input, info] of Object.entries(output?.inputs ?? {})) {
    byModule.set(moduleOf(input), (byModule.get(moduleOf(input)) ?? 0) + info.bytesInOutput);
  }
  return [...byModule.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([module, bytes]) => ({ module, bytes }));
}

export interface BundleFigure {
  readonly name: string;
  /** The deployed bundle, AWS SDK included. */
  readonly bytes: number;
  /** The same build with the AWS SDK left out: the bundle apart from the locked SDK, which the size target is about. */
  readonly bytesWithoutSdk: number;
  readonly topInputs: readonly { readonly module: string; readonly bytes: number }[];
  /** Init of the deployed bundle (Tracer loaded from node_modules, as from the layer). */
  readonly initP50Ms: number;
  readonly initP99Ms: number;
  /** Init of the build without the SDK, the SDK then loaded from node_modules as the runtime would provide it. */
  readonly runtimeSdkInitP50Ms: number;
  readonly externalImports: readonly string[];
}

/** Builds one function both ways and times `initRuns` fresh-process loads of each, interleaved. */
export function measureBundle(name: string, initRuns = 20): BundleFigure {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `bundle-${name}-`));
  try {
    const deployed = buildFunctionBundle(name, fs.mkdtempSync(path.join(outdir, 'locked-')));
    const withoutSdk = buildFunctionBundle(name, fs.mkdtempSync(path.join(outdir, 'runtime-sdk-')), AWS_SDK_MODULES);
    // Environment variables are dummies: handlers must not connect at load time.
    const run = (file: string): number =>
      Number(
        execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`], {
          cwd: PROJECT_ROOT,
          env: lambdaLikeEnv(),
          encoding: 'utf8',
        }),
      );
    const locked: number[] = [];
    const runtimeSdk: number[] = [];
    for (let index = 0; index < initRuns; index += 1) {
      locked.push(run(deployed.file));
      runtimeSdk.push(run(withoutSdk.file));
    }
    locked.sort((a, b) => a - b);
    runtimeSdk.sort((a, b) => a - b);
    return {
      name,
      bytes: deployed.bytes,
      bytesWithoutSdk: withoutSdk.bytes,
      topInputs: largestInputs(withoutSdk.metafile, 3),
      initP50Ms: percentile(locked, 50),
      initP99Ms: percentile(locked, 99),
      runtimeSdkInitP50Ms: percentile(runtimeSdk, 50),
      externalImports: deployed.externalImports,
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
