/**
 * The benchmark's pure helpers: nearest-rank percentiles, summaries, units, and the Markdown table it prints.
 * No timing here: the figures themselves are measured by `npm run bench`, never asserted.
 */
import { escapeCell, formatKiB, formatMs, formatRate, percentile, renderTable, summarise, throughputPerSecond } from '../../bench/stats';

describe('percentile', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('is the nearest-rank sample, so every reported latency was really observed', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
  });

  it('makes p99 the maximum when there are fewer than 100 samples', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([7], 50)).toBe(7);
  });

  it('has no value without samples and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(/percentile must be in \(0, 100\], got 101/);
  });
});

describe('summarise', () => {
  it('sorts the samples itself and keeps the total for throughput', () => {
    const summary = summarise([30, 10, 20, 40]);
    expect(summary).toEqual({ count: 4, p50Ms: 20, p99Ms: 40, maxMs: 40, totalMs: 100 });
  });

  it('turns items over time into a rate per second', () => {
    expect(throughputPerSecond(500, 250)).toBe(2_000);
    expect(throughputPerSecond(1, 0)).toBeNaN();
  });
});

describe('units', () => {
  it('shows milliseconds with precision that suits their size', () => {
    expect(formatMs(0.4234)).toBe('0.42 ms');
    expect(formatMs(3.14)).toBe('3.1 ms');
    expect(formatMs(212.6)).toBe('213 ms');
    expect(formatMs(25_340)).toBe('25.3 s');
    expect(formatMs(Number.NaN)).toBe('n/a');
  });

  it('reads KB as 1,024 bytes, the unit of the bundle target', () => {
    expect(formatKiB(256_000)).toBe('250.0 KB');
    expect(formatKiB(286_764)).toBe('280.0 KB');
  });

  it('rounds rates with thousands separators', () => {
    expect(formatRate(4_458.6, 'orders')).toBe('4,459 orders/s');
    expect(formatRate(Number.POSITIVE_INFINITY, 'orders')).toBe('n/a');
  });
});

describe('renderTable', () => {
  const table = renderTable([
    { figure: 'Bundle order-processor', result: '280.0 KB', target: '≤ 250 KB', meetsTarget: false, method: 'esbuild | deployed settings' },
    { figure: 'Health', result: 'p50 15 ms', target: '', method: 'sequential calls\nno cache' },
    { figure: 'Synth', result: 'skipped', target: '≥ 0.7', method: 'skipped' },
  ]);
  const lines = table.split('\n');

  it('is a Markdown table: header, separator, one line per row', () => {
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\| Figure +\| Result +\| Target +\| How it was measured \|$/);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+\|-+\|$/);
  });

  it('pads every column but the last to one width, so the raw text lines up too', () => {
    const pipePositions = (line: string): number[] => [...line].flatMap((char, index) => (char === '|' && line[index - 1] !== '\\' ? [index] : []));
    const header = pipePositions(lines[0] ?? '').slice(0, 4);
    for (const line of lines.slice(2)) expect(pipePositions(line).slice(0, 4)).toEqual(header);
  });

  it('says whether a target is met, and nothing when there is no verdict', () => {
    expect(lines[2]).toContain('≤ 250 KB (MISSED)');
    expect(lines[3]).not.toMatch(/\(met\)|\(MISSED\)/);
    expect(lines[4]).toContain('| ≥ 0.7 ');
    expect(lines[4]).not.toMatch(/\(met\)|\(MISSED\)/);
  });

  it('escapes what would break a cell', () => {
    expect(escapeCell('a | b\nc')).toBe('a \\| b c');
    expect(lines[2]).toContain('esbuild \\| deployed settings');
    expect(lines[3]).toContain('sequential calls no cache');
  });
});
