/**
 * The cost model counts billable resources from the real synthesized stage, so it follows the code.
 */
import { costLines, countResources } from '../../bench/cost-model';
import { allTemplates, synthesizeStage, testConfig } from '../support/cdk-app';

describe('cost model', () => {
  it('derives its resource counts from the synthesized templates', () => {
    const { assembly } = synthesizeStage(testConfig('cost').prod);
    const counts = countResources(allTemplates(assembly).flatMap(({ template }) => Object.values(template.Resources)));
    expect(counts).toMatchObject({
      availabilityZones: 3,
      interfaceEndpoints: 5,
      auroraInstances: 2,
      auroraMinAcu: 2,
      healthChecks: 1,
      healthCheckOptions: 3,
      kmsKeys: 1,
      managedSecrets: 1,
      webAcls: 1,
      // Order body size, common rule set, known bad inputs, per-IP rate limit.
      webAclRules: 4,
      dashboards: 1,
      compositeAlarms: 1,
    });
    expect(counts.alarmMetrics).toBeGreaterThan(30);
    const lines = costLines(counts);
    const endpoints = lines.find((line) => line.item === 'VPC interface endpoints');
    expect(endpoints?.idle).toBeCloseTo(5 * 3 * 730 * 0.01, 2);
    for (const line of lines) {
      expect(Number.isFinite(line.idle) && line.idle >= 0).toBe(true);
      expect(Number.isFinite(line.perMillionOrdersPerDay) && line.perMillionOrdersPerDay >= 0).toBe(true);
    }
  });
});
