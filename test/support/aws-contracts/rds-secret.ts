/**
 * The master-user secret RDS creates, stores in Secrets Manager and rotates for a cluster created with
 * `ManageMasterUserPassword` (the database construct's `Credentials.fromGeneratedSecret`-free path).
 */
import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';

export interface MasterUserCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * SecretString of an RDS-managed master-user secret. AWS documents exactly two keys, `username` and `password`,
 * with no host, port, engine or dbname ("Viewing the details about a secret for a DB cluster":
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-view-db-cluster).
 * This differs from the secrets CDK's `Credentials.fromGeneratedSecret` writes and from the rotation-function format
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html), which do carry
 * the endpoint: code must not rely on those fields.
 */
export function rdsManagedSecretString(credentials: MasterUserCredentials): string {
  return JSON.stringify({ username: credentials.username, password: credentials.password });
}

/**
 * The secret's name as RDS chooses it: `rds!cluster-<uuid>` (same page). moto accepts the `!`; CreateSecret by a
 * caller could not use the reserved `rds!` prefix on AWS, so the stand-in keeps the shape with a random suffix.
 */
export function rdsManagedSecretName(): string {
  return `rds!cluster-${randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')}`;
}

/** Creates the RDS-managed secret in moto's Secrets Manager and returns its ARN. */
export async function createRdsManagedSecret(secrets: SecretsManagerClient, credentials: MasterUserCredentials): Promise<string> {
  const created = await secrets.send(
    new CreateSecretCommand({ Name: rdsManagedSecretName(), SecretString: rdsManagedSecretString(credentials) }),
  );
  if (created.ARN === undefined) throw new Error('moto created the RDS-managed secret without an ARN');
  return created.ARN;
}

/** What a rotation by RDS leaves behind: a new AWSCURRENT version with the same two keys. */
export async function rotateRdsManagedSecret(secrets: SecretsManagerClient, secretArn: string, credentials: MasterUserCredentials): Promise<void> {
  await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: rdsManagedSecretString(credentials) }));
}
