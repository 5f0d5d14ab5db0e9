/**
 * Aurora PostgreSQL Serverless v2 cluster: a writer and a reader in different AZs (the reader scales with the
 * writer so it can take over at once), encrypted, TLS enforced, rotated credentials, fully destroyable.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatabaseConfig, ResourceNames } from '../config';

/** Port of the cluster; not the PostgreSQL default, so scans for 5432 find nothing. */
export const DATABASE_PORT = 5532;
/** Name of the application database created with the cluster. */
export const DATABASE_NAME = 'trading';
/** Master user; its password lives only in the RDS-managed secret. */
export const DATABASE_ADMIN_USER = 'trading_admin';
/**
 * The log group RDS Enhanced Monitoring writes every instance's OS metrics to: one per account and region, fixed by
 * RDS (RDS user guide, "Viewing OS metrics in CloudWatch Logs"), so the account baseline owns it, not a stage.
 */
export const ENHANCED_MONITORING_LOG_GROUP = 'RDSOSMetrics';
/** Enhanced Monitoring granularity: the coarsest RDS offers; OS metrics every minute next to CloudWatch's own. */
export const ENHANCED_MONITORING_INTERVAL = Duration.seconds(60);

export interface TradingDatabaseProps {
  readonly names: ResourceNames;
  readonly vpc: ec2.IVpc;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly config: DatabaseConfig;
  /** Two AZs from the stage config: the writer goes to the first, the reader to the second. */
  readonly writerAz: string;
  readonly readerAz: string;
}

/**
 * Default settings: PostgreSQL 17, rds.force_ssl=1, slow statements and DDL logged to an encrypted log group,
 * Performance Insights encrypted with the stage key, Enhanced Monitoring every 60 s, instances not publicly
 * accessible, RDS-managed secret rotated every 7 days, no deletion protection.
 */
export class TradingDatabase extends Construct {
  public readonly cluster: rds.DatabaseCluster;
  public readonly secret: secretsmanager.ISecret;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  /** The role RDS assumes to write Enhanced Monitoring metrics to the account's RDSOSMetrics log group. */
  public readonly monitoringRole: iam.Role;
  /** The cluster identifier as a literal, for metric dimensions in other stacks without a cross-stack reference. */
  public readonly clusterIdentifier: string;
  /** The writer's and the reader's instance identifiers as literals (which of them writes changes with each failover). */
  public readonly instanceIdentifiers: readonly string[];
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: TradingDatabaseProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const clusterIdentifier = props.names.of('dbCluster', 'trading');
    this.clusterIdentifier = clusterIdentifier;
    const writerIdentifier = props.names.of('dbInstance', 'trading-writer');
    const readerIdentifier = props.names.of('dbInstance', 'trading-reader');
    this.instanceIdentifiers = [writerIdentifier, readerIdentifier];
    const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_7 });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: props.names.of('securityGroup', 'aurora'),
      description: 'Aurora cluster: PostgreSQL from allowed platform functions only',
      allowAllOutbound: false,
    });

    const parameterGroup = new rds.ParameterGroup(this, 'ParameterGroup', {
      engine,
      name: props.names.of('dbParameterGroup', 'trading'),
      description: 'Trading platform cluster parameters: TLS only, slow statements and DDL logged',
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: String(props.config.slowStatementThreshold.toMilliseconds()),
        log_statement: 'ddl',
        log_lock_waits: '1',
        // A session left open in a transaction holds locks the order processor waits on.
        idle_in_transaction_session_timeout: '60000',
        shared_preload_libraries: 'pg_stat_statements',
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      subnetGroupName: props.names.of('dbSubnetGroup', 'trading'),
      description: 'Isolated subnets of the trading platform VPC',
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Created before the cluster so that retention, encryption and DESTROY apply to the exported log stream.
    this.logGroup = new logs.LogGroup(this, 'PostgresqlLogGroup', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.monitoringRole = this.createMonitoringRole(props.names, [writerIdentifier, readerIdentifier]);

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine,
      clusterIdentifier,
      defaultDatabaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      // RDS owns the master secret and rotates it itself (every 7 days): no rotation Lambda to run, patch or
      // leave log groups behind. The secret holds {username, password}; host and port come from the cluster.
      manageMasterUserPassword: true,
      credentials: rds.Credentials.fromUsername(DATABASE_ADMIN_USER, { encryptionKey: props.encryptionKey }),
      writer: rds.ClusterInstance.serverlessV2('Writer', {
        instanceIdentifier: writerIdentifier,
        // Explicit, not inferred from the subnets: the instances sit in isolated subnets and have no public address.
        publiclyAccessible: false,
        availabilityZone: props.writerAz,
        enablePerformanceInsights: true,
        performanceInsightEncryptionKey: props.encryptionKey,
        autoMinorVersionUpgrade: true,
      }),
      readers: [
        rds.ClusterInstance.serverlessV2('Reader', {
          instanceIdentifier: readerIdentifier,
        // Explicit, not inferred from the subnets: the instances sit in isolated subnets and have no public address.
        publiclyAccessible: false,
          availabilityZone: props.readerAz,
          // Promotion tier 0-1 and scaling with the writer: the reader can take the writer's load on failover.
          scaleWithWriter: true,
          enablePerformanceInsights: true,
          performanceInsightEncryptionKey: props.encryptionKey,
          autoMinorVersionUpgrade: true,
        }),
      ],
      serverlessV2MinCapacity: props.config.minCapacityAcu,
      serverlessV2MaxCapacity: props.config.maxCapacityAcu,
      vpc: props.vpc,
      subnetGroup,
      securityGroups: [this.securityGroup],
      parameterGroup,
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      backup: { retention: props.config.backupRetention, preferredWindow: '03:00-04:00' },
      preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
      cloudwatchLogsExports: ['postgresql'],
      monitoringInterval: ENHANCED_MONITORING_INTERVAL,
      monitoringRole: this.monitoringRole,
      copyTagsToSnapshot: true,
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
      iamAuthentication: false,
    });
    this.cluster.node.addDependency(this.logGroup);
    for (const instanceId of ['Writer', 'Reader']) {
      Validations.of(this.cluster.node.findChild(instanceId)).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: 'The writer and reader are pinned to two different AZs from the environment config so that losing one AZ never takes both.',
      });
    }

    const secret = this.cluster.secret;
    if (!secret) throw new Error('Aurora cluster was created without a generated secret');
    this.secret = secret;

    Validations.of(this.cluster).acknowledge(
      {
        id: 'AwsSolutions-RDS6',
        reason: 'Password authentication with an RDS-managed, KMS-encrypted Secrets Manager secret that RDS rotates every 7 days; IAM auth caps new connections per second, which a failover reconnect storm would hit.',
      },
      {
        id: 'AwsSolutions-RDS10',
        reason: 'The customer requires every resource to be destroyable without manual steps (no deletion protection); backups are retained 7 days.',
      },
    );
  }

  /**
   * The Enhanced Monitoring role: AWS's AmazonRDSEnhancedMonitoringRole actions, narrowed from every `RDS*` log group
   * in every account to the one RDSOSMetrics group of this account and region, and assumable by RDS only for this
   * stage's two instances (RDS user guide, "Setting up and enabling Enhanced Monitoring": confused-deputy conditions).
   */
  private createMonitoringRole(names: ResourceNames, instanceIdentifiers: readonly string[]): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'MonitoringRole', {
      roleName: names.of('role', 'aurora-monitoring'),
      description: 'RDS Enhanced Monitoring: write OS metrics of the trading cluster instances to RDSOSMetrics',
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': instanceIdentifiers.map((identifier) => stack.formatArn({ service: 'rds', resource: 'db', resourceName: identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME })) },
        },
      }),
    });
    const logGroupArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: ENHANCED_MONITORING_LOG_GROUP, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ManageOsMetricsLogGroup', actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'], resources: [logGroupArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOsMetrics',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:GetLogEvents'],
        resources: [`${logGroupArn}:log-stream:*`],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${ENHANCED_MONITORING_LOG_GROUP}:log-stream:*]`,
      reason: 'RDS names one log stream per instance after its resource id (db-...), which is generated when the instance is created.',
    });
    return role;
  }

  /** Lets a security group open PostgreSQL connections to the cluster (writer and reader endpoints). */
  allowConnectionsFrom(peer: ec2.ISecurityGroup, purpose: string): void {
    peer.connections.allowTo(this.securityGroup, ec2.Port.tcp(DATABASE_PORT), `PostgreSQL for ${purpose}`);
  }

  /** Environment variables a function needs to connect: endpoint, port, database and credentials secret. */
  connectionEnvironment(endpoint: 'writer' | 'reader'): Record<string, string> {
    const address = endpoint === 'writer' ? this.cluster.clusterEndpoint : this.cluster.clusterReadEndpoint;
    return {
      DB_HOST: address.hostname,
      DB_PORT: String(DATABASE_PORT),
      DB_NAME: DATABASE_NAME,
      DB_SECRET_ARN: this.secret.secretArn,
    };
  }

  /**
   * Lets a function read the database credentials and decrypt them with the stage key. Written as identity
   * policy (not `secret.grantRead`), which would put the function's role into the key policy of the data stack
   * and make the data stack depend on the service stack.
   */
  grantCredentialsRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDatabaseSecret',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [this.secret.secretArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptDatabaseSecret',
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
