/**
 * Registers the cdk-nag rule packs on an app (or a stage), so a synth fails on any unacknowledged finding
 * in any stack, including those inside stages.
 */
import { Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** AwsSolutions for security and well-architected basics; Serverless for Lambda/API/SQS operational rules. */
export function registerNagPacks(scope: Stage): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope), new ServerlessChecks(scope));
}
