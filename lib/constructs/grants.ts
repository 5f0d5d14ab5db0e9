/**
 * Exact-action grants for the few cases where aws-cdk-lib's grant methods would add wildcard KMS actions
 * (`kms:GenerateDataKey*`, `kms:ReEncrypt*`) or `function:*` ARNs. Identity policies only, so a grantee in the
 * service stack never lands in the data stack's key policy (which would create a cross-stack cycle).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** kms:Decrypt and kms:GenerateDataKey on the key, only when called through `service` (e.g. `sqs`, `sns`, `dynamodb`). */
export function grantKeyUseVia(grantee: iam.IGrantable, key: kms.IKey, service: string, sid: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` } },
    }),
  );
}

/** sqs:SendMessage on one KMS-encrypted queue. */
export function grantSendToQueue(grantee: iam.IGrantable, queue: sqs.IQueue, key: kms.IKey, sid: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  grantKeyUseVia(grantee, key, 'sqs', `${sid}Kms`);
}

/** lambda:InvokeFunction on the function itself (not its versions and aliases). */
export function grantInvokeFunction(grantee: iam.IGrantable, fn: lambda.IFunction, sid: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
}
