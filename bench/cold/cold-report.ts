import type { ColdSummary } from './cold-stats';

function fmt(ms: number, digits = 0): string {
  return Number.isFinite(ms) ? ms.toFixed(digits) : '-';
}

/** A fixed-width table: configuration, median, p90, p90/median, peak RSS, then each phase's median and any extra columns. */
export function formatColdTable(rows: readonly ColdSummary[], phases: readonly string[]): string {
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const header = ['configuration', 'median ms', 'p90 ms', 'p90/med', 'RSS MB', 'fail', ...phases, ...extraKeys];
  const body = rows.map((r) => [
    r.id, fmt(r.medianMs), fmt(r.p90Ms), fmt(r.p90Ms / r.medianMs, 2), fmt(r.peakRssMb), String(r.failed),
    ...phases.map((p) => fmt(r.phaseMedians[p] ?? 0)),
    ...extraKeys.map((k) => fmt(r.extra?.[k] ?? Number.NaN, k.includes('$') ? 3 : 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same table as Markdown, for BENCHMARKS.md. */
export function formatColdMarkdown(rows: readonly ColdSummary[], phases: readonly string[]): string {
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const header = ['configuration', 'median ms', 'p90 ms', 'p90/med', 'peak RSS MB', ...phases, ...extraKeys];
  const out = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) {
    out.push(`| ${[r.id + (r.failed ? ` (${r.failed} failed)` : ''), fmt(r.medianMs), fmt(r.p90Ms), fmt(r.p90Ms / r.medianMs, 2), fmt(r.peakRssMb),
      ...phases.map((p) => fmt(r.phaseMedians[p] ?? 0)), ...extraKeys.map((k) => fmt(r.extra?.[k] ?? Number.NaN, k.includes('$') ? 3 : 0))].join(' | ')} |`);
  }
  return out.join('\n');
}
