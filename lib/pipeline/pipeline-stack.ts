/**
 * The delivery pipeline: a self-mutating CDK pipeline that takes `main` from the Git repository through synth
 * (tests + cdk-nag + Control Tower guard), self-mutation, asset publishing, Staging with health gate, signed smoke test, verification and an
 * alarm bake, a manual approval, and Prod with its own health gate and a longer bake that rolls the stage back by
 * itself. Also hosts the pull-request check and delivery notifications.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from '../constructs/dead-letter-queue';
import { restrictGrantsToAwsServices } from '../constructs/platform-key';
import { AppConfig, EnvironmentConfig, ResourceNames, TOOLING_ENVIRONMENT_SUFFIX, applyStandardTags } from '../config';
import { adoptCdkProviders } from '../compliance/cdk-provider-resources';
import { acknowledgePipelineGuardFindings } from '../compliance/guard-acknowledgements';
import { acknowledgePipelineProjects } from '../compliance/pipeline-resources';
import { NAME_RULES } from '../config/naming';
import { TradingPlatformStage } from '../stages/trading-platform-stage';
import { AlarmBakeStep, type RollbackAwareness } from './alarm-bake-step';
import { HealthGateStep } from './health-gate-step';
import { PullRequestCheck } from './pull-request-check';
import { SmokeTestStep } from './smoke-test-step';
import { rollBackStageOnFailure } from './stage-rollback';
import { BUILD_IMAGE, CDK_CLI_VERSION, runtimeVersionsBuildSpec } from './toolchain';
import { VerificationStep } from './verification-step';

/** Names of the pipeline's deployment stages (CDK Pipelines names them after the TradingPlatformStage ids). */
export const PIPELINE_STAGES = { staging: 'Staging', prod: 'Prod' } as const;

/** A name the stage's template holds as a literal, resolved in this (another account's) stack; a token is a bug here. */
function physicalName(scope: Stack, value: string, what: string): string {
  const resolved: unknown = scope.resolve(value);
  if (typeof resolved !== 'string' || Token.isUnresolved(resolved)) throw new Error(`${what} has no physical name known at synth: ${JSON.stringify(resolved)}`);
  return resolved;
}

export interface PipelineStackProps extends StackProps {
  readonly config: AppConfig;
}

/** The tooling environment: named like a stage with suffix `cicd` so the naming and tag rules apply to it too. */
function toolingEnvironment(config: AppConfig): EnvironmentConfig {
  // Build logs are the record of what was tested and deployed: kept a year, like Prod's logs (Control Tower CT.CLOUDWATCH.PR.2).
  return { ...config.staging, kind: 'staging', account: config.pipeline.account, environmentSuffix: TOOLING_ENVIRONMENT_SUFFIX, alarmEmail: config.pipeline.notificationEmail, logRetention: logs.RetentionDays.ONE_YEAR };
}

export class PipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  public readonly staging: TradingPlatformStage;
  public readonly prod: TradingPlatformStage;
  public readonly notificationTopic: sns.Topic;
  /** Rollback executions of the pipeline (automatic, after a failed Prod stage, or by hand) to the delivery topic. */
  public readonly rollbackNotifications: events.Rule;
  public readonly pullRequestCheck: PullRequestCheck;
  private readonly sourceRepository: string;
  private readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    const tooling = toolingEnvironment(props.config);
    super(scope, id, { ...props, env: { account: props.config.pipeline.account, region: props.config.pipeline.region } });
    applyStandardTags(this, tooling);
    const names = new ResourceNames(tooling);
    const { pipeline: source } = props.config;
    this.sourceRepository = source.repository;
    this.pipelineName = names.of('pipeline', 'trading-platform');

    const key = new kms.Key(this, 'ArtifactKey', {
      alias: `alias/${names.of('kmsAlias', 'pipeline')}`,
      description: 'Encrypts pipeline artifacts, build logs and notifications',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    restrictGrantsToAwsServices(key);
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
    // EventBridge publishes rollback notices to the encrypted delivery topic (and its DLQ), from the one rule below,
    // named by convention: a reference to the rule would make the key depend on the rule that depends on the key.
    const rollbackRuleName = names.of('eventRule', 'pipeline-rollbacks');
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeRollbackNotices',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: { 'aws:SourceArn': this.formatArn({ service: 'events', resource: 'rule', resourceName: rollbackRuleName }) },
        },
      }),
    );
    if (source.notificationEmail) {
      this.notificationTopic.addSubscription(new subscriptions.EmailSubscription(source.notificationEmail, { deadLetterQueue: notificationDeadLetters }));
    }

    const codeBuildLogs = new logs.LogGroup(this, 'CodeBuildLogGroup', {
      logGroupName: names.logGroup('codebuild', 'pipeline'),
      retention: tooling.logRetention,
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
      pipelineName: this.pipelineName,
      // Stage rollback exists only for V2 pipelines, and not in PARALLEL mode (the default, SUPERSEDED, is kept).
      pipelineType: codepipeline.PipelineType.V2,
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

    const { bakeWindows } = source;
    this.staging = new TradingPlatformStage(this, PIPELINE_STAGES.staging, {
      config: props.config.staging,
      deliveryAccount: source.account,
      postDeployChecks: { verification: true, bakeWindow: bakeWindows.staging },
    });
    this.addStaging(this.staging, props.config.staging, bakeWindows.staging);
    this.prod = new TradingPlatformStage(this, PIPELINE_STAGES.prod, {
      config: props.config.prod,
      deliveryAccount: source.account,
      postDeployChecks: { verification: false, bakeWindow: bakeWindows.prod },
    });
    this.addProd(this.prod, props.config.prod, bakeWindows.prod);

    this.pipeline.buildPipeline();
    // Prod rolls back by itself when its deploy, health gate or bake fails. Not with a CloudWatchAlarm rule in an
    // OnSuccess condition: such a rule names its alarm only by AlarmName, read with the pipeline's own role in the
    // pipeline account, and the platform's alarms live in the Prod account (docs/deployment.md, "Bake and rollback").
    rollBackStageOnFailure(this.pipeline.pipeline, PIPELINE_STAGES.prod);
    new notifications.NotificationRule(this, 'DeliveryNotifications', {
      notificationRuleName: names.of('pipeline', 'delivery-notifications'),
      source: this.pipeline.pipeline,
      events: [
        'codepipeline-pipeline-pipeline-execution-failed',
        // Names the stage that failed: a failed Prod stage is what starts its automatic rollback.
        'codepipeline-pipeline-stage-execution-failed',
        'codepipeline-pipeline-manual-approval-needed',
        'codepipeline-pipeline-manual-approval-failed',
      ],
      targets: [this.notificationTopic],
      detailType: notifications.DetailType.FULL,
    });
    // The notification rule has no event type for a rollback, so the execution's own event is routed: a rollback
    // execution starts with execution-trigger.trigger-type AutomatedRollback or ManualRollback (CodePipeline API
    // Reference, ExecutionTrigger; User Guide, "Monitoring CodePipeline events").
    this.rollbackNotifications = new events.Rule(this, 'RollbackNotifications', {
      ruleName: rollbackRuleName,
      description: 'Rollback executions of the delivery pipeline (automatic after a failed Prod stage, or by hand), to the delivery topic',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        detail: { pipeline: [this.pipelineName], state: ['STARTED'], 'execution-trigger': { 'trigger-type': ['AutomatedRollback', 'ManualRollback'] } },
      },
      targets: [
        new targets.SnsTopic(this.notificationTopic, {
          deadLetterQueue: notificationDeadLetters,
          message: events.RuleTargetInput.fromText(
            `ROLLBACK started in ${events.EventField.fromPath('$.detail.pipeline')}: execution ${events.EventField.fromPath('$.detail.execution-id')} ` +
              `(${events.EventField.fromPath('$.detail.execution-trigger.trigger-type')}) re-deploys the last execution that succeeded in the failed stage. ` +
              'Runbook: docs/runbook.md#a-rollback-happened',
          ),
        }),
      ],
    });

    this.pullRequestCheck = new PullRequestCheck(this, 'PullRequestCheck', {
      names,
      repository: source.repository,
      encryptionKey: key,
      reportBucket: artifactBucket,
      logRetention: tooling.logRetention,
    });
    adoptCdkProviders(this, tooling, names, key);
    acknowledgePipelineProjects(this, artifactBucket, [this.pipeline.synthProject, this.pullRequestCheck.project]);
    this.acknowledgePipelineRoles(artifactBucket);
    acknowledgePipelineGuardFindings(this);
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

  /**
   * Staging: health gate, signed smoke test, verification of every cloud-only path, bake, then the approval that guards
   * Prod. Each step depends on the one before, so they run one after the other in this order (test/lib/pipeline/release-gates.test.ts).
   */
  private addStaging(stage: TradingPlatformStage, config: EnvironmentConfig, bakeWindow: Duration): void {
    const service = stage.serviceStack;
    const { smokeTestRoleArnOutput, verificationRoleArnOutput } = service;
    if (!smokeTestRoleArnOutput || !verificationRoleArnOutput) throw new Error(`Stage ${stage.stageName}: the smoke-test and verification roles are missing; the pipeline's checks would have nothing to assume`);
    const healthGate = new HealthGateStep('HealthGate', { healthUrl: service.healthUrlOutput });
    const smokeTest = new SmokeTestStep('SmokeTest', {
      apiUrl: service.apiUrlOutput,
      smokeTestRoleArn: smokeTestRoleArnOutput,
      stageAccount: config.account,
      smokeTestRoleName: service.names.of('role', 'smoke-test'),
    });
    const alarms = this.stageAlarms(stage);
    const verify = new VerificationStep('Verify', {
      apiUrl: service.apiUrlOutput,
      healthCheckId: service.healthCheckIdOutput,
      verificationRoleArn: verificationRoleArnOutput,
      stageAccount: config.account,
      verificationRoleName: service.names.of('role', 'verification'),
      orderLimitPrice: config.orders.largeNotionalThreshold,
      targets: {
        auditLogGroupName: physicalName(this, service.eventBus.auditLogGroup.logGroupName, 'the audit log group'),
        accessLogGroupName: physicalName(this, service.api.accessLogGroup.logGroupName, 'the API access log group'),
        eventBusName: physicalName(this, service.eventBus.bus.eventBusName, 'the event bus'),
        criticalRuleName: service.names.of('eventRule', 'critical'),
        alertTopicName: physicalName(this, service.alerting.topic.topicName, 'the alert topic'),
        ...alarms,
      },
    });
    const bake = this.bakeStep(stage, config, bakeWindow);
    const approval = new pipelines.ManualApprovalStep('PromoteToProd', {
      comment: `Staging (${config.environmentSuffix}) passed its health gate, smoke test, verification and a ${bakeWindow.toMinutes()}-minute alarm bake. Review the dashboard, then approve promotion to Prod.`,
      reviewUrl: `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/${service.names.of('dashboard', 'platform')}`,
      notificationTopic: this.notificationTopic,
    });
    const post = [healthGate, smokeTest, verify, bake, approval];
    post.forEach((step, index) => {
      const previous = post[index - 1];
      if (previous) step.addStepDependency(previous);
    });
    this.pipeline.addStage(stage, { post });
  }

  /** Prod: health gate, then the longer bake; a failure of either fails the stage, which then rolls back by itself. */
  private addProd(stage: TradingPlatformStage, config: EnvironmentConfig, bakeWindow: Duration): void {
    const healthGate = new HealthGateStep('HealthGate', { healthUrl: stage.serviceStack.healthUrlOutput });
    const bake = this.bakeStep(stage, config, bakeWindow, { pipelineName: this.pipelineName, pipelineArn: this.formatArn({ service: 'codepipeline', resource: this.pipelineName, arnFormat: ArnFormat.NO_RESOURCE_NAME }), stageName: PIPELINE_STAGES.prod });
    bake.addStepDependency(healthGate);
    this.pipeline.addStage(stage, { post: [healthGate, bake] });
  }

  private bakeStep(stage: TradingPlatformStage, config: EnvironmentConfig, window: Duration, rollback?: RollbackAwareness): AlarmBakeStep {
    const service = stage.serviceStack;
    if (!service.alarmReaderRoleArnOutput) throw new Error(`Stage ${stage.stageName}: the alarm-reader role is missing; the bake would have nothing to assume`);
    return new AlarmBakeStep('Bake', {
      alarmReaderRoleArn: service.alarmReaderRoleArnOutput,
      stageAccount: config.account,
      alarmReaderRoleName: service.names.of('role', 'alarm-reader'),
      window,
      ...this.stageAlarms(stage),
      ...(rollback ? { rollback } : {}),
    });
  }

  /** Which alarms are the stage's: `alarm-{purpose}-{region}-{suffix}`, and the composite one must be among them. */
  private stageAlarms(stage: TradingPlatformStage): { alarmNamePrefix: string; alarmNameSuffix: string; requiredAlarmNames: string[] } {
    const { config } = stage;
    return {
      alarmNamePrefix: `${NAME_RULES.alarm.prefix}-`,
      alarmNameSuffix: `-${config.region}-${config.environmentSuffix}`,
      requiredAlarmNames: [physicalName(this, stage.serviceStack.alarms.degraded.alarmName, 'the platform-degraded alarm')],
    };
  }
}
