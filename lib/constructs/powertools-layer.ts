/**
 * Powertools Tracer, with the AWS X-Ray SDK it drives, comes from AWS's own Powertools for AWS Lambda (TypeScript)
 * layer instead of each bundle: the X-Ray SDK and its semver are about 100 KB of every bundle otherwise. The layer is
 * pinned to the exact Powertools version of package.json (the one the tests ran) through the public SSM parameter AWS
 * publishes per release, `/aws/service/powertools/typescript/generic/all/{version}`
 * (https://docs.aws.amazon.com/powertools/typescript/latest/getting-started/lambda-layers/), resolved by CloudFormation
 * at deploy time, so the synth stays offline. A layer version is immutable: one Powertools version is one layer ARN.
 * Everything else, the AWS SDK included, is bundled at the versions of package-lock.json (BUNDLE_SETTINGS).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';

const PROJECT_PACKAGE_JSON = path.join(__dirname, '..', '..', 'package.json');
const POWERTOOLS_SCOPE = '@aws-lambda-powertools/';

/** What the functions take from the layer; BUNDLE_SETTINGS leaves exactly these out of the bundles. */
export const LAYER_PROVIDED_MODULES = ['@aws-lambda-powertools/tracer'] as const;

/**
 * The one Powertools version of the project: every `@aws-lambda-powertools/*` dependency must be pinned to the same
 * exact version, since the bundled packages (Logger, Metrics, Parameters, Batch) and the layer's Tracer share it.
 */
export function pinnedPowertoolsVersion(packageJsonPath: string = PROJECT_PACKAGE_JSON): string {
  const manifest = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { dependencies?: Record<string, string> };
  const pins = Object.entries(manifest.dependencies ?? {}).filter(([name]) => name.startsWith(POWERTOOLS_SCOPE));
  if (pins.length === 0) throw new Error(`${packageJsonPath} has no ${POWERTOOLS_SCOPE}* dependency to pin the Powertools layer to`);
  const versions = new Set(pins.map(([, version]) => version));
  const [version] = versions;
  if (versions.size !== 1 || version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(
      `every ${POWERTOOLS_SCOPE}* dependency in ${packageJsonPath} must be pinned to one exact version (x.y.z) for the Powertools layer; ` +
        `found ${pins.map(([name, pinned]) => `${name}@${pinned}`).join(', ')}`,
    );
  }
  return version;
}

/** The public parameter that holds the layer ARN of one Powertools release. */
export function powertoolsLayerParameterName(version: string): string {
  return `/aws/service/powertools/typescript/generic/all/${version}`;
}

/** The pinned layer, once per stack (its SSM parameter is one template parameter however many functions use it). */
export function powertoolsLayer(scope: Construct): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const id = 'PowertoolsLayer';
  const existing = stack.node.tryFindChild(id);
  if (existing !== undefined) return existing as lambda.ILayerVersion;
  const arn = ssm.StringParameter.valueForStringParameter(stack, powertoolsLayerParameterName(pinnedPowertoolsVersion()));
  return lambda.LayerVersion.fromLayerVersionArn(stack, id, arn);
}
