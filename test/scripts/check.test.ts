/**
 * scripts/check.sh, the one check of the pull-request check and CI, run under dash (CodeBuild's sh on Ubuntu) against
 * stub npm, npx and cfn-lint: a failing test run or a policy-engine finding fails it, cfn-lint warnings pass and errors
 * fail, the validation report is split per engine whether the synth passed or not, and the destroy check runs on the
 * synthesized assembly.
 */
import { minimalEnv, runProcess, type ProcessResult } from './harness';
import { DASH, ScriptSandbox } from './stubs';

/** Stub npm: `npm test` prints Jest's closing line, `npm run synth` writes a cloud assembly or a cdk-nag failure. */
const NPM = `
case "$1" in
  test)
    echo "Tests: 12 passed, \${STUB_FAILED_TESTS:-0} failed, 0 skipped"
    exit "\${STUB_TEST_EXIT:-0}" ;;
  run)
    mkdir -p cdk.out/assembly-TradingPlatformPipeline-Staging
    echo '{"pluginReports":[]}' >cdk.out/validation-report.json
    if [ "\${STUB_SYNTH_EXIT:-0}" -ne 0 ]; then
      echo "ERROR The SQS queue does not require requests to use SSL. (AwsSolutions) AwsSolutions-SQS4" >&2
      echo "node app.js: Subprocess exited with error 1" >&2
      exit "$STUB_SYNTH_EXIT"
    fi
    echo '{}' >cdk.out/TradingPlatformPipeline.template.json
    echo '{}' >cdk.out/assembly-TradingPlatformPipeline-Staging/Data.template.json ;;
esac`;

/** Stub npx: the report splitter writes one file per engine; the destroy check prints its verdict. */
const NPX = `
case "$*" in
  *validation-reports.ts*)
    echo '{"engine":"cdk-nag"}' >"$5/cdk-nag-validation-report.json"
    echo '{"engine":"cfn-guard"}' >"$5/cfn-guard-validation-report.json"
    echo "cfn-guard: success, 0 unacknowledged finding(s), 3 acknowledged" ;;
  *)
    echo "Nothing would survive a destroy."; exit "\${STUB_DESTROY_EXIT:-0}" ;;
esac`;

const SPLIT_REPORTS = 'npx ts-node --transpile-only scripts/validation-reports.ts cdk.out reports';
const ENGINE_REPORTS = ['validation-report.json', 'cdk-nag-validation-report.json', 'cfn-guard-validation-report.json'];

const CFN_LINT = `
[ "\${STUB_LINT_EXIT:-0}" -eq 0 ] || echo "cdk.out/TradingPlatformPipeline.template.json:1:1:1:2:W3005:Obsolete DependsOn"
exit "\${STUB_LINT_EXIT:-0}"`;

const TEMPLATES = 'cdk.out/TradingPlatformPipeline.template.json cdk.out/assembly-TradingPlatformPipeline-Staging/Data.template.json';

interface Run extends ProcessResult {
  readonly calls: string[];
  readonly sandbox: ScriptSandbox;
}

const sandboxes: ScriptSandbox[] = [];
afterAll(() => sandboxes.forEach((sandbox) => sandbox.remove()));

async function check(env: Record<string, string> = {}): Promise<Run> {
  if (!DASH) throw new Error('dash is required to test scripts/check.sh the way CodeBuild runs it: apt-get install dash');
  const sandbox = ScriptSandbox.create(['scripts/check.sh']);
  sandboxes.push(sandbox);
  sandbox.stub('npm', NPM);
  sandbox.stub('npx', NPX);
  sandbox.stub('cfn-lint', CFN_LINT);
  const result = await runProcess(DASH, [`${sandbox.repo}/scripts/check.sh`], minimalEnv({ ...env, PATH: sandbox.path() }));
  return { ...result, calls: sandbox.calls(), sandbox };
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

describe('check.sh under dash', () => {
  it('runs tests, synth, the destroy check and cfn-lint, writes the reports, and ends with the test count', async () => {
    const run = await check();

    expect(run.exitCode).toBe(0);
    expect(run.calls).toEqual([
      'npm test',
      'npm run synth',
      SPLIT_REPORTS,
      'npx ts-node --transpile-only scripts/check-destroyable.ts cdk.out',
      `cfn-lint --format parseable ${TEMPLATES}`,
    ]);
    for (const report of ['test.log', 'synth.log', ...ENGINE_REPORTS, 'destroy-check.txt', 'cfn-lint.txt']) {
      expect(run.sandbox.exists(`reports/${report}`)).toBe(true);
    }
    expect(run.sandbox.read('reports/destroy-check.txt')).toContain('Nothing would survive a destroy.');
    expect(lastLine(run.stdout)).toBe('Tests: 12 passed, 0 failed, 0 skipped');
  });

  it('fails when a test fails, and still runs the other checks for the reviewer', async () => {
    const run = await check({ STUB_TEST_EXIT: '1', STUB_FAILED_TESTS: '1' });

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('check failed: tests');
    expect(run.calls.map((call) => call.split(' ')[0])).toEqual(['npm', 'npm', 'npx', 'npx', 'cfn-lint']);
    expect(lastLine(run.stdout)).toBe('Tests: 12 passed, 1 failed, 0 skipped');
  });

  it('fails on a policy-engine finding (the synth exits non-zero), keeping both engines\' reports', async () => {
    const run = await check({ STUB_SYNTH_EXIT: '1' });

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('check failed: synth');
    expect(run.sandbox.read('reports/synth.log')).toContain('AwsSolutions-SQS4');
    for (const report of ENGINE_REPORTS) expect(run.sandbox.exists(`reports/${report}`)).toBe(true);
    expect(run.stdout).toContain('cfn-guard: success, 0 unacknowledged finding(s), 3 acknowledged');
    expect(run.calls).toEqual(['npm test', 'npm run synth', SPLIT_REPORTS]);
  });

  it('fails when the destroy check finds a survivor', async () => {
    const run = await check({ STUB_DESTROY_EXIT: '1' });

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('check failed: destroy-check');
  });

  it.each([
    ['4', 'warnings only'],
    ['8', 'informational only'],
    ['12', 'warnings and informational'],
  ])('passes on cfn-lint exit %s (%s), printing the findings', async (status) => {
    const run = await check({ STUB_LINT_EXIT: status });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('W3005:Obsolete DependsOn');
    expect(run.stdout).toContain(`cfn-lint: warnings or informational findings only (exit ${status}): passed`);
  });

  it.each([
    ['2', 'errors'],
    ['6', 'errors and warnings'],
    ['14', 'errors, warnings and informational'],
    ['1', 'a cfn-lint failure (bad usage)'],
  ])('fails on cfn-lint exit %s (%s)', async (status) => {
    const run = await check({ STUB_LINT_EXIT: status });

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`cfn-lint reported errors (exit ${status})`);
    expect(run.stderr).toContain('check failed: cfn-lint');
  });
});
