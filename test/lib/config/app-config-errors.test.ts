/**
 * A bad configuration value fails `cdk synth` of the real app (bin/app.ts through the CDK CLI, as CI runs it) with one
 * line naming the key and the value: no stack trace, no source excerpt, a non-zero exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOnConfigError } from '../../../lib/config/exit-on-config-error';
import { minimalEnv, REPO_ROOT, runProcess, type ProcessResult } from '../../scripts/harness';

const CDK_CLI = join(REPO_ROOT, 'node_modules', '.bin', 'cdk');

let outputRoot: string;
beforeAll(() => {
  outputRoot = mkdtempSync(join(tmpdir(), 'config-errors-'));
});
afterAll(() => rmSync(outputRoot, { recursive: true, force: true }));

/** `npm run synth`'s command with one context value; the app is cdk.json's, so this is what CI would print. */
function synthWith(name: string, context: string): Promise<ProcessResult> {
  return runProcess(CDK_CLI, ['synth', '--quiet', '**', '-c', context, '--output', join(outputRoot, name)], minimalEnv({ CDK_DISABLE_CLI_TELEMETRY: 'true' }), 180_000);
}

const nonEmptyLines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('a synth with a bad configuration value', () => {
  const runs: Record<string, ProcessResult> = {};
  beforeAll(async () => {
    const cases = { suffix: 'environmentSuffix=BAD', account: 'sandboxAccount=12345', placeholders: 'strictPlaceholders=true' };
    const results = await Promise.all(Object.entries(cases).map(async ([name, context]) => [name, await synthWith(name, context)] as const));
    for (const [name, result] of results) runs[name] = result;
  }, 240_000);

  it.each([
    ['suffix', 'error: Invalid configuration environmentSuffix="BAD": expected 2-12 lowercase letters or digits starting with a letter (e.g. "dev", "jdoe")'],
    ['account', 'error: Invalid configuration sandbox.account="12345": expected a 12-digit AWS account id'],
  ])('%s: fails with exactly one error line from the app, then the CLI\'s exit notice', (name, errorLine) => {
    const run = runs[name];
    expect(run?.exitCode).not.toBe(0);
    expect(run?.stdout).toBe('');
    const [first, ...rest] = nonEmptyLines(run?.stderr ?? '');
    expect(first).toBe(errorLine);
    expect(rest).toEqual([expect.stringMatching(/: Subprocess exited with error 1$/)]);
  });

  it('placeholders in the pipeline\'s synth: one line naming every key and value left', () => {
    const run = runs['placeholders'];
    expect(run?.exitCode).not.toBe(0);
    const lines = nonEmptyLines(run?.stderr ?? '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: Invalid configuration strictPlaceholders=true: 9 placeholder value\(s\) left \(pipeline\.account="111111111111", /);
    expect(lines[0]).toContain('sandbox.account="444444444444"); replace them in lib/config/environments.ts');
  });

  it('prints no stack frame or source excerpt in any case', () => {
    for (const run of Object.values(runs)) {
      expect(run.stderr).not.toMatch(/^ {4}at /m);
      expect(run.stderr).not.toMatch(/ConfigError|\.ts:\d+/);
    }
  });
});

describe('exitOnConfigError', () => {
  it('returns what the loader returns', () => {
    expect(exitOnConfigError(() => 42)).toBe(42);
  });

  it('throws any other error on unchanged, so a bug keeps its stack', () => {
    const bug = new TypeError('not a config problem');
    expect(() => exitOnConfigError(() => { throw bug; })).toThrow(bug);
  });
});
