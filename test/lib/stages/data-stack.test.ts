/**
 * Fine-grained assertions on the data stack of one synthesized stage (suffix `test`): one synth for the file.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesizeStage } from '../../support/cdk-app';

let data: Template;

beforeAll(() => {
  data = synthesizeStage().data;
});

describe('network', () => {
  it('spans three AZs with isolated subnets only: no NAT gateway, no internet gateway', () => {
    data.resourceCountIs('AWS::EC2::Subnet', 3);
    data.resourceCountIs('AWS::EC2::NatGateway', 0);
    data.resourceCountIs('AWS::EC2::InternetGateway', 0);
    data.resourceCountIs('AWS::EC2::EIP', 0);
    for (const az of ['us-east-1a', 'us-east-1b', 'us-east-1c']) {
      data.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: az, MapPublicIpOnLaunch: false });
    }
  });

  it('has S3 and DynamoDB gateway endpoints', () => {
    for (const service of ['s3', 'dynamodb']) {
      data.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([`.${service}`])]) }),
      });
    }
  });

  it('has exactly the justified interface endpoints, private DNS on', () => {
    const endpoints = data.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
    const services = Object.values(endpoints).map((endpoint) => JSON.stringify(endpoint.Properties.ServiceName));
    expect(services.sort()).toEqual(
      ['events', 'secretsmanager', 'sqs', 'ssm', 'xray'].map((name) => expect.stringContaining(`.${name}`)),
    );
    for (const endpoint of Object.values(endpoints)) expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
  });

  it('logs all traffic with flow logs into an encrypted, suffixed log group', () => {
    data.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    data.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/trading/test/vpc/flow-logs',
      KmsKeyId: Match.anyValue(),
      RetentionInDays: 7,
    });
  });

  it('lets the interface endpoints accept HTTPS only from platform security groups', () => {
    data.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: 'sg-vpc-endpoints-us-east-1-test',
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '255.255.255.255/32' })]),
    });
    data.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  });
});

describe('encryption key', () => {
  it('rotates yearly and is destroyed with the shortest pending window', () => {
    data.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, PendingWindowInDays: 7 },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    data.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/kms-platform-us-east-1-test' });
  });

  it('lets only AWS services create grants on it (Control Tower CT.KMS.PR.3)', () => {
    data.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'DenyGrantsExceptForAwsServices',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'kms:CreateGrant',
            Resource: '*',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          },
        ]),
      },
    });
  });

  it('lets CloudWatch Logs use it only for the stage own log groups', () => {
    const [key] = Object.values(data.findResources('AWS::KMS::Key'));
    const statements = key?.Properties.KeyPolicy.Statement as { Sid?: string; Principal?: unknown; Condition?: unknown }[];
    const logs = statements.find((statement) => statement.Sid === 'AllowCloudWatchLogsForStageLogGroups');
    expect(logs?.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    const condition = JSON.stringify(logs?.Condition);
    expect(condition).toContain('log-group:/trading/test/*');
    expect(condition).toContain('log-group:/aws/rds/cluster/*-test/*');
  });

  it('lets EventBridge encrypt the event archive only in the context of the stage bus, as the archive docs require', () => {
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html: DescribeKey, and
    // GenerateDataKey/Decrypt/ReEncrypt* under the encryption context kms:EncryptionContext:aws:events:event-bus:arn.
    data.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowEventBridgeForStageArchive',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
            Resource: '*',
            Condition: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': 'arn:aws:events:us-east-1:444444444444:event-bus/eb-trading-us-east-1-test' } },
          },
          { Sid: 'AllowEventBridgeDescribeKeyForArchive', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'kms:DescribeKey', Resource: '*' },
        ]),
      },
    });
  });
});

describe('Aurora PostgreSQL', () => {
  it('is Serverless v2 PostgreSQL 17, encrypted with the stage key, 7-day backups, destroyable', () => {
    data.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({
        Engine: 'aurora-postgresql',
        EngineVersion: Match.stringLikeRegexp('^17\\.'),
        DBClusterIdentifier: 'aurora-trading-us-east-1-test',
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
        StorageEncrypted: true,
        KmsKeyId: Match.anyValue(),
        BackupRetentionPeriod: 7,
        DeletionProtection: false,
        ManageMasterUserPassword: true,
        MasterUserSecret: { KmsKeyId: Match.anyValue() },
        EnableCloudwatchLogsExports: ['postgresql'],
        Port: 5532,
      }),
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  it('has a writer and a reader in different AZs, the reader scaling with the writer', () => {
    data.resourceCountIs('AWS::RDS::DBInstance', 2);
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceIdentifier: 'aurora-trading-writer-us-east-1-test',
      DBInstanceClass: 'db.serverless',
      AvailabilityZone: 'us-east-1a',
      PromotionTier: 0,
    });
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceIdentifier: 'aurora-trading-reader-us-east-1-test',
      DBInstanceClass: 'db.serverless',
      AvailabilityZone: 'us-east-1b',
      PromotionTier: 1,
    });
  });

  it('keeps both instances private and sends Enhanced Monitoring every 60 s through its own role (CT.RDS.PR.23, PR.2)', () => {
    for (const role of ['writer', 'reader']) {
      data.hasResourceProperties('AWS::RDS::DBInstance', {
        DBInstanceIdentifier: `aurora-trading-${role}-us-east-1-test`,
        PubliclyAccessible: false,
        MonitoringInterval: 60,
        MonitoringRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DatabaseMonitoringRole'), 'Arn'] },
      });
    }
  });

  it('lets RDS assume the monitoring role only for this stage\'s instances, to write RDSOSMetrics only', () => {
    data.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'role-aurora-monitoring-us-east-1-test',
      ManagedPolicyArns: Match.absent(),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'monitoring.rds.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '444444444444' },
              ArnLike: { 'aws:SourceArn': ['arn:aws:rds:us-east-1:444444444444:db:aurora-trading-writer-us-east-1-test', 'arn:aws:rds:us-east-1:444444444444:db:aurora-trading-reader-us-east-1-test'] },
            },
          }),
        ],
      },
    });
    data.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('DatabaseMonitoringRole') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Sid: 'ManageOsMetricsLogGroup', Resource: 'arn:aws:logs:us-east-1:444444444444:log-group:RDSOSMetrics' }),
          Match.objectLike({ Sid: 'WriteOsMetrics', Resource: 'arn:aws:logs:us-east-1:444444444444:log-group:RDSOSMetrics:log-stream:*' }),
        ],
      },
    });
  });

  it('enforces TLS and logs slow statements and DDL', () => {
    data.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Parameters: Match.objectLike({ 'rds.force_ssl': '1', log_min_duration_statement: '500', log_statement: 'ddl' }),
    });
  });

  it('exports PostgreSQL logs into an explicit encrypted log group that is destroyed with the stack', () => {
    data.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/aws/rds/cluster/aurora-trading-us-east-1-test/postgresql', KmsKeyId: Match.anyValue(), RetentionInDays: 7 },
      DeletionPolicy: 'Delete',
    });
  });

  it('admits PostgreSQL only from the schema migration function', () => {
    data.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5532,
      ToPort: 5532,
      Description: 'PostgreSQL for schema migrations',
    });
    const wideOpen = data.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { CidrIp: '0.0.0.0/0' } });
    expect(wideOpen).toEqual({});
  });
});

describe('schema migrations', () => {
  it('runs a Node 24 arm64 function in the isolated subnets with the writer endpoint and secret', () => {
    data.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lambda-db-migrate-us-east-1-test',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 300,
      VpcConfig: { SubnetIds: [{ Ref: Match.stringLikeRegexp('isolatedSubnet1') }, { Ref: Match.stringLikeRegexp('isolatedSubnet2') }, { Ref: Match.stringLikeRegexp('isolatedSubnet3') }], SecurityGroupIds: [Match.anyValue()] },
      Environment: {
        Variables: Match.objectLike({
          DB_HOST: Match.anyValue(),
          DB_PORT: '5532',
          DB_NAME: 'trading',
          DB_SECRET_ARN: Match.anyValue(),
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        }),
      },
    });
  });

  it('is a custom resource that changes whenever a migration file changes', () => {
    data.hasResourceProperties('Custom::SchemaMigrations', {
      ServiceToken: Match.anyValue(),
      MigrationsDigest: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
    });
  });

  it('may read the database secret and nothing broader', () => {
    data.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [Match.objectLike({ Ref: Match.stringLikeRegexp('SchemaMigrationsMigratorRole') })],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DatabaseCluster'), 'MasterUserSecret.SecretArn'] },
          }),
        ]),
      },
    });
  });
});

describe('session table', () => {
  it('is on-demand with PITR, NEW_AND_OLD_IMAGES stream, TTL and the stage key', () => {
    data.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        TableName: 'dynamodb-sessions-us-east-1-test',
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        DeletionProtectionEnabled: false,
      }),
      DeletionPolicy: 'Delete',
    });
  });
});

describe('buckets', () => {
  const secure = {
    VersioningConfiguration: { Status: 'Enabled' },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  };

  it.each(['config', 'audit'])('the %s bucket is versioned, KMS-encrypted and logs access to the log bucket', (purpose) => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      ...secure,
      BucketName: `s3-${purpose}-us-east-1-test-444444444444`,
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }), BucketKeyEnabled: true })] },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: `${purpose}/` },
    });
  });

  it.each(['config', 'audit'])('the %s bucket sends its object events to EventBridge, without a CDK notification Lambda (CT.S3.PR.4)', (purpose) => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: `s3-${purpose}-us-east-1-test-444444444444`,
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    data.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it('the access log bucket keeps SSE-S3, which S3 log delivery requires, and sends no events', () => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 's3-access-logs-us-east-1-test-444444444444',
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      NotificationConfiguration: Match.absent(),
    });
  });

  it('expires noncurrent config versions and aborts incomplete uploads', () => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 's3-config-us-east-1-test-444444444444',
      LifecycleConfiguration: { Rules: [Match.objectLike({ NoncurrentVersionExpiration: Match.objectLike({ NoncurrentDays: 90 }), AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' })] },
    });
  });

  it('moves audit logs to colder storage', () => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 's3-audit-us-east-1-test-444444444444',
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: [
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 365 },
            ],
            NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          }),
        ],
      },
    });
  });

  it('denies every request without TLS on all three buckets', () => {
    const policies = data.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(3);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
  });

  it('empties every bucket on stack deletion', () => {
    data.resourceCountIs('Custom::S3AutoDeleteObjects', 3);
  });
});

describe('runtime parameters', () => {
  it('keeps the kill switch and the notional limit under /trading/{suffix}/', () => {
    data.hasResourceProperties('AWS::SSM::Parameter', { Name: '/trading/test/orders/trading-enabled', Type: 'String', Value: 'true', AllowedPattern: '^(true|false)$' });
    data.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/trading/test/orders/max-order-notional',
      Type: 'String',
      Value: '100000.00',
      // SSM refuses a value the functions would not parse (lambda/shared/runtime-parameters.ts).
      AllowedPattern: '^(0|[1-9][0-9]{0,15})(\\.[0-9]{1,2})?$',
    });
  });
});

describe('CDK-generated providers', () => {
  it.each(['cdk-s3-auto-delete', 'cdk-vpc-default-sg'])('%s is named by convention and logs to a destroyable group', (purpose) => {
    data.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `lambda-${purpose}-us-east-1-test`,
      LoggingConfig: { LogGroup: Match.anyValue(), LogFormat: 'JSON' },
    });
    data.hasResource('AWS::Logs::LogGroup', { Properties: Match.objectLike({ LogGroupName: `/trading/test/lambda/${purpose}` }), DeletionPolicy: 'Delete' });
  });
});
