/**
 * Automatic stage rollback for a stage of the underlying CodePipeline: when the stage fails (deploy, health gate or
 * bake), CodePipeline rolls it back to the last execution that succeeded in that stage (a new, ROLLBACK-type execution
 * that re-deploys that execution's artifacts). CDK Pipelines creates its stages without failure conditions and the
 * L2 Stage takes them only at creation, so they are set on the CfnPipeline after `buildPipeline()`.
 */
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';

/**
 * Sets `OnFailure: { Result: ROLLBACK }` on the stage named `stageName` (CodePipeline API Reference,
 * FailureConditions; User Guide, "Configure a stage for automatic rollback"). Rollback needs a V2 pipeline ("What type
 * of pipeline is right for me?") that does not run in PARALLEL mode ("Set or change the pipeline execution mode").
 */
export function rollBackStageOnFailure(pipeline: codepipeline.Pipeline, stageName: string): void {
  const cfnPipeline = pipeline.node.defaultChild;
  if (!(cfnPipeline instanceof codepipeline.CfnPipeline)) throw new Error('aws-cdk-lib changed the layout of codepipeline.Pipeline: expected a CfnPipeline default child');
  if (cfnPipeline.pipelineType !== codepipeline.PipelineType.V2) {
    throw new Error(`rollBackStageOnFailure(${stageName}): PipelineType=${JSON.stringify(cfnPipeline.pipelineType)}; stage rollback needs V2`);
  }
  if (cfnPipeline.executionMode === codepipeline.ExecutionMode.PARALLEL) {
    throw new Error(`rollBackStageOnFailure(${stageName}): ExecutionMode=PARALLEL; stage rollback is not available in that mode`);
  }
  const index = pipeline.stages.findIndex((stage) => stage.stageName === stageName);
  if (index < 0) throw new Error(`rollBackStageOnFailure: no stage ${JSON.stringify(stageName)} in ${pipeline.stages.map((stage) => stage.stageName).join(', ')}`);
  if (index === 0) throw new Error(`rollBackStageOnFailure(${stageName}): CodePipeline cannot roll back a source stage`);
  cfnPipeline.addPropertyOverride(`Stages.${index}.OnFailure`, { Result: codepipeline.Result.ROLLBACK });
}
