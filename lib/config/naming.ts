/**
 * Physical names `{resource-type}-{purpose}-{region}-{environmentSuffix}` for every named resource,
 * checked at synth time against each service's length and character limits.
 */
import { EnvironmentConfig } from './environment-config';

/** The limits of one kind of name, as each service documents them. */
interface NameRule {
  /** Prefix written into the name: what kind of resource it is. */
  readonly prefix: string;
  readonly maxLength: number;
  readonly pattern: RegExp;
  readonly description: string;
  /** Appended after the suffix (e.g. `.fifo`), counted in the length. */
  readonly ending?: string;
}

const LOWER_HYPHEN = /^[a-z][a-z0-9-]*[a-z0-9]$/;

/** Every kind of named resource in the platform and the service limits of its name. */
export const NAME_RULES = {
  lambda: { prefix: 'lambda', maxLength: 64, pattern: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, hyphens, underscores' },
  role: { prefix: 'role', maxLength: 64, pattern: /^[A-Za-z0-9+=,.@_-]+$/, description: 'letters, digits and +=,.@_-' },
  // Bucket names are global across all AWS accounts, so the account id follows the suffix.
  bucket: { prefix: 's3', maxLength: 63, pattern: /^[a-z0-9][a-z0-9-]*[a-z0-9]$/, description: 'lowercase letters, digits, hyphens' },
  queue: { prefix: 'sqs', maxLength: 80, pattern: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, hyphens, underscores' },
  fifoQueue: { prefix: 'sqs', maxLength: 80, pattern: /^[A-Za-z0-9_-]+\.fifo$/, description: 'letters, digits, hyphens, underscores, then .fifo', ending: '.fifo' },
  table: { prefix: 'dynamodb', maxLength: 255, pattern: /^[A-Za-z0-9_.-]+$/, description: 'letters, digits, _ . -' },
  dbCluster: { prefix: 'aurora', maxLength: 63, pattern: LOWER_HYPHEN, description: 'lowercase letters, digits, hyphens; starts with a letter' },
  dbInstance: { prefix: 'aurora', maxLength: 63, pattern: LOWER_HYPHEN, description: 'lowercase letters, digits, hyphens; starts with a letter' },
  dbParameterGroup: { prefix: 'rdspg', maxLength: 255, pattern: LOWER_HYPHEN, description: 'lowercase letters, digits, hyphens; starts with a letter' },
  dbSubnetGroup: { prefix: 'rdssubnets', maxLength: 255, pattern: LOWER_HYPHEN, description: 'lowercase letters, digits, hyphens' },
  secret: { prefix: 'secret', maxLength: 512, pattern: /^[A-Za-z0-9/_+=.@-]+$/, description: 'letters, digits and /_+=.@-' },
  securityGroup: { prefix: 'sg', maxLength: 255, pattern: /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, description: 'EC2 security group characters' },
  vpc: { prefix: 'vpc', maxLength: 255, pattern: /^[A-Za-z0-9_.-]+$/, description: 'letters, digits, _ . -' },
  kmsAlias: { prefix: 'kms', maxLength: 250, pattern: /^[A-Za-z0-9/_-]+$/, description: 'letters, digits, / _ -' },
  topic: { prefix: 'sns', maxLength: 256, pattern: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, hyphens, underscores' },
  eventBus: { prefix: 'eb', maxLength: 256, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  eventRule: { prefix: 'ebrule', maxLength: 64, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  eventArchive: { prefix: 'ebarchive', maxLength: 48, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  schedule: { prefix: 'schedule', maxLength: 64, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  restApi: { prefix: 'apigw', maxLength: 1024, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  webAcl: { prefix: 'waf', maxLength: 128, pattern: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, hyphens, underscores' },
  alarm: { prefix: 'alarm', maxLength: 255, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  dashboard: { prefix: 'dashboard', maxLength: 255, pattern: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, hyphens, underscores' },
  healthCheck: { prefix: 'r53hc', maxLength: 255, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  // FIS experiment templates take no name: this one is their `Name` tag, which the game day finds them by.
  experimentTemplate: { prefix: 'fis', maxLength: 256, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ - (a tag value)' },
  logResourcePolicy: { prefix: 'logpolicy', maxLength: 255, pattern: /^[A-Za-z0-9._-]+$/, description: 'letters, digits, . _ -' },
  codeBuild: { prefix: 'codebuild', maxLength: 150, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, description: 'letters, digits, hyphens, underscores' },
  pipeline: { prefix: 'codepipeline', maxLength: 100, pattern: /^[A-Za-z0-9.@_-]+$/, description: 'letters, digits and .@_-' },
} as const satisfies Record<string, NameRule>;

export type ResourceKind = keyof typeof NAME_RULES;

/** Thrown at synth time when a generated name breaks a service limit. */
export class NamingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NamingError';
  }
}

const PURPOSE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The naming inputs of one environment. */
export type NamingScope = Pick<EnvironmentConfig, 'region' | 'environmentSuffix' | 'account'>;

/**
 * Builds names for one environment. Example for staging:
 * `names.of('fifoQueue', 'orders')` → `sqs-orders-us-east-1-stg.fifo`.
 */
export class ResourceNames {
  constructor(private readonly scope: NamingScope) {}

  /** `{prefix}-{purpose}-{region}-{suffix}[ending]`, or a NamingError naming the value and the broken limit. */
  of(kind: ResourceKind, purpose: string): string {
    if (!PURPOSE_PATTERN.test(purpose)) {
      throw new NamingError(`Resource purpose "${purpose}" for ${kind} must be lowercase kebab-case (e.g. "order-processor")`);
    }
    const rule: NameRule = NAME_RULES[kind];
    const accountQualifier = kind === 'bucket' ? `-${this.scope.account}` : '';
    const name = `${rule.prefix}-${purpose}-${this.scope.region}-${this.scope.environmentSuffix}${accountQualifier}${rule.ending ?? ''}`;
    if (name.length > rule.maxLength) {
      throw new NamingError(`${kind} name "${name}" is ${name.length} characters; the limit is ${rule.maxLength}. Shorten the purpose "${purpose}" or the environment suffix.`);
    }
    if (!rule.pattern.test(name)) {
      throw new NamingError(`${kind} name "${name}" is invalid: allowed are ${rule.description}`);
    }
    if ((kind === 'dbCluster' || kind === 'dbInstance' || kind === 'dbParameterGroup' || kind === 'dbSubnetGroup') && name.includes('--')) {
      throw new NamingError(`${kind} name "${name}" is invalid: RDS identifiers cannot contain two consecutive hyphens`);
    }
    return name;
  }

  /** SSM parameter path `/trading/{suffix}/{path}`: the suffix is carried in the path. */
  parameter(path: string): string {
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(path)) {
      throw new NamingError(`SSM parameter path "${path}" must be lowercase segments separated by "/"`);
    }
    return `/trading/${this.scope.environmentSuffix}/${path}`;
  }

  /** Log group name `/trading/{suffix}/{kind}/{name}`, so every group of an environment shares one prefix. */
  logGroup(kind: string, name: string): string {
    const value = `/trading/${this.scope.environmentSuffix}/${kind}/${name}`;
    if (value.length > 512 || !/^[A-Za-z0-9_/.#-]+$/.test(value)) {
      throw new NamingError(`Log group name "${value}" is invalid: up to 512 characters of letters, digits and _/.#-`);
    }
    return value;
  }

  /** Prefix shared by every parameter of this environment, for IAM scoping. */
  get parameterPrefix(): string {
    return `/trading/${this.scope.environmentSuffix}`;
  }

  get environmentSuffix(): string {
    return this.scope.environmentSuffix;
  }
}
