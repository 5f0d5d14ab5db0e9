/**
 * Every function bundle, built with the deployed BUNDLE_SETTINGS, loads on its own in a fresh Node process with only
 * what the Powertools layer provides on NODE_PATH, and requires nothing else: the AWS SDK and every other dependency
 * are inside it, at the versions of package-lock.json.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildFunctionBundle, functionNames, lambdaLikeEnv } from '../../bench/bundles';
import { LAYER_PROVIDED_MODULES } from '../../lib/constructs/powertools-layer';

let outdir: string;
beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundles-test-'));
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

/** pg requires its optional native addon only when `pg.native` is read, which the platform never does. */
const NEVER_LOADED = ['pg-native'];

describe.each(functionNames())('bundle of %s', (name) => {
  it('requires at run time only what the layer provides, the AWS SDK bundled', () => {
    const bundle = buildFunctionBundle(name, outdir);
    const inputs = Object.keys(bundle.metafile.inputs);
    const fromLayer = (specifier: string): boolean => LAYER_PROVIDED_MODULES.some((module) => specifier === module || specifier.startsWith(`${module}/`));
    expect(bundle.externalImports.filter((specifier) => !fromLayer(specifier) && !NEVER_LOADED.includes(specifier))).toEqual([]);
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/'))).toBe(true);
    expect(inputs.some((input) => input.includes('node_modules/aws-xray-sdk-core/'))).toBe(false);
  });

  it('loads in a fresh process and exports the handler', () => {
    const bundle = buildFunctionBundle(name, outdir);
    const type = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle.file)}).handler)`], {
      env: lambdaLikeEnv(),
      encoding: 'utf8',
    });
    expect(type).toBe('function');
  });
});
