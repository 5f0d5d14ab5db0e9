/**
 * The destroy check finds every kind of survivor, and finds none in the real synthesized stage.
 */
import { survivors } from '../../scripts/check-destroyable';
import { allTemplates, synthesizeStage } from '../support/cdk-app';

describe('check-destroyable', () => {
  it('reports retained, snapshotted, protected, un-emptied and self-logging resources', () => {
    const found = survivors('t.json', {
      Retained: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' },
      Snapshotted: { Type: 'AWS::RDS::DBCluster', Properties: { DeletionProtection: true } },
      Table: { Type: 'AWS::DynamoDB::Table', DeletionPolicy: 'Delete', Properties: { DeletionProtectionEnabled: true } },
      Bucket: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Delete' },
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    });
    expect(found).toEqual([
      't.json: Retained (AWS::Logs::LogGroup) has policy Retain',
      't.json: Snapshotted (AWS::RDS::DBCluster) would be snapshotted (no DeletionPolicy: Delete)',
      't.json: Snapshotted (AWS::RDS::DBCluster) has deletion protection',
      't.json: Table (AWS::DynamoDB::Table) has deletion protection',
      't.json: Fn (AWS::Lambda::Function) logs to a group it creates at run time, which a stack deletion leaves behind',
      't.json: Bucket (AWS::S3::Bucket) is not emptied on deletion, so its deletion fails',
    ]);
  });

  it('finds nothing that would survive in the trading platform stage', () => {
    const { assembly } = synthesizeStage();
    const templates = allTemplates(assembly);
    expect(templates.length).toBe(2);
    for (const { stackName, template } of templates) expect(survivors(stackName, template.Resources)).toEqual([]);
  });
});
