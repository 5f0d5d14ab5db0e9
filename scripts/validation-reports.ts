/**
 * Splits the validation report aws-cdk-lib writes at synth (cdk.out/validation-report.json, every policy engine) into
 * one report per engine for reviewers, and prints one summary line per engine. Exit 0 always: the synth decides.
 * Usage: npx ts-node --transpile-only scripts/validation-reports.ts [cdk.out] [reports]
 */
import * as fs from 'fs';
import * as path from 'path';
import { GUARD_PLUGIN_NAME } from '../lib/compliance/control-tower-guard';

/** The plugin names (the report's `pluginName`) of each engine: cdk-nag's two packs, and the Control Tower guard. */
export const ENGINE_PLUGINS = {
  'cdk-nag': ['AwsSolutions', 'Serverless'],
  'cfn-guard': [GUARD_PLUGIN_NAME],
} as const;

export type Engine = keyof typeof ENGINE_PLUGINS;

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: readonly unknown[];
  readonly suppressedViolations?: readonly unknown[];
}

export interface ValidationReport {
  readonly version?: string;
  readonly title?: string;
  readonly pluginReports: readonly PluginReport[];
}

export interface EngineReport extends ValidationReport {
  readonly engine: Engine;
  /** `failure` when any of the engine's plugins failed; a plugin with nothing to report has no entry (aws-cdk-lib omits it). */
  readonly conclusion: 'success' | 'failure';
  readonly unacknowledged: number;
  readonly acknowledged: number;
}

/** The part of `report` that belongs to `engine`, with its counts. */
export function engineReport(report: ValidationReport, engine: Engine): EngineReport {
  const names: readonly string[] = ENGINE_PLUGINS[engine];
  const pluginReports = report.pluginReports.filter((plugin) => names.includes(plugin.pluginName));
  return {
    version: report.version,
    title: `${report.title ?? 'Validation Report'}: ${engine}`,
    engine,
    conclusion: pluginReports.some((plugin) => plugin.conclusion !== 'success') ? 'failure' : 'success',
    unacknowledged: pluginReports.reduce((sum, plugin) => sum + plugin.violations.length, 0),
    acknowledged: pluginReports.reduce((sum, plugin) => sum + (plugin.suppressedViolations?.length ?? 0), 0),
    pluginReports,
  };
}

function main(): void {
  const assembly = process.argv[2] ?? 'cdk.out';
  const reports = process.argv[3] ?? 'reports';
  const source = path.join(assembly, 'validation-report.json');
  if (!fs.existsSync(source)) {
    console.log(`No ${source}: the synth stopped before validation; see the synth log.`);
    return;
  }
  const report = JSON.parse(fs.readFileSync(source, 'utf8')) as ValidationReport;
  fs.mkdirSync(reports, { recursive: true });
  for (const engine of Object.keys(ENGINE_PLUGINS) as Engine[]) {
    const split = engineReport(report, engine);
    fs.writeFileSync(path.join(reports, `${engine}-validation-report.json`), `${JSON.stringify(split, undefined, 2)}\n`);
    console.log(`${engine}: ${split.conclusion}, ${split.unacknowledged} unacknowledged finding(s), ${split.acknowledged} acknowledged (${reports}/${engine}-validation-report.json)`);
  }
}

if (require.main === module) main();
