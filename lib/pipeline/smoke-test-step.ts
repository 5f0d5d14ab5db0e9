/**
 * Post-deploy smoke test: places one SigV4-signed order and reads it back, using a role in the deployed stage that
 * may do nothing but `execute-api:Invoke` on that stage's order routes.
 */
import { CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';

export interface SmokeTestStepProps {
  readonly apiUrl: CfnOutput;
  readonly smokeTestRoleArn: CfnOutput;
  /** Account of the stage under test; the step may assume only the smoke-test role there. */
  readonly stageAccount: string;
  /** Name of that role (deterministic from the naming convention). */
  readonly smokeTestRoleName: string;
}

export class SmokeTestStep extends pipelines.CodeBuildStep {
  constructor(id: string, props: SmokeTestStepProps) {
    super(id, {
      envFromCfnOutputs: { API_URL: props.apiUrl, SMOKE_TEST_ROLE_ARN: props.smokeTestRoleArn },
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['bash scripts/pipeline-smoke-test.sh'],
      rolePolicyStatements: [
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [`arn:aws:iam::${props.stageAccount}:role/${props.smokeTestRoleName}`],
        }),
      ],
    });
  }
}
