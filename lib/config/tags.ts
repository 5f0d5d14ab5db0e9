/**
 * The tags every resource of an environment carries, so cost, ownership and environment are visible
 * in Cost Explorer, Config and the console without reading names.
 */
import { IConstruct } from 'constructs';
import { Tags } from 'aws-cdk-lib';
import { EnvironmentConfig, PROJECT_NAME } from './environment-config';

/** Tag keys required on every taggable resource; the invariant tests check each one. */
export const REQUIRED_TAG_KEYS = ['Environment', 'Region', 'Project', 'EnvironmentSuffix'] as const;

/** Resource types whose CloudFormation schema has no Tags property although the L1 class is taggable. */
export const UNTAGGABLE_RESOURCE_TYPES = ['AWS::CloudWatch::Dashboard'];

/** Applies the required tags to a scope and everything below it. */
export function applyStandardTags(scope: IConstruct, config: EnvironmentConfig): void {
  const tags: Record<(typeof REQUIRED_TAG_KEYS)[number], string> = {
    Environment: config.kind,
    Region: config.region,
    Project: PROJECT_NAME,
    EnvironmentSuffix: config.environmentSuffix,
  };
  // CloudFormation cannot tag dashboards (cfn-lint E3002); everything else that takes tags gets them.
  for (const [key, value] of Object.entries(tags)) Tags.of(scope).add(key, value, { excludeResourceTypes: UNTAGGABLE_RESOURCE_TYPES });
}
