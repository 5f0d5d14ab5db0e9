/**
 * The stateful half of the platform (changes rarely): network, encryption key, Aurora and its schema,
 * the session table, buckets and runtime parameters. Exposes L2 interfaces for the service stack.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { adoptCdkProviders } from '../compliance/cdk-provider-resources';
import { Network } from '../constructs/network';
import { PlatformBuckets } from '../constructs/platform-buckets';
import { PlatformKey } from '../constructs/platform-key';
import { RuntimeParameters } from '../constructs/runtime-parameters';
import { SchemaMigrations } from '../constructs/schema-migrations';
import { SessionTable } from '../constructs/session-table';
import { TradingDatabase } from '../constructs/database';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export class DataStack extends PlatformStack {
  public readonly key: PlatformKey;
  public readonly network: Network;
  public readonly database: TradingDatabase;
  public readonly migrations: SchemaMigrations;
  public readonly sessions: SessionTable;
  public readonly buckets: PlatformBuckets;
  public readonly parameters: RuntimeParameters;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config, names } = this;
    const [writerAz, readerAz] = config.availabilityZones;
    if (!writerAz || !readerAz) throw new Error('At least two availability zones are required');

    this.key = new PlatformKey(this, 'PlatformKey', { names });
    const encryptionKey = this.key.key;
    this.network = new Network(this, 'Network', {
      names,
      encryptionKey,
      logRetention: config.logRetention,
      maxAzs: config.availabilityZones.length,
    });
    this.database = new TradingDatabase(this, 'Database', {
      names,
      vpc: this.network.vpc,
      encryptionKey,
      logRetention: config.logRetention,
      config: config.database,
      writerAz,
      readerAz,
    });
    this.migrations = new SchemaMigrations(this, 'SchemaMigrations', {
      names,
      network: this.network,
      database: this.database,
      encryptionKey,
      logRetention: config.logRetention,
    });
    this.sessions = new SessionTable(this, 'Sessions', { names, encryptionKey });
    this.buckets = new PlatformBuckets(this, 'Buckets', { names, encryptionKey });
    this.parameters = new RuntimeParameters(this, 'RuntimeParameters', { names, maxOrderNotional: config.orders.maxOrderNotional });

    new CfnOutput(this, 'DatabaseWriterEndpoint', { value: this.database.cluster.clusterEndpoint.hostname });
    new CfnOutput(this, 'DatabaseReaderEndpoint', { value: this.database.cluster.clusterReadEndpoint.hostname });
    new CfnOutput(this, 'SessionTableName', { value: this.sessions.table.tableName });
    new CfnOutput(this, 'SchemaVersion', { value: this.migrations.resource.getAttString('LatestVersion') });

    adoptCdkProviders(this, config, names, encryptionKey);
  }
}
