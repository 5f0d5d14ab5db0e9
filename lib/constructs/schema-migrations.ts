/**
 * Applies the versioned SQL migrations in `lambda/db-migrate/migrations/` to Aurora on every deploy, through a
 * custom resource whose function runs in the VPC, so no deploy needs a manual database step.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ResourceNames } from '../config';
import { Network } from './network';
import { TradingDatabase } from './database';
import { LAMBDA_SOURCE_ROOT, PlatformFunction } from './platform-function';

/** Folder of the migration files, relative to the function's source folder. */
const MIGRATIONS_FOLDER = 'migrations';

export interface SchemaMigrationsProps {
  readonly names: ResourceNames;
  readonly network: Network;
  readonly database: TradingDatabase;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/** Digest of every migration file, so that adding or changing a file re-runs the custom resource. */
export function migrationsDigest(directory: string): string {
  const hash = crypto.createHash('sha256');
  for (const file of fs.readdirSync(directory).filter((name) => name.endsWith('.sql')).sort()) {
    hash.update(file).update('\0').update(fs.readFileSync(path.join(directory, file))).update('\0');
  }
  return hash.digest('hex');
}

/** Default settings: migration function in the isolated subnets, 5-minute timeout, provider framework outside the VPC. */
export class SchemaMigrations extends Construct {
  public readonly migrator: PlatformFunction;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);
    const securityGroup = props.network.createClientSecurityGroup(
      this,
      'SecurityGroup',
      props.names,
      'db-migrate',
      'Schema migration function: PostgreSQL to Aurora, HTTPS to VPC endpoints',
    );
    props.database.allowConnectionsFrom(securityGroup, 'schema migrations');

    this.migrator = new PlatformFunction(this, 'Migrator', {
      names: props.names,
      purpose: 'db-migrate',
      description: 'Applies versioned SQL migrations to the trading database (CloudFormation custom resource)',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      network: { vpc: props.network.vpc, securityGroup },
      // Aurora Serverless may be scaling from its minimum; connection retries and DDL need time.
      timeout: Duration.minutes(5),
      memorySize: 256,
      extraFiles: [MIGRATIONS_FOLDER],
      environment: props.database.connectionEnvironment('writer'),
    });
    props.database.grantCredentialsRead(this.migrator.function);

    const providerLogGroup = new logs.LogGroup(this, 'ProviderLogGroup', {
      logGroupName: props.names.logGroup('lambda', 'db-migrate-provider'),
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of the framework's default (which attaches AWSLambdaBasicExecutionRole for all log groups).
    const providerRole = new iam.Role(this, 'ProviderRole', {
      roleName: props.names.of('role', 'db-migrate-provider'),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Custom resource framework for schema migrations: invoke the migrator, write own logs, trace',
    });
    providerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [providerLogGroup.logGroupArn],
      }),
    );
    providerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
    );
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.migrator.function,
      frameworkOnEventRole: providerRole,
      providerFunctionName: props.names.of('lambda', 'db-migrate-provider'),
      logGroup: providerLogGroup,
      providerFunctionEnvEncryption: props.encryptionKey,
    });

    const sourceMigrations = path.join(LAMBDA_SOURCE_ROOT, 'db-migrate', MIGRATIONS_FOLDER);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigrations',
      properties: { MigrationsDigest: migrationsDigest(sourceMigrations) },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Migrations need the database and the secret's first rotation-free value to exist first.
    this.resource.node.addDependency(props.database.cluster);

    this.hardenProviderFunction(provider, providerRole);
  }

  /**
   * The provider framework's function is generated by CDK: give it the house memory size and tracing, and
   * acknowledge only what it inherently needs.
   */
  private hardenProviderFunction(provider: cr.Provider, providerRole: iam.Role): void {
    const frameworkFunction = provider.node.findChild('framework-onEvent') as lambda.Function;
    const cfnFunction = frameworkFunction.node.defaultChild as lambda.CfnFunction;
    cfnFunction.memorySize = 256;
    cfnFunction.tracingConfig = { mode: lambda.Tracing.ACTIVE };
    const stack = Stack.of(this);
    const migratorLogicalId = stack.getLogicalId(this.migrator.function.node.defaultChild as lambda.CfnFunction);
    Validations.of(providerRole).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${migratorLogicalId}.Arn>:*]`,
        reason: 'The framework invokes the migration function by any version or alias (ARN:*); scoped to that one function.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
      },
    );
    Validations.of(frameworkFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'CloudFormation invokes the framework; every failure is reported back to CloudFormation, which fails and rolls back the deploy, so a DLQ would hold nothing actionable.',
      },
    );
  }
}
