/**
 * The Powertools layer's version is the one the tests ran: every @aws-lambda-powertools/* dependency pinned to one
 * exact version, installed as such, and the layer parameter named after it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pinnedPowertoolsVersion, powertoolsLayerParameterName } from '../../../lib/constructs/powertools-layer';

const ROOT = path.join(__dirname, '..', '..', '..');

function manifestWith(dependencies: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'powertools-pin-'));
  const file = path.join(dir, 'package.json');
  fs.writeFileSync(file, JSON.stringify({ dependencies }));
  return file;
}

describe('pinned Powertools version', () => {
  it('is the version installed for every Powertools package the functions use', () => {
    const version = pinnedPowertoolsVersion();
    const installed = fs
      .readdirSync(path.join(ROOT, 'node_modules', '@aws-lambda-powertools'))
      .map((name) => {
        // The packages' exports maps hide package.json from require(); read the file.
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@aws-lambda-powertools', name, 'package.json'), 'utf8')) as { version: string };
        return { name, version: manifest.version };
      });
    expect(installed.map((entry) => entry.name)).toEqual(expect.arrayContaining(['tracer', 'logger', 'metrics', 'parameters', 'batch', 'commons']));
    for (const entry of installed) expect(entry).toEqual({ name: entry.name, version });
  });

  it('names the parameter AWS publishes for that release', () => {
    expect(powertoolsLayerParameterName('2.35.0')).toBe('/aws/service/powertools/typescript/generic/all/2.35.0');
  });

  it('refuses a range or two versions, naming every Powertools dependency', () => {
    expect(() => pinnedPowertoolsVersion(manifestWith({ '@aws-lambda-powertools/tracer': '^2.35.0', pg: '8.16.3' }))).toThrow(
      /pinned to one exact version .*found @aws-lambda-powertools\/tracer@\^2\.35\.0$/,
    );
    expect(() =>
      pinnedPowertoolsVersion(manifestWith({ '@aws-lambda-powertools/tracer': '2.35.0', '@aws-lambda-powertools/logger': '2.34.0' })),
    ).toThrow(/found @aws-lambda-powertools\/tracer@2\.35\.0, @aws-lambda-powertools\/logger@2\.34\.0/);
    expect(() => pinnedPowertoolsVersion(manifestWith({ pg: '8.16.3' }))).toThrow(/has no @aws-lambda-powertools\/\* dependency/);
  });
});
