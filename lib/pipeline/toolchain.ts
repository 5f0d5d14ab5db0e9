/**
 * The tools every CodeBuild project of the delivery pipeline runs with: the build image, the Node.js and Python
 * runtimes selected from that image, and the CDK CLI version pinned in package.json, so laptop, CI and pipeline agree.
 */
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import packageJson from '../../package.json';

/** The image of every CodeBuild project; `runtime-versions` selects among the runtimes its runtimes.yml lists. */
export const BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0;

/**
 * Node.js major of every CodeBuild step. The image activates Node.js 18 by default, below `engines` (>=20) and the
 * dependencies (aws-cdk-lib and the AWS SDK need >=20.0.0). Of the majors standard:7.0 offers (18, 20, 22, 24),
 * 24 is the active LTS and the Lambda runtime (NODEJS_24_X), so the tests run the handlers on the Node.js they run on
 * in AWS; 20 reached end of life on 2026-04-30.
 */
export const NODE_RUNTIME_MAJOR = 24;

/**
 * Python of every CodeBuild step. Selecting any runtime makes CodeBuild use only the selected ones, and the synth and
 * the pull-request check pip-install moto and cfn-lint, so Python is selected too: 3.12, supported until 2028.
 */
export const PYTHON_RUNTIME = '3.12';

/** The `phases.install.runtime-versions` of every project (CodeBuild buildspec reference, runtime-versions). */
export const RUNTIME_VERSIONS = { nodejs: NODE_RUNTIME_MAJOR, python: PYTHON_RUNTIME } as const;

/** A partial buildspec that only selects the runtimes; CDK Pipelines merges it into each project's buildspec. */
export function runtimeVersionsBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': RUNTIME_VERSIONS } } });
}

const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

/** The exact version of a devDependency, or an error naming the field and the value. */
export function exactDevDependency(devDependencies: Readonly<Record<string, string>>, name: string): string {
  const version = devDependencies[name];
  if (version === undefined || !EXACT_VERSION.test(version)) {
    throw new Error(`package.json devDependencies.${name}=${JSON.stringify(version)}: expected an exact version such as 2.1148.1, so the pipeline runs the CLI the project is tested with`);
  }
  return version;
}

/** The CDK CLI the project uses (package.json devDependencies `aws-cdk`), for self-mutation. */
export const CDK_CLI_VERSION = exactDevDependency(packageJson.devDependencies, 'aws-cdk');
