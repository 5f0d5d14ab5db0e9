/**
 * scripts/pipeline-synth.sh and scripts/install-prerequisites.sh on a machine shaped like the CodeBuild standard 7.0
 * image (test/support/aws-contracts/codebuild-image.ts): pg_config from libpq-dev without a PostgreSQL server. Every
 * tool is a stub; the scripts run for real with bash, as the pipeline and CI run them. Also .ci/run, end to end.
 */
import { join } from 'node:path';
import { CODEBUILD_STANDARD_7_0 } from '../support/aws-contracts/codebuild-image';
import { minimalEnv, runProcess, type ProcessResult } from './harness';
import { ScriptSandbox } from './stubs';

const SCRIPTS = ['scripts/pipeline-synth.sh', 'scripts/install-prerequisites.sh', 'scripts/check.sh', '.ci/run'];

interface Machine {
  /** The server's directory pg_config names (/usr/lib/postgresql/<major>/bin on Debian and Ubuntu). */
  readonly pgBindir: string;
  /** Stands in for /usr/lib/postgresql. */
  readonly debianRoot: string;
}

const sandboxes: ScriptSandbox[] = [];
afterAll(() => sandboxes.forEach((sandbox) => sandbox.remove()));

/**
 * A sandbox whose PATH has pg_config (libpq-dev), moto_server, npm and a root `id`; apt-get "installs" postgresql by
 * creating initdb in pg_config's bindir, as Debian's postgresql package does.
 */
function codeBuildLikeMachine(): { sandbox: ScriptSandbox; machine: Machine } {
  const sandbox = ScriptSandbox.create(SCRIPTS);
  sandboxes.push(sandbox);
  const machine = { pgBindir: join(sandbox.root, 'usr-lib-postgresql', '14', 'bin'), debianRoot: join(sandbox.root, 'usr-lib-postgresql') };
  sandbox.stub('pg_config', `[ "$1" = --bindir ] && echo '${machine.pgBindir}'`);
  sandbox.stub('id', 'echo 0');
  sandbox.stub('apt-get', `if [ "$1" = install ]; then mkdir -p '${machine.pgBindir}' && printf '#!/bin/sh\\n' >'${machine.pgBindir}/initdb' && chmod +x '${machine.pgBindir}/initdb'; fi`);
  sandbox.stub('moto_server');
  sandbox.stub('npm', 'case "$1" in test) echo "Tests: 7 passed, 0 failed, 0 skipped"; exit "${STUB_TEST_EXIT:-0}";; esac');
  return { sandbox, machine };
}

function run(sandbox: ScriptSandbox, machine: Machine, file: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runProcess('bash', [join(sandbox.repo, file), ...args], minimalEnv({ PATH: sandbox.path(), PG_DEBIAN_ROOT: machine.debianRoot, ...env }));
}

describe('pipeline-synth.sh on the CodeBuild standard 7.0 image', () => {
  it('matches the image: libpq-dev (pg_config) without the postgresql server', () => {
    expect(CODEBUILD_STANDARD_7_0.aptPackages).toContain('libpq-dev');
    expect(CODEBUILD_STANDARD_7_0.absentAptPackages).toContain('postgresql');
  });

  it('installs the PostgreSQL server although pg_config exists, then tests and synthesizes refusing placeholders', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();

    const result = await run(sandbox, machine, 'scripts/pipeline-synth.sh');

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('PostgreSQL server (initdb) missing, although pg_config is installed: installing postgresql');
    expect(sandbox.calls().filter((call) => !call.startsWith('pg_config') && !call.startsWith('id'))).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends postgresql',
      'npm ci --no-audit --no-fund',
      'npm test',
      'npm run synth -- -c strictPlaceholders=true',
    ]);
    expect(result.stdout).toContain(`PostgreSQL server: ${machine.pgBindir}/initdb`);
  });

  it('stops before the synth when a test fails', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();

    const result = await run(sandbox, machine, 'scripts/pipeline-synth.sh', [], { STUB_TEST_EXIT: '1' });

    expect(result.exitCode).toBe(1);
    expect(sandbox.calls()).toContain('npm test');
    expect(sandbox.calls()).not.toContain('npm run synth -- -c strictPlaceholders=true');
  });
});

describe('install-prerequisites.sh', () => {
  it.each<[string, (machine: Machine) => { initdb: string; env: Record<string, string> }]>([
    ['pg_config --bindir', (machine) => ({ initdb: `${machine.pgBindir}/initdb`, env: {} })],
    ['the Debian layout', (machine) => ({ initdb: `${machine.debianRoot}/16/bin/initdb`, env: {} })],
    ['$PG_BINDIR', (machine) => ({ initdb: `${machine.debianRoot}/custom/initdb`, env: { PG_BINDIR: `${machine.debianRoot}/custom` } })],
  ])('installs nothing when initdb is found through %s', async (_where, layout) => {
    const { sandbox, machine } = codeBuildLikeMachine();
    const { initdb, env } = layout(machine);
    sandbox.executable(initdb);

    const result = await run(sandbox, machine, 'scripts/install-prerequisites.sh', ['postgresql'], env);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`PostgreSQL server: ${initdb}`);
    expect(sandbox.calls().filter((call) => call.startsWith('apt-get'))).toEqual([]);
  });

  it('fails with the install command when it cannot use apt-get (not root)', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();
    sandbox.stub('id', 'echo 1000');

    const result = await run(sandbox, machine, 'scripts/install-prerequisites.sh', ['postgresql']);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('apt-get needs root; install it yourself: apt-get install postgresql');
  });

  it('pip-installs only the Python tools that are missing', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();
    sandbox.executable(`${machine.pgBindir}/initdb`);
    // pip "installs" cfn-lint by putting its console script on PATH.
    sandbox.stub('python3', `printf '#!/bin/sh\\n' >'${sandbox.bin}/cfn-lint'; chmod +x '${sandbox.bin}/cfn-lint'`);

    const result = await run(sandbox, machine, 'scripts/install-prerequisites.sh');

    expect(result.exitCode).toBe(0);
    expect(sandbox.calls().filter((call) => call.startsWith('python3'))).toEqual(['python3 -m pip install --quiet cfn-lint']);
    expect(result.stdout).toContain(`cfn-lint: ${sandbox.bin}/cfn-lint`);
  });

  it('rejects an unknown prerequisite', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();
    const result = await run(sandbox, machine, 'scripts/install-prerequisites.sh', ['docker']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown prerequisite 'docker'");
  });
});

describe('.ci/run', () => {
  it('installs what is missing, runs npm ci and the one check (npm test first), and ends with the test count', async () => {
    const { sandbox, machine } = codeBuildLikeMachine();
    sandbox.stub('node');
    sandbox.stub('cfn-lint');
    sandbox.stub('npx');
    sandbox.stub('npm', [
      'case "$1" in',
      '  test) echo "Tests: 7 passed, 0 failed, 0 skipped" ;;',
      "  run) mkdir -p cdk.out && echo '{}' >cdk.out/TradingPlatformPipeline.template.json ;;",
      'esac',
    ].join('\n'));

    const result = await run(sandbox, machine, '.ci/run');

    expect(result.exitCode).toBe(0);
    expect(sandbox.calls().filter((call) => /^(apt-get install|npm|npx|cfn-lint)/.test(call))).toEqual([
      'apt-get install -y -qq --no-install-recommends postgresql',
      'npm ci --no-audit --no-fund',
      'npm test',
      'npm run synth',
      'npx ts-node --transpile-only scripts/check-destroyable.ts cdk.out',
      'cfn-lint --format parseable cdk.out/TradingPlatformPipeline.template.json',
    ]);
    expect(result.stdout.trimEnd().split('\n').pop()).toBe('Tests: 7 passed, 0 failed, 0 skipped');
  });
});
