/**
 * Registers the synth's two policy engines on an app (or a stage): the cdk-nag rule packs and the AWS Control Tower
 * proactive controls (cfn-guard), so a synth fails on any unacknowledged finding of either, in any stack.
 */
import { App, Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ControlTowerGuard } from './control-tower-guard';

/**
 * cdk-nag: AwsSolutions for security and well-architected basics, Serverless for Lambda/API/SQS operational rules.
 * Control Tower: the proactive controls an AWS Control Tower landing zone can enforce as CloudFormation hooks, checked
 * here at synth, so a template that such a hook would refuse never leaves the developer's machine.
 */
export function registerPolicyEngines(scope: Stage): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope), new ServerlessChecks(scope), new ControlTowerGuard());
}

/**
 * Context that makes the app itself fail on validation findings, over what the CDK CLI passes. The CLI (2.1148)
 * sets `@aws-cdk/core:failSynthOnValidationErrors=false` and then reports only the findings of the stacks it
 * selected: a bare `cdk synth` selects no stack inside a stage, so findings in the sandbox stage passed with exit 0.
 * With the flag back on, aws-cdk-lib prints the whole report and, in `process` mode, sets a non-zero exit code
 * (no stack trace): the CLI then fails with "Subprocess exited with error 1" for any selection.
 */
export const FAIL_ON_ANY_FINDING_CONTEXT = {
  '@aws-cdk/core:failSynthOnValidationErrors': true,
  '@aws-cdk/core:appMode': 'process',
} as const;

/**
 * The app `bin/app.ts` runs as the CDK CLI's subprocess: both policy engines registered, and any finding in any stack
 * fails the synth. Only for that process: `process` mode reports through the exit code, which would not fail an
 * in-process `app.synth()` (tests use `createTestApp` + `registerPolicyEngines`, where the synth throws instead).
 */
export function createValidatedApp(): App {
  const app = new App({ postCliContext: FAIL_ON_ANY_FINDING_CONTEXT });
  registerPolicyEngines(app);
  return app;
}
