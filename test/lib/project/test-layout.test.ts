/**
 * The test layout keeps its promises: infrastructure tests run without local services, and no handler test stops
 * the run's shared PostgreSQL (which would fail other jest workers' tests).
 */
import * as fs from 'fs';
import * as path from 'path';

interface JestProject {
  readonly displayName: string;
  readonly roots: readonly string[];
  readonly globalSetup?: string;
}

const ROOT = path.join(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jestConfig = require(path.join(ROOT, 'jest.config.js')) as { projects: readonly JestProject[] };

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const rootsOf = (project: JestProject): string[] => project.roots.map((root) => root.replace('<rootDir>', ROOT));
const project = (name: string): JestProject => {
  const found = jestConfig.projects.find((candidate) => candidate.displayName === name);
  if (found === undefined) throw new Error(`jest.config.js has no project "${name}"`);
  return found;
};

describe('jest projects', () => {
  it('starts the local services only for the handler tests', () => {
    expect(project('infrastructure').globalSetup).toBeUndefined();
    expect(project('handlers').globalSetup).toMatch(/global-setup\.ts$/);
  });

  it('covers every test file exactly once', () => {
    const testFiles = filesUnder(path.join(ROOT, 'test')).filter((file) => file.endsWith('.test.ts'));
    const owners = (file: string): string[] =>
      jestConfig.projects.filter((candidate) => rootsOf(candidate).some((root) => file.startsWith(`${root}${path.sep}`))).map((candidate) => candidate.displayName);
    const misplaced = testFiles.filter((file) => owners(file).length !== 1).map((file) => `${path.relative(ROOT, file)}: ${owners(file).join(', ') || 'no project'}`);
    expect(misplaced).toEqual([]);
  });

  it('keeps infrastructure tests away from the local services', () => {
    const offenders = rootsOf(project('infrastructure'))
      .flatMap(filesUnder)
      .filter((file) => /support\/services['/]/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(ROOT, file));
    expect(offenders).toEqual([]);
  });

  it('stages database outages only on a server of the test file\'s own', () => {
    const services = fs.readFileSync(path.join(ROOT, 'test', 'support', 'services', 'index.ts'), 'utf8');
    // The shared server has no stop/start helper; outage tests use startOutagePostgres().
    expect(services).not.toMatch(/export (async )?function (stop|start)Postgres\b/);
    expect(services).toMatch(/export async function startOutagePostgres/);
  });
});
