/**
 * The generated validators: the committed files are what the generator writes from today's schema, the shell wrapper
 * that bundling runs writes the same, and the order processor's bundle carries ajv's runtime helpers but not ajv.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { BUNDLE_SETTINGS } from '../../lib/constructs/platform-function';
import { GENERATED_DIR, generatedValidators, writeValidators } from '../../scripts/generate-validators';

const ROOT = path.join(__dirname, '..', '..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'validators-'));
}

describe('generated validators', () => {
  it('are committed as the generator writes them from the current schema', () => {
    const stale = generatedValidators()
      .filter((file) => !fs.existsSync(file.path) || fs.readFileSync(file.path, 'utf8') !== file.text)
      .map((file) => path.relative(ROOT, file.path));
    // A schema change without regeneration: `npm run generate:validators`, then commit lambda/shared/generated/.
    expect(stale).toEqual([]);
  });

  it('live in lambda/shared/generated, where the validation module imports them from', () => {
    expect(generatedValidators().map((file) => path.relative(ROOT, file.path))).toEqual([
      'lambda/shared/generated/order-request-validator.js',
      'lambda/shared/generated/order-request-validator.d.ts',
    ]);
    expect(GENERATED_DIR).toBe(path.join(ROOT, 'lambda', 'shared', 'generated'));
  });

  it('require nothing of ajv but its small runtime helpers', () => {
    const code = fs.readFileSync(path.join(GENERATED_DIR, 'order-request-validator.js'), 'utf8');
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    expect(required).toEqual(['ajv/dist/runtime/ucs2length']);
  });

  it('rewrites only files that differ, and reports them', () => {
    const dir = tempDir();
    try {
      const files = generatedValidators(dir);
      expect(writeValidators(files)).toEqual(files.map((file) => file.path));
      expect(writeValidators(files)).toEqual([]);
      const [code] = files;
      if (code === undefined) throw new Error('the generator wrote no files');
      fs.appendFileSync(code.path, '// edited by hand\n');
      expect(writeValidators(files)).toEqual([code.path]);
      expect(fs.readFileSync(code.path, 'utf8')).toBe(code.text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are written the same by the wrapper that bundling runs', () => {
    const dir = tempDir();
    try {
      const output = execFileSync('sh', [path.join(ROOT, 'scripts', 'generate-validators.sh'), dir], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
      expect(output).toBe('');
      for (const file of generatedValidators(dir)) expect(fs.readFileSync(file.path, 'utf8')).toBe(file.text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leave ajv out of the order processor bundle except the runtime helper the generated code requires', () => {
    const result = buildSync({
      entryPoints: [path.join(ROOT, 'lambda', 'order-processor', 'handler.ts')],
      bundle: true,
      platform: 'node',
      target: BUNDLE_SETTINGS.target,
      format: 'cjs',
      external: [...BUNDLE_SETTINGS.externalModules],
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
      // Paths as seen from ROOT also where node_modules is a link (the sandbox copies of npm run test:mutation).
      preserveSymlinks: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /node_modules\/ajv/.test(input))).toEqual(['node_modules/ajv/dist/runtime/ucs2length.js']);
    expect(inputs).toContain('lambda/shared/generated/order-request-validator.js');
  });
});
