/**
 * docs/requirements-traceability.md cannot go stale unnoticed: every path it names exists in this repository, every
 * test title it quotes is in the test file it points to, and it links nothing outside the repository.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..', '..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'requirements-traceability.md'), 'utf8');

/** The doc's rule: a path ending in `.test.ts` is relative to `test/` unless it starts there; others to the root. */
function resolveDocPath(docPath: string): string {
  const fromRoot = docPath.endsWith('.test.ts') && !docPath.startsWith('test/') ? `test/${docPath}` : docPath;
  return path.join(ROOT, fromRoot);
}

/** The files a doc path stands for: itself, or the files a `*` in its last segment matches. */
function filesOf(docPath: string): string[] {
  const resolved = resolveDocPath(docPath);
  if (!resolved.includes('*')) return fs.existsSync(resolved) ? [resolved] : [];
  const dir = path.dirname(resolved);
  if (dir.includes('*') || !fs.existsSync(dir)) return [];
  const pattern = new RegExp(`^${path.basename(resolved).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return fs.readdirSync(dir).filter((name) => pattern.test(name)).map((name) => path.join(dir, name));
}

/**
 * Backticked text that is a path into the repository (not an SSM path, a log group or a config key): one under a
 * top-level directory, or any test file name, which must then resolve by the doc's rule (a bare `db.test.ts` does not).
 */
const REPO_PATH = /^(?:\.github|bench|bin|docs|lambda|lib|scripts|test)\/[\w.*/-]*$/;
const TEST_FILE = /^[\w.*/-]+\.test\.ts$/;
const namedPaths = [...DOC.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] ?? '').filter((text) => REPO_PATH.test(text) || TEST_FILE.test(text));

const abbreviations = new Map([...DOC.matchAll(/\*\*(\w+)\*\*\s*=\s*`([^`]+)`/g)].map((match) => [match[1] ?? '', match[2] ?? '']));

/** A test file's source with `\'` unescaped, as a title reads in the doc. */
const sourceOf = (file: string): string => fs.readFileSync(file, 'utf8').replace(/\\'/g, "'");

/** A quoted title, with the doc's `…` (an elided start or end) removed. */
const fragment = (quoted: string): string => quoted.replace(/^…|…$/g, '');

interface TitleReference {
  readonly where: string;
  readonly files: readonly string[];
  readonly title: string;
}

/** `abbr › "title", "title"` and `` `path` › "title" `` or `` `path` ("title", ...) `` in the test column. */
function titleReferences(): TitleReference[] {
  const references: TitleReference[] = [];
  const quotedList = /((?:"[^"\n]*"(?:, )?)+)/.source;
  for (const match of DOC.matchAll(new RegExp(`\\b(\\w+) › ${quotedList}`, 'g'))) {
    const target = abbreviations.get(match[1] ?? '');
    if (target === undefined) continue;
    for (const title of (match[2] ?? '').matchAll(/"([^"\n]*)"/g)) references.push({ where: `${match[1]} ›`, files: filesOf(target), title: fragment(title[1] ?? '') });
  }
  for (const match of DOC.matchAll(new RegExp(`\`([^\`\\n]+\\.test\\.ts)\` (?:› |\\()${quotedList}`, 'g'))) {
    for (const title of (match[2] ?? '').matchAll(/"([^"\n]*)"/g)) references.push({ where: match[1] ?? '', files: filesOf(match[1] ?? ''), title: fragment(title[1] ?? '') });
  }
  return references;
}

describe('docs/requirements-traceability.md', () => {
  it('names paths, and every one of them exists', () => {
    expect(namedPaths.length).toBeGreaterThan(40);
    expect(namedPaths.filter((docPath) => filesOf(docPath).length === 0)).toEqual([]);
  });

  it('names every test file of the abbreviations, and each exists', () => {
    expect([...abbreviations.keys()].sort()).toEqual(['config', 'data', 'gates', 'inv', 'mon', 'pipe', 'svc']);
    expect([...abbreviations.values()].filter((docPath) => filesOf(docPath).length !== 1)).toEqual([]);
  });

  it('quotes only test titles that are in the file it points to', () => {
    const references = titleReferences();
    expect(references.length).toBeGreaterThan(15);
    const missing = references
      .filter((reference) => reference.files.length === 0 || !reference.files.some((file) => sourceOf(file).includes(reference.title)))
      .map((reference) => `${reference.where} "${reference.title}"`);
    expect(missing).toEqual([]);
  });

  it('links nothing outside the repository: no relative path climbs out of it', () => {
    const outside = [...DOC.matchAll(/(?:`|\]\()(\.\.\/[^`)\s]*)/g)].map((match) => match[1]);
    expect(outside).toEqual([]);
  });
});

describe('the path rule', () => {
  it('resolves a test path under test/ and a source path from the root', () => {
    expect(path.relative(ROOT, resolveDocPath('lib/stages/data-stack.test.ts'))).toBe(path.join('test', 'lib', 'stages', 'data-stack.test.ts'));
    expect(path.relative(ROOT, resolveDocPath('test/scripts/check-destroyable.test.ts'))).toBe(path.join('test', 'scripts', 'check-destroyable.test.ts'));
    expect(path.relative(ROOT, resolveDocPath('scripts/check-destroyable.ts'))).toBe(path.join('scripts', 'check-destroyable.ts'));
  });

  it('finds nothing for a path that does not exist, and the files a glob matches', () => {
    expect(filesOf('lib/constructs/no-such-construct.ts')).toEqual([]);
    expect(filesOf('lambda/order-processor/*.test.ts').map((file) => path.basename(file))).toEqual(expect.arrayContaining(['poison.test.ts', 'decide.test.ts']));
  });
});
