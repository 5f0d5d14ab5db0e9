/**
 * Generates the architecture diagram (Mermaid) from the app itself: one box per L3 construct of each stack of a
 * TradingPlatformStage, and an arrow wherever a construct's resources reference another construct's resources.
 * `docs/architecture.md` embeds the output; a test fails when the two drift apart.
 */
import { CfnElement, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { createTestApp, testConfig } from '../test/support/cdk-app';
import { TradingPlatformStage } from '../lib/stages/trading-platform-stage';

/** Every `{Ref}`, `{Fn::GetAtt}` and cross-stack output name inside a resolved template fragment. */
function referencedLogicalIds(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) referencedLogicalIds(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string') found.add(inner[0]);
      else if (key === 'Fn::GetStackOutput' && inner && typeof inner === 'object') found.add(`output:${String((inner as { OutputName?: unknown }).OutputName)}`);
      else referencedLogicalIds(inner, found);
    }
  }
}

/** The L3 construct (direct child of the stack) a construct belongs to. */
function ownerOf(construct: IConstruct, stack: Stack): IConstruct | undefined {
  let current: IConstruct | undefined = construct;
  while (current && current.node.scope !== stack) current = current.node.scope;
  return current;
}

const nodeId = (stackId: string, constructId: string): string => `${stackId}_${constructId}`.replace(/[^A-Za-z0-9_]/g, '_');

/** The Mermaid flowchart of one stage, deterministic (sorted), without logical ids or hashes. */
export function architectureDiagram(): string {
  // The project's feature flags (cdk.json) without bundling: the diagram needs the construct tree, not the code.
  const app = createTestApp();
  const config = testConfig('diagram');
  const stage = new TradingPlatformStage(app, 'Stage', { config: config.sandbox });
  const stacks = [stage.dataStack, stage.serviceStack];
  const ownersByLogicalId = new Map<string, string>();
  const outputsByName = new Map<string, Set<string>>();
  const lines = ['flowchart LR'];
  const assembly = app.synth();
  for (const stack of stacks) {
    const owners = new Set<string>();
    for (const construct of stack.node.findAll()) {
      if (!(construct instanceof CfnElement) || Stack.of(construct) !== stack) continue;
      const owner = ownerOf(construct, stack);
      // CDK's own providers (and their adopted log groups) are plumbing, not architecture.
      // AwsCustomResource's singleton provider is named AWS + a fixed UUID (without dashes).
      if (!owner || owner === construct || /^(Custom::|Publish|cdk-|AWS[0-9a-f]{32}$)/.test(owner.node.id)) continue;
      ownersByLogicalId.set(`${stack.node.id}:${stack.resolve(construct.logicalId) as string}`, nodeId(stack.node.id, owner.node.id));
      owners.add(owner.node.id);
    }
    const template = assembly.getStackArtifact(stack.artifactId).template as { Outputs?: Record<string, { Value: unknown }> };
    for (const [name, output] of Object.entries(template.Outputs ?? {})) {
      const ids = new Set<string>();
      referencedLogicalIds(output.Value, ids);
      outputsByName.set(name, new Set([...ids].map((id) => ownersByLogicalId.get(`${stack.node.id}:${id}`)).filter((id): id is string => id !== undefined)));
    }
    lines.push(`  subgraph ${stack.node.id}["${stack.stackName}"]`);
    for (const owner of [...owners].sort()) lines.push(`    ${nodeId(stack.node.id, owner)}["${owner}"]`);
    lines.push('  end');
  }
  const edges = new Set<string>();
  for (const stack of stacks) {
    const template = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, unknown> };
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const from = ownersByLogicalId.get(`${stack.node.id}:${logicalId}`);
      if (!from) continue;
      const references = new Set<string>();
      referencedLogicalIds(resource, references);
      for (const reference of references) {
        const targets = reference.startsWith('output:')
          ? [...(outputsByName.get(reference.slice('output:'.length)) ?? [])]
          : [ownersByLogicalId.get(`${stack.node.id}:${reference}`)];
        for (const to of targets) if (to && to !== from) edges.add(`  ${from} --> ${to}`);
      }
    }
  }
  return [...lines, ...[...edges].sort()].join('\n');
}

if (require.main === module) console.log(architectureDiagram());
