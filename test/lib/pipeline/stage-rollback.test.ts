/**
 * rollBackStageOnFailure on a small CodePipeline: it sets OnFailure ROLLBACK on the named stage only, and refuses the
 * pipelines CodePipeline cannot roll back (V1, PARALLEL mode, a source stage), naming what is wrong.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { rollBackStageOnFailure } from '../../../lib/pipeline/stage-rollback';

function pipelineOf(props: Partial<codepipeline.PipelineProps> = {}): { stack: Stack; pipeline: codepipeline.Pipeline } {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
  const source = new codepipeline.Artifact('Source');
  const pipeline = new codepipeline.Pipeline(stack, 'Pipeline', {
    pipelineType: codepipeline.PipelineType.V2,
    ...props,
    stages: [
      { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Source', bucket: new s3.Bucket(stack, 'Bucket', { versioned: true }), bucketKey: 'source.zip', output: source })] },
      { stageName: 'Staging', actions: [new actions.ManualApprovalAction({ actionName: 'Approve' })] },
      { stageName: 'Prod', actions: [new actions.ManualApprovalAction({ actionName: 'Approve' })] },
    ],
  });
  return { stack, pipeline };
}

describe('rollBackStageOnFailure', () => {
  it('rolls back only the named stage when it fails', () => {
    const { stack, pipeline } = pipelineOf();

    rollBackStageOnFailure(pipeline, 'Prod');

    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'));
    const stages = resource?.Properties.Stages as { Name: string; OnFailure?: unknown }[];
    expect(stages.map((stage) => [stage.Name, stage.OnFailure ?? null])).toEqual([
      ['Source', null],
      ['Staging', null],
      ['Prod', { Result: 'ROLLBACK' }],
    ]);
  });

  it.each<[string, Partial<codepipeline.PipelineProps>, string, RegExp]>([
    ['a V1 pipeline', { pipelineType: codepipeline.PipelineType.V1 }, 'Prod', /rollBackStageOnFailure\(Prod\): PipelineType="V1"; stage rollback needs V2/],
    ['PARALLEL mode', { executionMode: codepipeline.ExecutionMode.PARALLEL }, 'Prod', /ExecutionMode=PARALLEL; stage rollback is not available in that mode/],
    ['an unknown stage', {}, 'Production', /no stage "Production" in Source, Staging, Prod/],
    ['the source stage', {}, 'Source', /CodePipeline cannot roll back a source stage/],
  ])('refuses %s', (_case, props, stageName, message) => {
    const { pipeline } = pipelineOf(props);
    expect(() => rollBackStageOnFailure(pipeline, stageName)).toThrow(message);
  });
});
