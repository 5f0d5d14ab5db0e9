/**
 * Test helpers that build the real app the way `cdk synth` does (cdk.json feature flags, cdk-nag registered),
 * but without esbuild bundling, and collect every synthesized template, including those inside stages.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AppConfig, EnvironmentConfig, loadAppConfig } from '../../lib/config';
import { registerPolicyEngines } from '../../lib/compliance/policy-engines';
import { TradingPlatformStage } from '../../lib/stages/trading-platform-stage';

interface CdkJson {
  readonly context: Record<string, unknown>;
}

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as CdkJson;

/** An App with the project's feature flags; bundling skipped (the CI synth bundles for real). */
export function createTestApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
}

/** The app config for a test, as `cdk synth -c environmentSuffix=...` would build it (placeholder warning muted). */
export function testConfig(suffix = 'test'): AppConfig {
  return loadAppConfig({ tryGetContext: (key) => (key === 'environmentSuffix' ? suffix : undefined) }, {}, () => undefined);
}

export interface SynthesizedStage {
  readonly app: App;
  readonly stage: TradingPlatformStage;
  readonly assembly: CloudAssembly;
  readonly data: Template;
}

/** Synthesizes one TradingPlatformStage with cdk-nag on; throws if any finding is unacknowledged. */
export function synthesizeStage(config: EnvironmentConfig = testConfig().sandbox): SynthesizedStage {
  const app = createTestApp();
  registerPolicyEngines(app);
  const stage = new TradingPlatformStage(app, 'Test', { config });
  const assembly = app.synth();
  return { app, stage, assembly, data: Template.fromStack(stage.dataStack) };
}

export interface SynthesizedTemplate {
  readonly stackName: string;
  readonly template: CloudFormationTemplate;
}

export interface CloudFormationResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  readonly Resources: Record<string, CloudFormationResource>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Outputs?: Record<string, unknown>;
}

/** Every stack template in an assembly and, recursively, in the assemblies of its stages. */
export function allTemplates(assembly: CloudAssembly): SynthesizedTemplate[] {
  const own = assembly.stacks.map((stack) => ({ stackName: stack.stackName, template: stack.template as CloudFormationTemplate }));
  return [...own, ...assembly.nestedAssemblies.flatMap((nested) => allTemplates(nested.nestedAssembly))];
}
