/**
 * The runtimes every CodeBuild step selects exist on the image the pipeline names and satisfy what package.json and
 * every installed package declare in `engines`; the CDK CLI pin comes from package.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CODEBUILD_STANDARD_7_0 } from '../../support/aws-contracts/codebuild-image';
import { BUILD_IMAGE, CDK_CLI_VERSION, NODE_RUNTIME_MAJOR, PYTHON_RUNTIME, exactDevDependency } from '../../../lib/pipeline/toolchain';

interface PackageManifest {
  readonly engines?: { readonly node?: string };
  readonly devDependencies: Record<string, string>;
}
interface PackageLock {
  readonly packages: Record<string, { readonly engines?: { readonly node?: string } | readonly string[] }>;
}

const root = path.join(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageManifest;
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as PackageLock;

type Version = readonly [number, number, number];
const parse = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
  return [major, minor, patch];
};
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** npm's range grammar as far as the installed packages use it: `||`, `>= <= > <`, `^`, `~`, `x`/`*` partials. */
function satisfies(version: string, range: string): boolean {
  const actual = parse(version);
  return range.split('||').some((alternative) => {
    const comparators = alternative.trim().replace(/(>=|<=|>|<|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return comparators.every((comparator) => {
      const match = /^(>=|<=|>|<|\^|~)?v?(\*|x|\d+(?:\.(?:\d+|x|\*))*)$/.exec(comparator);
      if (!match) throw new Error(`engines range "${range}" uses a form this test does not read: "${comparator}"`);
      const [, operator = '', target = ''] = match;
      if (target === '*' || target === 'x') return true;
      const given = target.split('.').filter((part) => /^\d+$/.test(part)).length;
      const floor = parse(target);
      const major = floor[0];
      switch (operator) {
        case '>=': return compare(actual, floor) >= 0;
        case '>': return compare(actual, floor) > 0;
        case '<': return compare(actual, floor) < 0;
        case '<=': return compare(actual, floor) <= 0;
        case '^': return compare(actual, floor) >= 0 && actual[0] === major;
        case '~': return compare(actual, floor) >= 0 && actual[0] === major && (given < 2 || actual[1] === floor[1]);
        default: return given === 1 ? actual[0] === major : given === 2 ? actual[0] === major && actual[1] === floor[1] : compare(actual, floor) === 0;
      }
    });
  });
}

const nodeOnImage = CODEBUILD_STANDARD_7_0.runtimes.nodejs.versions[String(NODE_RUNTIME_MAJOR)];

describe('pipeline toolchain', () => {
  it('builds on the image the fixture describes', () => {
    expect(BUILD_IMAGE.imageId).toBe(CODEBUILD_STANDARD_7_0.name);
  });

  it('selects a Node.js major the image offers, unlike its default', () => {
    expect(nodeOnImage).toBeDefined();
    expect(satisfies(CODEBUILD_STANDARD_7_0.runtimes.nodejs.defaultVersion, manifest.engines?.node ?? '')).toBe(false);
  });

  it('satisfies package.json engines and the engines of every installed package', () => {
    const version = nodeOnImage ?? '';
    expect(manifest.engines?.node).toBe('>=20');
    expect(satisfies(version, manifest.engines?.node ?? '')).toBe(true);
    const unmet = Object.entries(lock.packages)
      .map(([name, entry]) => [name, Array.isArray(entry.engines) ? undefined : (entry.engines as { node?: string } | undefined)?.node] as const)
      .filter((pair): pair is readonly [string, string] => pair[1] !== undefined && !satisfies(version, pair[1]));
    expect(unmet).toEqual([]);
  });

  it('reads the ranges the way npm does', () => {
    expect(satisfies('24.14.0', '20 || >=22')).toBe(true);
    expect(satisfies('21.0.0', '20 || >=22')).toBe(false);
    expect(satisfies('18.20.8', '>= 20.0.0')).toBe(false);
    expect(satisfies('24.14.0', '^14.15.0 || ^16.10.0 || >=18.0.0')).toBe(true);
    expect(satisfies('24.14.0', '6.* || 8.* || >= 10.*')).toBe(true);
    expect(satisfies('24.14.0', '^18.12.0')).toBe(false);
  });

  it('selects a Python the image offers', () => {
    expect(CODEBUILD_STANDARD_7_0.runtimes.python.versions[PYTHON_RUNTIME]).toBeDefined();
  });

  it('pins the CDK CLI to the exact aws-cdk version of package.json', () => {
    expect(CDK_CLI_VERSION).toBe(manifest.devDependencies['aws-cdk']);
    expect(CDK_CLI_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('refuses a range or a missing devDependency, naming the field and the value', () => {
    expect(() => exactDevDependency({ 'aws-cdk': '^2.1148.1' }, 'aws-cdk')).toThrow('package.json devDependencies.aws-cdk="^2.1148.1": expected an exact version');
    expect(() => exactDevDependency({}, 'aws-cdk')).toThrow('package.json devDependencies.aws-cdk=undefined');
  });
});
