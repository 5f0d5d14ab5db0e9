/**
 * The delivery pipeline: a self-mutating CDK pipeline that takes `main` from the Git repository through synth
 * (tests + cdk-nag), self-mutation, asset publishing, Staging with health gate and signed smoke test, a manual
 * approval, and Prod with its own health gate. Also hosts the pull-request check and delivery notifications.
 */
import { Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from '../constructs/dead-letter-queue';
import { AppConfig, EnvironmentConfig, ResourceNames, TOOLING_ENVIRONMENT_SUFFIX, applyStandardTags } from '../config';
import { adoptCdkProviders } from '../compliance/cdk-provider-resources';
import { acknowledgePipelineProjects } from '../compliance/pipeline-resources';
import { TradingPlatformStage } from '../stages/trading-platform-stage';
import { HealthGateStep } from './health-gate-step';
import { PullRequestCheck } from './pull-request-check';
import { SmokeTestStep } from './smoke-test-step';
import { BUILD_IMAGE, CDK_CLI_VERSION, runtimeVersionsBuildSpec } from './toolchain';

export interface PipelineStackProps extends StackProps {
  readonly config: AppConfig;
}

/** The tooling environment: named like a stage with suffix `cicd` so the naming and tag rules apply to it too. */
function toolingEnvironment(config: AppConfig): EnvironmentConfig {
  return { ...config.staging, kind: 'staging', account: config.pipeline.account, environmentSuffix: TOOLING_ENVIRONMENT_SUFFIX, alarmEmail: config.pipeline.notificationEmail };
}

export class PipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  public readonly staging: TradingPlatformStage;
  public readonly prod: TradingPlatformStage;
  public readonly notificationTopic: sns.Topic;
  public readonly pullRequestCheck: PullRequestCheck;
  private readonly sourceRepository: string;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    const tooling = toolingEnvironment(props.config);
    super(scope, id, { ...props, env: { account: props.config.pipeline.account, region: props.config.pipeline.region } });
    applyStandardTags(this, tooling);
    const names = new ResourceNames(tooling);
    const { pipeline: source } = props.config;
    this.sourceRepository = source.repository;

    const key = new kms.Key(this, 'ArtifactKey', {
      alias: `alias/${names.of('kmsAlias', 'pipeline')}`,
      description: 'Encrypts pipeline artifacts, build logs and notifications',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const accessLogs = new s3.Bucket(this, 'AccessLogBucket', {
      bucketName: names.of('bucket', 'pipeline-access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket itself; logging it into itself would loop.' });
    const artifactBucket = new s3.Bucket(this, 'ArtifactBucket', {
      bucketName: names.of('bucket', 'pipeline-artifacts'),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.notificationTopic = new sns.Topic(this, 'NotificationTopic', {
      topicName: names.of('topic', 'delivery'),
      displayName: 'Trading platform delivery: failures and approvals',
      masterKey: key,
      enforceSSL: true,
    });
    const notificationDeadLetters = createDeadLetterQueue(this, 'NotificationDeadLetterQueue', {
      names,
      purpose: 'delivery-notifications-dlq',
      encryptionKey: key,
      deadLetterOf: 'the delivery notification subscriptions',
      handling: 'undeliverable notifications are read by an operator.',
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowNotificationServices',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com'), new iam.ServicePrincipal('codestar-notifications.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    if (source.notificationEmail) {
      this.notificationTopic.addSubscription(new subscriptions.EmailSubscription(source.notificationEmail, { deadLetterQueue: notificationDeadLetters }));
    }

    const codeBuildLogs = new logs.LogGroup(this, 'CodeBuildLogGroup', {
      logGroupName: names.logGroup('codebuild', 'pipeline'),
      retention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForPipelineLogs',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:${names.parameterPrefix}/*` } },
      }),
    );

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: names.of('pipeline', 'trading-platform'),
      artifactBucket,
      crossAccountKeys: true,
      enableKeyRotation: true,
      selfMutation: true,
      // Self-mutation installs this CLI (npm install -g aws-cdk@<version>) instead of the newest aws-cdk@2.
      cliVersion: CDK_CLI_VERSION,
      // One CodeBuild project publishes every file asset, instead of one project (and one start-up) per asset.
      publishAssetsInParallel: false,
      dockerEnabledForSynth: false,
      dockerEnabledForSelfMutation: false,
      synth: new pipelines.CodeBuildStep('Synth', {
        input: pipelines.CodePipelineSource.connection(source.repository, source.branch, { connectionArn: source.connectionArn, triggerOnPush: true }),
        commands: ['bash scripts/pipeline-synth.sh'],
        primaryOutputDirectory: 'cdk.out',
      }),
      codeBuildDefaults: {
        buildEnvironment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.MEDIUM, privileged: false },
        // Reaches every project CDK Pipelines creates: synth, self-mutation, asset publishing and each ShellStep.
        partialBuildSpec: runtimeVersionsBuildSpec(),
        logging: { cloudWatch: { logGroup: codeBuildLogs } },
        timeout: Duration.minutes(60),
      },
    });

    this.staging = new TradingPlatformStage(this, 'Staging', { config: props.config.staging, deliveryAccount: source.account });
    this.addStage(this.staging, props.config.staging, true);
    this.prod = new TradingPlatformStage(this, 'Prod', { config: props.config.prod, deliveryAccount: source.account });
    this.addStage(this.prod, props.config.prod, false);

    this.pipeline.buildPipeline();
    new notifications.NotificationRule(this, 'DeliveryNotifications', {
      notificationRuleName: names.of('pipeline', 'delivery-notifications'),
      source: this.pipeline.pipeline,
      events: [
        'codepipeline-pipeline-pipeline-execution-failed',
        'codepipeline-pipeline-manual-approval-needed',
        'codepipeline-pipeline-manual-approval-failed',
      ],
      targets: [this.notificationTopic],
      detailType: notifications.DetailType.FULL,
    });

    this.pullRequestCheck = new PullRequestCheck(this, 'PullRequestCheck', {
      names,
      repository: source.repository,
      encryptionKey: key,
      reportBucket: artifactBucket,
      logRetention: logs.RetentionDays.THREE_MONTHS,
    });
    adoptCdkProviders(this, tooling, names, key);
    acknowledgePipelineProjects(this, artifactBucket, [this.pipeline.synthProject, this.pullRequestCheck.project]);
    this.acknowledgePipelineRoles(artifactBucket);
  }

  /** The few CDK Pipelines roles outside CodeBuild projects, with exactly the wildcard findings they carry. */
  private acknowledgePipelineRoles(artifactBucket: s3.IBucket): void {
    const bucketId = this.getLogicalId(artifactBucket.node.defaultChild as s3.CfnBucket);
    const artifactFindings = ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*', `Resource::<${bucketId}.Arn>/*`, 'Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'];
    const ack = (path: string, findings: readonly string[], reason: string): void => {
      const construct = this.node.findChild('Pipeline').node.tryFindChild('Pipeline');
      const target = path.split('/').reduce<Construct | undefined>((scope, id) => scope?.node.tryFindChild(id) as Construct | undefined, construct as Construct | undefined);
      if (!target) throw new Error(`CDK Pipelines layout changed: ${path} not found`);
      Validations.of(target).acknowledge(...findings.map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
    };
    ack('Role', artifactFindings, 'The pipeline role reads and writes its own artifacts (generated keys, prefix-wildcard S3 actions) in its own bucket with its own key.');
    ack(`Source/${this.pipelineSourceActionId()}/CodePipelineActionRole`, artifactFindings, 'The source action writes the checked-out repository into the pipeline\'s own artifact bucket with its own key.');
    ack('Staging/PromoteToProd/CodePipelineActionRole', ['Action::kms:GenerateDataKey*'], 'The approval action publishes its notification to the delivery topic, encrypted with the pipeline\'s own key.');
    const assetsRole = this.node.findChild('Pipeline').node.findChild('Assets').node.findChild('FileRole');
    Validations.of(assetsRole).acknowledge(
      ...['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', `Resource::<${bucketId}.Arn>/*`].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: 'Asset publishing reads the synthesized cloud assembly from the pipeline\'s own artifact bucket.' })),
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CodeBuild BatchGetBuilds/StartBuild/StopBuild on the asset project, as CDK Pipelines generates it; the role is only assumable by CodeBuild and CodePipeline of this account.' },
      { id: `AwsSolutions-IAM5[Resource::arn:aws:codebuild:${this.region}:${this.account}:report-group/*]`, reason: 'CDK Pipelines creates the asset project after this role; report groups are named after it at run time.' },
      { id: `AwsSolutions-IAM5[Resource::arn:aws:logs:${this.region}:${this.account}:log-group:/aws/codebuild/*]`, reason: 'CodeBuild default log groups of the asset project, named at run time.' },
    );
    const selfMutation = this.node.findChild('Pipeline').node.findChild('UpdatePipeline').node.findChild('SelfMutation');
    Validations.of(selfMutation).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'Self-mutation calls cloudformation:DescribeStacks and s3:ListBucket to diff the pipeline stack; neither is scoped to the not-yet-known stack ARNs by CDK Pipelines.' },
      { id: `AwsSolutions-IAM5[Resource::arn:*:iam::${this.account}:role/*]`, reason: 'Self-mutation assumes only the CDK bootstrap roles: the statement requires the aws-cdk:bootstrap-role tag (deploy, file-publishing, image-publishing).' },
    );
  }

  /** Construct id CDK Pipelines gives the source action (`owner_repo`). */
  private pipelineSourceActionId(): string {
    return this.sourceRepository.replace('/', '_');
  }

  /** Staging gets health gate + smoke test, then the approval that guards Prod; Prod gets its own health gate. */
  private addStage(stage: TradingPlatformStage, config: EnvironmentConfig, beforeApproval: boolean): void {
    const service = stage.serviceStack;
    const healthGate = new HealthGateStep('HealthGate', { healthUrl: service.healthUrlOutput });
    const post: pipelines.Step[] = [healthGate];
    const smokeTestRoleArn = service.smokeTestRoleArnOutput;
    if (beforeApproval && smokeTestRoleArn) {
      const smokeTest = new SmokeTestStep('SmokeTest', {
        apiUrl: service.apiUrlOutput,
        smokeTestRoleArn,
        stageAccount: config.account,
        smokeTestRoleName: service.names.of('role', 'smoke-test'),
      });
      smokeTest.addStepDependency(healthGate);
      const approval = new pipelines.ManualApprovalStep('PromoteToProd', {
        comment: `Staging (${config.environmentSuffix}) passed its health gate and smoke test. Review the dashboard, then approve promotion to Prod.`,
        reviewUrl: `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/${service.names.of('dashboard', 'platform')}`,
        notificationTopic: this.notificationTopic,
      });
      approval.addStepDependency(smokeTest);
      post.push(smokeTest, approval);
    }
    this.pipeline.addStage(stage, { post });
  }
}
