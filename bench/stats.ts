/**
 * Pure helpers of the benchmark: percentiles and summaries of latency samples, throughput, units, and the one
 * Markdown table `npm run bench` prints (so the output pastes unchanged into docs/performance.md).
 */

/** Latency samples reduced to what the table shows. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Sum of every sample: the time spent inside the measured call, without the harness between calls. */
  readonly totalMs: number;
}

/**
 * Nearest-rank percentile of samples sorted ascending: the smallest sample with at least p% of samples at or below it.
 * Nearest rank (rather than interpolation) always reports a latency that was really observed; with fewer than 100
 * samples p99 is therefore the maximum, which the table says by showing the sample count.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarise(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    totalMs: sorted.reduce((sum, sample) => sum + sample, 0),
  };
}

/** Items per second over the time spent inside the measured calls. */
export function throughputPerSecond(items: number, totalMs: number): number {
  return totalMs > 0 ? (items * 1_000) / totalMs : Number.NaN;
}

/** Milliseconds with precision that suits the magnitude: 0.42 ms, 3.1 ms, 212 ms, 25.3 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** KiB with one decimal (the unit the 250 KB bundle target is read in: 1 KB = 1,024 bytes). */
export function formatKiB(bytes: number): string {
  return `${(bytes / 1_024).toFixed(1)} KB`;
}

/** A rate rounded to whole units, with thousands separators. */
export function formatRate(perSecond: number, unit: string): string {
  if (!Number.isFinite(perSecond)) return 'n/a';
  return `${Math.round(perSecond).toLocaleString('en-US')} ${unit}/s`;
}

export function formatLatency(summary: LatencySummary): string {
  return `p50 ${formatMs(summary.p50Ms)} · p99 ${formatMs(summary.p99Ms)} (n=${summary.count})`;
}

/** One line of the printed table. */
export interface TableRow {
  readonly figure: string;
  readonly result: string;
  /** Empty when the figure has no target. */
  readonly target: string;
  /** Whether the target is met; undefined when there is no target or the figure was skipped. */
  readonly meetsTarget?: boolean;
  readonly method: string;
}

const HEADERS = ['Figure', 'Result', 'Target', 'How it was measured'] as const;

/** A cell cannot hold a raw `|` or line break without breaking the Markdown table. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function targetCell(row: TableRow): string {
  if (row.target === '') return '';
  if (row.meetsTarget === undefined) return row.target;
  return `${row.target} ${row.meetsTarget ? '(met)' : '(MISSED)'}`;
}

/**
 * A Markdown table with columns padded to a common width, readable both in a terminal and rendered.
 * The method column is last and unpadded, as it is the long one.
 */
export function renderTable(rows: readonly TableRow[]): string {
  const cells = rows.map((row) => [row.figure, row.result, targetCell(row), row.method].map(escapeCell));
  const widths = HEADERS.map((header, column) =>
    column === HEADERS.length - 1 ? 0 : Math.max(header.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    `| ${values.map((value, column) => value.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const separator = `|${widths.map((width, column) => '-'.repeat((column === HEADERS.length - 1 ? 3 : width) + 2)).join('|')}|`;
  return [line(HEADERS), separator, ...cells.map(line)].join('\n');
}
