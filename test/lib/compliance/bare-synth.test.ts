/**
 * A bare `cdk synth` (no stack selection) fails on a finding of either policy engine inside a stage, through the real
 * CDK CLI: the CLI reports only the selected stacks' findings, so the app built by createValidatedApp fails the synth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimalEnv, REPO_ROOT, runProcess, type ProcessResult } from '../../scripts/harness';

const FIXTURE = join(__dirname, 'fixtures', 'sandbox-finding-app.ts');
const CDK_CLI = join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const TS_NODE = join(REPO_ROOT, 'node_modules', 'ts-node', 'register', 'transpile-only');

/** Four CLI synths run at once, each a ts-node app with both policy engines: minutes on a busy 2-core machine. */
const SYNTH_TIMEOUT_MS = 150_000;

let outputRoot: string;
beforeAll(() => {
  outputRoot = mkdtempSync(join(tmpdir(), 'bare-synth-'));
});
afterAll(() => rmSync(outputRoot, { recursive: true, force: true }));

/** `cdk synth` with no stack argument, as someone would type it, on the fixture app. */
function bareSynth(app: 'validated' | 'plain', finding: 'nag' | 'guard' | false): Promise<ProcessResult> {
  const outdir = join(outputRoot, `${app}-${finding || 'clean'}`);
  return runProcess(CDK_CLI, ['synth', '--quiet', '--app', `node -r ${TS_NODE} ${FIXTURE}`, '--output', outdir], minimalEnv({
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    TS_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json'),
    FIXTURE_APP: app,
    FIXTURE_FINDING: finding === 'nag' ? '1' : finding || '0',
  }), SYNTH_TIMEOUT_MS);
}

describe('bare cdk synth', () => {
  let validatedFinding: ProcessResult;
  let plainFinding: ProcessResult;
  let validatedClean: ProcessResult;
  let validatedGuardFinding: ProcessResult;
  beforeAll(async () => {
    [validatedFinding, plainFinding, validatedClean, validatedGuardFinding] = await Promise.all([
      bareSynth('validated', 'nag'),
      bareSynth('plain', 'nag'),
      bareSynth('validated', false),
      bareSynth('validated', 'guard'),
    ]);
  }, SYNTH_TIMEOUT_MS + 30_000);

  it('fails on a finding in the sandbox stage, printing the finding without a stack trace', () => {
    expect(validatedFinding.exitCode).not.toBe(0);
    expect(validatedFinding.stderr).toContain('Sandbox-dev/Data/UnencryptedQueue/Resource');
    expect(validatedFinding.stderr).toMatch(/AwsSolutions-SQS4/);
    expect(validatedFinding.stderr).toContain('Subprocess exited with error 1');
    expect(validatedFinding.stderr).not.toMatch(/ValidationError|\n\s+at .*\.ts:\d+/);
  });

  it('fails on a Control Tower finding the same way, naming the control, the resource and the acknowledgement id', () => {
    expect(validatedGuardFinding.exitCode).not.toBe(0);
    expect(validatedGuardFinding.stderr).toMatch(/CT\.CLOUDWATCH\.PR\.2[\s\S]*Sandbox-dev\/Data\/ShortLivedLogs\/Resource/);
    expect(validatedGuardFinding.stderr).toContain("Acknowledge with 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check'");
    expect(validatedGuardFinding.stderr).toContain('Subprocess exited with error 1');
    expect(validatedGuardFinding.stderr).not.toMatch(/AwsSolutions|ValidationError|\n\s+at .*\.ts:\d+/);
  });

  it('passed the same finding with exit 0 before: the CLI reports only the stacks it selected', () => {
    expect(plainFinding.exitCode).toBe(0);
  });

  it('still passes an app without findings', () => {
    expect({ exitCode: validatedClean.exitCode, stderr: validatedClean.stderr }).toEqual({ exitCode: 0, stderr: expect.not.stringMatching(/ERROR/) });
  });
});
