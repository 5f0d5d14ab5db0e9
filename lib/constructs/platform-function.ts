/**
 * The house Lambda function: Node.js 24 on arm64, bundled by local esbuild, traced, JSON logs into its own
 * encrypted log group, one least-privilege role per function. Takes only what varies between functions.
 */
import * as path from 'path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { LAYER_PROVIDED_MODULES, powertoolsLayer } from './powertools-layer';

/** Root of the Lambda sources; each function lives in `lambda/<purpose>/handler.ts`. */
export const LAMBDA_SOURCE_ROOT = path.join(__dirname, '..', '..', 'lambda');

/**
 * esbuild settings shared by every function, and by `bench/bundles.ts` so the measured bundles are the deployed ones.
 * The AWS SDK is bundled, so a function runs the SDK version of package-lock.json that the tests ran, not whatever
 * version the Lambda runtime carries that month (AWS's Lambda operator guide recommends locking it). `module` first
 * lets esbuild take the SDK's ES module builds and drop what a function never calls. Powertools Tracer comes from the
 * pinned Powertools layer (powertools-layer.ts); pg-native is an optional addon pg never loads here.
 */
export const BUNDLE_SETTINGS = {
  minify: true,
  target: 'node24',
  mainFields: ['module', 'main'],
  externalModules: [...LAYER_PROVIDED_MODULES, 'pg-native'],
} as const;

/**
 * Run before every bundle: rewrites lambda/shared/generated/ from the schemas (scripts/generate-validators.sh), so that
 * no bundle can carry a validator older than its schema. Bundling is local, so the host path is valid.
 */
const GENERATE_VALIDATORS = `sh "${path.join(__dirname, '..', '..', 'scripts', 'generate-validators.sh')}"`;

/** Where an in-VPC function runs. */
export interface FunctionNetworkProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
}

export interface PlatformFunctionProps {
  readonly names: ResourceNames;
  /** Kebab-case purpose: the function, role and log group names, and the source folder `lambda/{purpose}/handler.ts`. */
  readonly purpose: string;
  readonly description: string;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  /** @default - not in a VPC (for functions that must reach public AWS endpoints or the internet) */
  readonly network?: FunctionNetworkProps;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - no extra variables */
  readonly environment?: Record<string, string>;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Dead-letter queue for asynchronous invocations (EventBridge, Scheduler, S3): events that still fail after
   * Lambda's two retries land here instead of being dropped.
   * @default - none: the function is invoked synchronously only, so failures return to the caller
   */
  readonly asyncDeadLetterQueue?: sqs.IQueue;
  /** Files or folders copied next to the bundle, relative to the function's source folder. @default - none */
  readonly extraFiles?: readonly string[];
}

/** Default settings: NODEJS_24_X, ARM_64, active tracing, JSON logs, minified bundle with source maps, the AWS SDK bundled, Powertools Tracer from the pinned Powertools layer. */
export class PlatformFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** The function's timeout, for alarms that compare duration with it. */
  public readonly timeout: Duration;
  /** Kebab-case purpose, for alarm and dashboard names. */
  public readonly purpose: string;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(30);
    this.purpose = props.purpose;
    const functionName = props.names.of('lambda', props.purpose);
    const sourceDir = path.join(LAMBDA_SOURCE_ROOT, props.purpose);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.names.logGroup('lambda', props.purpose),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // One role per function, with nothing attached but what this construct and the caller's grants add.
    this.role = new iam.Role(this, 'Role', {
      roleName: props.names.of('role', props.purpose),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group ARN attribute ends in `:*`, which covers the streams Lambda creates at run time.
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.network) {
      // Lambda attaches Hyperplane ENIs with the execution role; EC2 does not scope these actions to resources.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const extraFiles = props.extraFiles ?? [];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: path.join(sourceDir, 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: this.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      layers: [powertoolsLayer(this)],
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueueEnabled: props.asyncDeadLetterQueue ? true : undefined,
      deadLetterQueue: props.asyncDeadLetterQueue,
      vpc: props.network?.vpc,
      vpcSubnets: props.network ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : undefined,
      securityGroups: props.network ? [props.network.securityGroup] : undefined,
      environmentEncryption: props.encryptionKey,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.purpose,
        POWERTOOLS_METRICS_NAMESPACE: 'TradingPlatform',
        ENVIRONMENT_SUFFIX: props.names.environmentSuffix,
        // Node 20+ runtimes load the Amazon RDS CA bundle only when asked; TLS to Aurora verifies against it.
        ...(props.network ? { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' } : {}),
        ...props.environment,
      },
      bundling: {
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: true,
        sourcesContent: false,
        target: BUNDLE_SETTINGS.target,
        format: nodejs.OutputFormat.CJS,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        externalModules: [...BUNDLE_SETTINGS.externalModules],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [GENERATE_VALIDATORS],
          beforeInstall: () => [],
          // Bundling is local (never Docker), so the host path of the source folder is valid here.
          afterBundling: (_inputDir: string, outputDir: string): string[] =>
            extraFiles.map((file) => `cp -R "${path.join(sourceDir, file)}" "${outputDir}/"`),
        },
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 network-interface actions Lambda needs in a VPC do not support resource-level permissions.',
    });
    if (!props.asyncDeadLetterQueue) {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason: 'Invoked synchronously only (API Gateway, SQS event source, or the custom-resource framework); failures return to the caller, which retries or dead-letters, so a Lambda DLQ would never receive anything.',
      });
    }
  }
}
