/**
 * `npm run test:mutation`: StrykerJS over the order processor's decision and batch modules, the order schema and the
 * retry helper (stryker.config.json). Starts the test services once, as jest's globalSetup would, so Stryker's
 * workers and every mutant run share one PostgreSQL and one moto (jest.mutation.config.js has no globalSetup), and
 * stops them afterwards, also when Stryker fails or the run is interrupted (the services' own exit handlers and
 * watchdog). Exits with Stryker's status: non-zero when the score is under the break threshold.
 * STRYKER_MUTATE=path[,path] narrows the run to some files, for iterating on one module; further arguments go to
 * Stryker as they are (`npm run test:mutation -- --tempDirName .stryker-tmp/second` for a second run beside a first).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { startServices, stopServices } from '../test/support/services/lifecycle';

async function main(): Promise<number> {
  await startServices();
  try {
    const only = process.env['STRYKER_MUTATE'];
    const args = [
      'stryker',
      'run',
      'stryker.config.json',
      ...(only === undefined || only === '' ? [] : ['--mutate', only]),
      ...process.argv.slice(2),
    ];
    const result = spawnSync('npx', args, {
      cwd: path.join(__dirname, '..'),
      stdio: 'inherit',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    if (result.error !== undefined) throw result.error;
    return result.status ?? 1;
  } finally {
    await stopServices();
  }
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(`mutation testing could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
