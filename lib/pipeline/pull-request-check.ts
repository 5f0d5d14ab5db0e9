/**
 * Pull-request validation: a CodeBuild project that runs scripts/check.sh (tests, synth with cdk-nag and the Control
 * Tower guard rules, destroy check, cfn-lint) on every pull request, publishing test results to its report group and
 * the reports (both policy engines' validation reports among them) as artifacts.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { BUILD_IMAGE, RUNTIME_VERSIONS } from './toolchain';

/** The commands of the check, shared with the root buildspec.yml (a test keeps the two equal). */
export const PULL_REQUEST_CHECK_COMMANDS = {
  install: ['bash scripts/install-prerequisites.sh postgresql moto cfn-lint', 'npm ci --no-audit --no-fund'],
  build: ['sh scripts/check.sh'],
} as const;

/**
 * The project's buildspec, inline so that its `reports` key is the report group's ARN. CodeBuild uses an existing
 * report group only when the buildspec gives its ARN; a name makes CodeBuild create `<project>-<name>` instead
 * (CodeBuild user guide, "Report group naming"). A buildspec file cannot hold the ARN of a group CloudFormation names,
 * and the documented environment-variable form of the key is for a report group name.
 */
export function pullRequestBuildSpec(reportGroupArn: string): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { variables: { CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' } },
    phases: {
      install: { 'runtime-versions': RUNTIME_VERSIONS, commands: PULL_REQUEST_CHECK_COMMANDS.install },
      build: { commands: PULL_REQUEST_CHECK_COMMANDS.build },
    },
    reports: {
      [reportGroupArn]: { files: ['**/*.xml'], 'base-directory': 'reports/junit', 'file-format': 'JUNITXML' },
    },
    artifacts: { files: ['reports/**/*'] },
  });
}

export interface PullRequestCheckProps {
  readonly names: ResourceNames;
  /** `owner/repository` on GitHub (through the account's CodeConnections source credential). */
  readonly repository: string;
  readonly encryptionKey: kms.IKey;
  readonly reportBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Default settings: the pipeline's build image and runtimes, not privileged (no Docker needed), 60-minute timeout,
 * PR events only; JUnit results only to its own report group (no permission to create report groups).
 */
export class PullRequestCheck extends Construct {
  public readonly project: codebuild.Project;
  public readonly testReports: codebuild.ReportGroup;

  constructor(scope: Construct, id: string, props: PullRequestCheckProps) {
    super(scope, id);
    const [owner, repo] = props.repository.split('/');
    if (!owner || !repo) throw new Error(`repository must be owner/name, got "${props.repository}"`);
    this.testReports = new codebuild.ReportGroup(this, 'TestReports', {
      reportGroupName: props.names.of('codeBuild', 'pr-tests'),
      exportBucket: props.reportBucket,
      removalPolicy: RemovalPolicy.DESTROY,
      deleteReports: true,
    });
    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.names.logGroup('codebuild', 'pr-check'),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      roleName: props.names.of('role', 'pr-check'),
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: 'Pull-request check build: read the source, write reports and artifacts',
    });
    this.project = new codebuild.Project(this, 'Project', {
      role,
      projectName: props.names.of('codeBuild', 'pr-check'),
      description: 'Pull request validation: tests, synth with cdk-nag and Control Tower guard, cfn-lint; reports for reviewers',
      source: codebuild.Source.gitHub({
        owner,
        repo,
        reportBuildStatus: true,
        webhook: true,
        webhookFilters: [
          codebuild.FilterGroup.inEventOf(
            codebuild.EventAction.PULL_REQUEST_CREATED,
            codebuild.EventAction.PULL_REQUEST_UPDATED,
            codebuild.EventAction.PULL_REQUEST_REOPENED,
          ),
        ],
      }),
      buildSpec: pullRequestBuildSpec(this.testReports.reportGroupArn),
      // The buildspec names the one report group it writes; CDK's default grant to create `<project>-*` groups is not needed.
      grantReportGroupPermissions: false,
      environment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.MEDIUM, privileged: false },
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(60),
      artifacts: codebuild.Artifacts.s3({ bucket: props.reportBucket, path: 'pull-requests', includeBuildId: true, packageZip: true, name: 'reports' }),
      logging: { cloudWatch: { logGroup } },
    });
    this.testReports.grantWrite(this.project);
  }
}
