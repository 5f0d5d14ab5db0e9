/**
 * Texts the docs quote from the code are the code's own words: an operator searching orders.reject_reason or the
 * audit log for what the runbook says must find it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TRADING_DISABLED_REASON } from '../../../lambda/order-processor/decide';

const ROOT = path.join(__dirname, '..', '..', '..');
const DOCS = [...fs.readdirSync(path.join(ROOT, 'docs')).map((name) => path.join('docs', name)), 'README.md'].filter((file) => file.endsWith('.md'));
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('the kill switch\'s reject reason', () => {
  it('is quoted word for word where the runbook and the architecture explain the kill switch', () => {
    expect(read('docs/runbook.md')).toContain(`"${TRADING_DISABLED_REASON}"`);
    expect(read('docs/architecture.md')).toContain(`"${TRADING_DISABLED_REASON}"`);
  });

  it('is the only quoted kill-switch or trading-disabled text in any doc', () => {
    const quoted = DOCS.flatMap((file) => [...read(file).matchAll(/"([^"\n]*(?:kill switch|trading (?:is )?disabled)[^"\n]*)"/gi)].map((match) => `${file}: ${match[1]}`));
    expect(quoted.length).toBeGreaterThanOrEqual(2);
    expect(quoted.filter((entry) => !entry.endsWith(`: ${TRADING_DISABLED_REASON}`))).toEqual([]);
  });
});
