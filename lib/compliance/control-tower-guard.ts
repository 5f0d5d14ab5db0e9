/**
 * The AWS Control Tower proactive controls as a synth-time policy engine: the cfn-guard rules that
 * @cdklabs/cdk-validator-cfnguard bundles, run by its bundled cfn-guard binary over every synthesized template.
 */
import * as fs from 'fs';
import * as path from 'path';
import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolation } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';

/**
 * Name of the engine in the validation report, and so the namespace of its acknowledgement ids
 * (`cdk-validator-cfnguard::<guard rule name>`, see lib/compliance/guard-acknowledgements.ts).
 */
export const GUARD_PLUGIN_NAME = 'cdk-validator-cfnguard';

/** The Control Tower rule files inside the package (one `.guard` file per control, e.g. `sqs/ct-sqs-pr-1.guard`). */
const CONTROL_TOWER_RULES_DIRECTORY = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');

/** cfn-guard's JSON output for our largest templates is several MB; Node's default 1 MB buffer would kill it. */
const GUARD_OUTPUT_BUFFER_BYTES = 64 * 1024 * 1024;

/** Every CloudFormation type a rule names (its `let X = "AWS::S3::Bucket"` constants and literals). */
const RESOURCE_TYPE_LITERAL = /["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g;

export interface GuardRuleFile {
  readonly path: string;
  /** CloudFormation types the rule mentions; empty when it mentions none (then it runs on every template). */
  readonly resourceTypes: ReadonlySet<string>;
}

function ruleFilesIn(directory: string): GuardRuleFile[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return ruleFilesIn(full);
    if (!entry.name.endsWith('.guard')) return [];
    const resourceTypes = new Set([...fs.readFileSync(full, 'utf8').matchAll(RESOURCE_TYPE_LITERAL)].map((match) => match[1] ?? ''));
    return [{ path: full, resourceTypes }];
  });
}

/**
 * The rules that can find anything in a template holding `templateTypes`. Each Control Tower rule selects its
 * resources with `Resources.*[ Type == <a type it names> ]` and passes (SKIP) when that selection is empty, so a rule
 * none of whose named types is in the template cannot fail it. Running only the others gives the same findings in a
 * fraction of the time: cfn-guard's cost grows with rules x template size (docs/performance.md, "Synth").
 */
export function applicableRules(rules: readonly GuardRuleFile[], templateTypes: ReadonlySet<string>): GuardRuleFile[] {
  return rules.filter((rule) => rule.resourceTypes.size === 0 || [...rule.resourceTypes].some((type) => templateTypes.has(type)));
}

interface TemplateResources {
  readonly Resources?: Record<string, { readonly Type?: string }>;
}

function resourceTypesOf(templatePath: string): Set<string> {
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as TemplateResources;
  return new Set(Object.values(template.Resources ?? {}).flatMap((resource) => (resource.Type ? [resource.Type] : [])));
}

/**
 * Default settings: every Control Tower proactive control the package bundles, none disabled; each template is checked
 * by one cfn-guard run with the rules that apply to its resource types. Findings are acknowledged per resource, never
 * by disabling a rule (lib/compliance/guard-acknowledgements.ts).
 */
export class ControlTowerGuard implements IPolicyValidationPlugin {
  public readonly name = GUARD_PLUGIN_NAME;
  public readonly version: string;
  private readonly rules: readonly GuardRuleFile[];

  constructor() {
    this.rules = ruleFilesIn(CONTROL_TOWER_RULES_DIRECTORY);
    if (this.rules.length === 0) throw new Error(`No Control Tower guard rules under ${CONTROL_TOWER_RULES_DIRECTORY}: the package layout changed`);
    this.version = new CfnGuardValidator().version ?? '0.0.0';
  }

  /** How many Control Tower rule files the engine holds (all of them run where their resource types occur). */
  get ruleCount(): number {
    return this.rules.length;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    let success = true;
    for (const templatePath of context.templatePaths) {
      const rules = applicableRules(this.rules, resourceTypesOf(templatePath));
      if (rules.length === 0) continue;
      const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: rules.map((rule) => rule.path), maxBuffer: GUARD_OUTPUT_BUFFER_BYTES });
      const report = validator.validate({ templatePaths: [templatePath], appConstruct: context.appConstruct });
      success &&= report.success;
      // The validator sets no severity; aws-cdk-lib counts only error and fatal violations as failures once any finding is
      // acknowledged, so an unacknowledged finding without one would pass.
      violations.push(...report.violations.map((violation) => ({ ...violation, severity: violation.severity ?? 'error' })));
    }
    return { success, violations };
  }
}
