import type { ColdSummary } from './cold-stats';

const PALETTE = ['#9aa5b1', '#4e79a7', '#76b7b2', '#f28e2b', '#e15759', '#edc948', '#59a14f', '#b07aa1', '#ff9da7'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round axis step giving about `ticks` gridlines up to `max`. */
function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

export interface ChartOptions {
  readonly title: string;
  readonly subtitle: string;
  /** Phase names in stacking order. */
  readonly phases: readonly string[];
  /** Text after each bar, e.g. "412 ms · p90 430 · 120 MB". */
  readonly label: (summary: ColdSummary) => string;
  /** Vertical reference lines, e.g. node -e 0 + 120 ms. */
  readonly markers?: ReadonlyArray<{ readonly ms: number; readonly label: string }>;
}

/**
 * Horizontal stacked bars, one row per configuration: each segment is a phase's median, a
 * thin line marks the p90 of the total. Self-contained SVG (no scripts, no external fonts).
 */
export function renderColdChart(rows: readonly ColdSummary[], options: ChartOptions): string {
  // Wide enough for the longest id at 12 px (about 6.8 px a character).
  const labelWidth = Math.max(200, Math.ceil(Math.max(0, ...rows.map((r) => r.id.length)) * 6.8) + 20);
  const plotWidth = 640;
  const rightWidth = 230;
  const rowHeight = 24;
  const top = 96;
  const width = labelWidth + plotWidth + rightWidth;
  const height = top + rows.length * rowHeight + 40;
  const maxMs = Math.max(1, ...rows.map((r) => (Number.isFinite(r.p90Ms) ? r.p90Ms : 0)), ...(options.markers ?? []).map((m) => m.ms));
  const step = niceStep(maxMs, 8);
  const axisMax = Math.ceil(maxMs / step) * step;
  const x = (ms: number) => labelWidth + (ms / axisMax) * plotWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`);
  out.push(`<text x="12" y="40" fill="#555">${escapeXml(options.subtitle)}</text>`);
  // Legend
  let lx = 12;
  options.phases.forEach((phase, i) => {
    out.push(`<rect x="${lx}" y="52" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="62">${escapeXml(phase)}</text>`);
    lx += 26 + phase.length * 6.6;
  });
  out.push(`<line x1="${lx}" y1="58" x2="${lx + 14}" y2="58" stroke="#222" stroke-width="2"/><text x="${lx + 18}" y="62">p90 of total</text>`);
  // Grid and axis
  for (let ms = 0; ms <= axisMax + 1e-9; ms += step) {
    const gx = x(ms).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${top + rows.length * rowHeight}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${gx}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#555">${ms}</text>`);
  }
  out.push(`<text x="${labelWidth + plotWidth / 2}" y="${top + rows.length * rowHeight + 32}" text-anchor="middle" fill="#555">ms from process spawn (median of each phase)</text>`);
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    if (r % 2 === 1) out.push(`<rect x="0" y="${y - 2}" width="${width}" height="${rowHeight}" fill="#f6f7f9"/>`);
    out.push(`<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(row.id)}</text>`);
    let at = 0;
    options.phases.forEach((phase, i) => {
      const ms = row.phaseMedians[phase] ?? 0;
      if (ms <= 0) return;
      out.push(`<rect x="${x(at).toFixed(1)}" y="${y + 2}" width="${Math.max(0.5, x(at + ms) - x(at)).toFixed(1)}" height="${rowHeight - 8}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(`${row.id}: ${phase} ${ms.toFixed(1)} ms`)}</title></rect>`);
      at += ms;
    });
    if (Number.isFinite(row.p90Ms)) {
      out.push(`<line x1="${x(row.p90Ms).toFixed(1)}" y1="${y}" x2="${x(row.p90Ms).toFixed(1)}" y2="${y + rowHeight - 4}" stroke="#222" stroke-width="2"/>`);
    }
    const text = row.failed === row.samples ? `all ${row.samples} samples failed` : options.label(row) + (row.failed > 0 ? ` · ${row.failed} failed` : '');
    out.push(`<text x="${labelWidth + plotWidth + 8}" y="${y + 14}">${escapeXml(text)}</text>`);
  });
  for (const marker of options.markers ?? []) {
    const mx = x(marker.ms).toFixed(1);
    out.push(`<line x1="${mx}" y1="${top - 12}" x2="${mx}" y2="${top + rows.length * rowHeight}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${mx}" y="${top - 16}" text-anchor="middle" fill="#c0392b">${escapeXml(marker.label)}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
