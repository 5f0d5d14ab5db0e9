/**
 * The diagram in docs/architecture.md is generated from the app (scripts/architecture-diagram.ts) and must match it:
 * a construct or dependency added without regenerating the diagram fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { architectureDiagram } from '../../scripts/architecture-diagram';

let diagram: string;

// One synthesis for both tests.
beforeAll(() => {
  diagram = architectureDiagram();
});

describe('architecture diagram', () => {
  it('in docs/architecture.md matches the one generated from the app', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'architecture.md'), 'utf8');
    const embedded = /<!-- generated-diagram:start -->\n```mermaid\n([\s\S]*?)\n```\n<!-- generated-diagram:end -->/.exec(doc)?.[1];
    expect(embedded).toBeDefined();
    expect(embedded).toBe(diagram);
  });

  it('shows every L3 construct of both stacks and the cross-stack dependencies', () => {
    for (const construct of ['Data_Network', 'Data_Database', 'Data_SchemaMigrations', 'Service_Orders', 'Service_Api', 'Service_Health', 'Service_Alarms']) {
      expect(diagram).toContain(`${construct}[`);
    }
    expect(diagram).toContain('Service_Orders --> Data_Database');
    expect(diagram).toContain('Service_Api --> Service_OrderQueues');
  });
});
