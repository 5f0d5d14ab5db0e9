/**
 * Lists everything in a synthesized cloud assembly that could survive `cdk destroy` (retained or snapshotted
 * resources, deletion protection, buckets that are not emptied, functions whose log group the stack does not own)
 * and exits 1 when the list is not empty. Usage: npx ts-node --transpile-only scripts/check-destroyable.ts [cdk.out]
 */
import * as fs from 'fs';
import * as path from 'path';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** CloudFormation types whose default deletion policy is Snapshot. */
const SNAPSHOT_BY_DEFAULT = new Set(['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::EC2::Volume', 'AWS::ElastiCache::CacheCluster', 'AWS::Redshift::Cluster', 'AWS::Neptune::DBCluster', 'AWS::DocDB::DBCluster']);

/** Finds every reason a resource of one template would outlive a stack deletion. */
export function survivors(templateName: string, resources: Record<string, Resource>): string[] {
  const found: string[] = [];
  const buckets = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::S3::Bucket');
  const autoDeleted = new Set(
    Object.values(resources)
      .filter((resource) => resource.Type === 'Custom::S3AutoDeleteObjects')
      .map((resource) => JSON.stringify(resource.Properties?.BucketName)),
  );
  for (const [id, resource] of Object.entries(resources)) {
    const where = `${templateName}: ${id} (${resource.Type})`;
    for (const policy of [resource.DeletionPolicy, resource.UpdateReplacePolicy]) {
      if (policy !== undefined && policy !== 'Delete') found.push(`${where} has policy ${policy}`);
    }
    if (SNAPSHOT_BY_DEFAULT.has(resource.Type) && resource.DeletionPolicy !== 'Delete') found.push(`${where} would be snapshotted (no DeletionPolicy: Delete)`);
    const props = resource.Properties ?? {};
    if (props.DeletionProtection === true || props.DeletionProtectionEnabled === true) found.push(`${where} has deletion protection`);
    if (resource.Type === 'AWS::Lambda::Function' && !(props.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup) {
      found.push(`${where} logs to a group it creates at run time, which a stack deletion leaves behind`);
    }
  }
  for (const id of buckets) {
    if (!autoDeleted.has(JSON.stringify({ Ref: id }))) found.push(`${templateName}: ${id} (AWS::S3::Bucket) is not emptied on deletion, so its deletion fails`);
  }
  return found;
}

function templatesIn(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('assembly-')) return templatesIn(full);
    return entry.isFile() && entry.name.endsWith('.template.json') ? [full] : [];
  });
}

function main(): void {
  const directory = process.argv[2] ?? 'cdk.out';
  const templates = templatesIn(directory);
  if (templates.length === 0) {
    console.error(`No templates under ${directory}: run the synth first`);
    process.exit(2);
  }
  const found = templates.flatMap((file) => {
    const template = JSON.parse(fs.readFileSync(file, 'utf8')) as { Resources?: Record<string, Resource> };
    return survivors(path.relative(directory, file), template.Resources ?? {});
  });
  console.log(`Checked ${templates.length} templates for resources that could survive cdk destroy.`);
  for (const line of found) console.log(`  SURVIVES: ${line}`);
  console.log(found.length === 0 ? 'Nothing would survive a destroy.' : `${found.length} resource(s) would survive a destroy.`);
  process.exit(found.length === 0 ? 0 : 1);
}

if (require.main === module) main();
