/**
 * scripts/pipeline-verify.sh and scripts/pipeline-bake.sh, run for real with bash as CodeBuild runs them, with `aws`
 * and `npx` as stubs that record their calls: each assumes exactly its stage role for the session the step asked
 * for, with bounded CLI retries, and hands the role's credentials (and, for a rollback execution, the recover mode) to
 * its TypeScript check.
 */
import { join } from 'node:path';
import { minimalEnv, runProcess, type ProcessResult } from './harness';
import { ScriptSandbox } from './stubs';

const SCRIPTS = ['scripts/pipeline-verify.sh', 'scripts/pipeline-bake.sh', 'scripts/stage-role.sh'];
const CREDENTIALS = '{"Credentials":{"AccessKeyId":"ASIASTAGEROLE0000001","SecretAccessKey":"stage-secret","SessionToken":"stage-session-token","Expiration":"2026-11-25T17:00:00Z"}}';

const sandboxes: ScriptSandbox[] = [];
afterAll(() => sandboxes.forEach((sandbox) => sandbox.remove()));

/**
 * `aws` answers assume-role with credentials (or fails when STUB_ASSUME_FAILS is set) and get-pipeline-state with
 * STUB_EXECUTION_TYPE, printing the retry settings it was given; `npx` prints the environment the check would get.
 */
function pipelineBuild(): ScriptSandbox {
  const sandbox = ScriptSandbox.create(SCRIPTS);
  sandboxes.push(sandbox);
  sandbox.stub(
    'aws',
    [
      'echo "aws retry: $AWS_RETRY_MODE/$AWS_MAX_ATTEMPTS" >&2',
      'case "$1 $2" in',
      `  "sts assume-role") [ -n "\${STUB_ASSUME_FAILS:-}" ] && { echo "An error occurred (AccessDenied) when calling the AssumeRole operation" >&2; exit 254; }; printf '%s' '${CREDENTIALS}' ;;`,
      '  "codepipeline get-pipeline-state") echo "${STUB_EXECUTION_TYPE:-STANDARD}" ;;',
      'esac',
    ].join('\n'),
  );
  sandbox.stub('npx', 'echo "check env: BAKE_MODE=${BAKE_MODE:-} AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN"');
  return sandbox;
}

function run(sandbox: ScriptSandbox, script: string, env: Record<string, string>): Promise<ProcessResult> {
  return runProcess('bash', [join(sandbox.repo, script)], minimalEnv({ PATH: sandbox.path(), ...env }));
}

const BAKE_ENV = { ALARM_READER_ROLE_ARN: 'arn:aws:iam::333333333333:role/role-alarm-reader-us-east-1-prod', BAKE_SESSION_SECONDS: '4800', BAKE_MINUTES: '60' };
const ROLLBACK_AWARE = { ROLLBACK_PIPELINE_NAME: 'codepipeline-trading-platform-us-east-1-cicd', ROLLBACK_STAGE_NAME: 'Prod' };

describe('pipeline-verify.sh', () => {
  it('assumes the verification role for the step\'s session, then runs the verification with that role\'s credentials', async () => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-verify.sh', { VERIFICATION_ROLE_ARN: 'arn:aws:iam::222222222222:role/role-verification-us-east-1-stg', VERIFY_SESSION_SECONDS: '1200' });

    expect(result.exitCode).toBe(0);
    expect(sandbox.calls()).toEqual([
      'aws sts assume-role --role-arn arn:aws:iam::222222222222:role/role-verification-us-east-1-stg --role-session-name pipeline-staging-verification --duration-seconds 1200 --cli-connect-timeout 10 --cli-read-timeout 30 --output json',
      `npx ts-node --transpile-only ${join(sandbox.repo, 'scripts')}/staging-verification.ts`,
    ]);
    expect(result.stderr).toContain('aws retry: standard/5');
    expect(result.stdout).toContain('check env: BAKE_MODE= AWS_ACCESS_KEY_ID=ASIASTAGEROLE0000001 AWS_SESSION_TOKEN=stage-session-token');
  });

  it('fails without running the checks when the role cannot be assumed', async () => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-verify.sh', { VERIFICATION_ROLE_ARN: 'arn:aws:iam::222222222222:role/role-verification-us-east-1-stg', VERIFY_SESSION_SECONDS: '1200', STUB_ASSUME_FAILS: '1' });

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('stage-role: could not assume arn:aws:iam::222222222222:role/role-verification-us-east-1-stg (session pipeline-staging-verification, 1200s)');
    expect(sandbox.calls().filter((call) => call.startsWith('npx'))).toEqual([]);
  });

  it('refuses to run without the role output', async () => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-verify.sh', { VERIFY_SESSION_SECONDS: '1200' });

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('VERIFICATION_ROLE_ARN is required');
    expect(sandbox.calls()).toEqual([]);
  });
});

describe('pipeline-bake.sh', () => {
  it('watches Staging with the alarm-reader role, without asking the pipeline anything', async () => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-bake.sh', { ...BAKE_ENV, ALARM_READER_ROLE_ARN: 'arn:aws:iam::222222222222:role/role-alarm-reader-us-east-1-stg', BAKE_SESSION_SECONDS: '2400' });

    expect(result.exitCode).toBe(0);
    expect(sandbox.calls()).toEqual([
      'aws sts assume-role --role-arn arn:aws:iam::222222222222:role/role-alarm-reader-us-east-1-stg --role-session-name pipeline-alarm-bake --duration-seconds 2400 --cli-connect-timeout 10 --cli-read-timeout 30 --output json',
      `npx ts-node --transpile-only ${join(sandbox.repo, 'scripts')}/alarm-bake.ts`,
    ]);
    expect(result.stdout).toContain('check env: BAKE_MODE=watch AWS_ACCESS_KEY_ID=ASIASTAGEROLE0000001');
  });

  it.each<[string, string, string]>([
    ['a standard Prod execution watches', 'STANDARD', 'watch'],
    ['a rollback execution of Prod waits for the alarms to clear', 'ROLLBACK', 'recover'],
    ['an execution without a type (the CLI prints None) watches', 'None', 'watch'],
  ])('%s', async (_case, executionType, mode) => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-bake.sh', { ...BAKE_ENV, ...ROLLBACK_AWARE, STUB_EXECUTION_TYPE: executionType });

    expect(result.exitCode).toBe(0);
    // With the build's own credentials first: the stage role could not read the pipeline.
    expect(sandbox.calls()[0]).toBe(
      "aws codepipeline get-pipeline-state --name codepipeline-trading-platform-us-east-1-cicd --query stageStates[?stageName=='Prod'] | [0].latestExecution.type --output text --cli-connect-timeout 10 --cli-read-timeout 30",
    );
    expect(sandbox.calls()[1]).toMatch(/^aws sts assume-role --role-arn arn:aws:iam::333333333333:role\/role-alarm-reader-us-east-1-prod --role-session-name pipeline-alarm-bake --duration-seconds 4800 /);
    expect(result.stdout).toContain(`pipeline-bake: stage Prod runs a ${executionType} execution: bake mode ${mode}`);
    expect(result.stdout).toContain(`check env: BAKE_MODE=${mode} `);
  });

  it('fails on an execution type it does not know, rather than guess a mode', async () => {
    const sandbox = pipelineBuild();

    const result = await run(sandbox, 'scripts/pipeline-bake.sh', { ...BAKE_ENV, ...ROLLBACK_AWARE, STUB_EXECUTION_TYPE: 'CANARY' });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("pipeline-bake: unexpected execution type 'CANARY' of stage Prod in codepipeline-trading-platform-us-east-1-cicd");
    expect(sandbox.calls().filter((call) => !call.startsWith('aws codepipeline'))).toEqual([]);
  });
});
