/**
 * cdk-nag acknowledgements, listed finding by finding, for the grants CDK Pipelines writes itself into the roles of
 * its CodeBuild projects. Their physical names stay CDK's: they are generated for cross-account references.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';

const READ_ARTIFACTS = ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*'];
const WRITE_ARTIFACTS = [...READ_ARTIFACTS, 'Action::s3:DeleteObject*', 'Action::s3:Abort*'];
const USE_ARTIFACT_KEY = ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'];

const REASONS = {
  artifacts: 'CDK Pipelines grants artifact access with S3 prefix wildcards (object versions, tagging) on the pipeline\'s own KMS-encrypted artifact bucket only.',
  artifactObjects: 'Pipeline artifacts have generated keys; limited to objects of the pipeline\'s own artifact bucket.',
  key: 'CDK Pipelines grants the KMS data-key/re-encrypt families on the pipeline\'s own artifact key only.',
  codebuildDefaults: 'CodeBuild names its report groups and default log group after the project; limited to this project\'s.',
};

function acknowledge(scope: IConstruct, findings: readonly string[], reason: string): void {
  Validations.of(scope).acknowledge(...findings.map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
}

/**
 * Acknowledges exactly the wildcard findings each CodeBuild project role below `scope` is known to carry: artifact
 * access (read, or read-write for `writers`), the artifact key, and CodeBuild's per-project report groups and logs.
 * Call after `buildPipeline()`.
 */
export function acknowledgePipelineProjects(scope: IConstruct, artifactBucket: s3.IBucket, writers: readonly IConstruct[]): void {
  const stack = Stack.of(scope);
  const bucketId = stack.getLogicalId(artifactBucket.node.defaultChild as s3.CfnBucket);
  const artifactObjects = `Resource::<${bucketId}.Arn>/*`;
  for (const construct of scope.node.findAll()) {
    if (construct instanceof codebuild.Project && Stack.of(construct) === stack) {
      const projectId = stack.getLogicalId(construct.node.defaultChild as codebuild.CfnProject);
      const role = construct.role;
      if (!role) continue;
      const isWriter = writers.some((writer) => construct.node.path.startsWith(writer.node.path));
      acknowledge(role, isWriter ? WRITE_ARTIFACTS : READ_ARTIFACTS, REASONS.artifacts);
      acknowledge(role, [artifactObjects], REASONS.artifactObjects);
      acknowledge(role, USE_ARTIFACT_KEY, REASONS.key);
      acknowledge(role, [
        `Resource::arn:aws:codebuild:${stack.region}:${stack.account}:report-group/<${projectId}>-*`,
        `Resource::arn:aws:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/<${projectId}>:*`,
      ], REASONS.codebuildDefaults);
    }
  }
}
