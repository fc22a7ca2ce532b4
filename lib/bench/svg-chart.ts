// Horizontal grouped bar charts as standalone SVG, for docs/benchmarks.md. No dependencies:
// the report must be reproducible wherever the bench runs.

export interface BarSeries {
  name: string;
  color: string;
  /** One value per category; null leaves a gap. */
  values: (number | null)[];
}

export interface BarChart {
  title: string;
  unit: string;
  categories: string[];
  series: BarSeries[];
  /** Logarithmic axis, for values spanning orders of magnitude. */
  log?: boolean;
  format?: (v: number) => string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChartSvg(c: BarChart): string {
  const fmt = c.format ?? ((v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2)));
  const labelW = 130;
  const plotW = 420;
  const valueW = 90;
  const barH = 12;
  const gap = 2;
  const groupGap = 10;
  const top = 40;
  const groupH = c.series.length * (barH + gap) + groupGap;
  const legendH = 20;
  const height = top + c.categories.length * groupH + legendH;
  const width = labelW + plotW + valueW;
  const all = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const max = Math.max(...all, 1e-12);
  const min = Math.min(...all, max);
  const logLo = Math.log10(min) - 0.3;
  const scale = (v: number) => {
    if (v <= 0) return 0;
    if (!c.log) return (v / max) * plotW;
    const span = Math.log10(max) - logLo || 1;
    return Math.max(1, ((Math.log10(v) - logLo) / span) * plotW);
  };
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="${labelW}" y="32" fill="#555">${esc(c.unit)}${c.log ? ' (log scale)' : ''}</text>`,
  ];
  c.categories.forEach((cat, ci) => {
    const y0 = top + ci * groupH;
    const midY = y0 + (c.series.length * (barH + gap)) / 2 + 4;
    out.push(`<text x="${labelW - 6}" y="${midY}" text-anchor="end">${esc(cat)}</text>`);
    c.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      const y = y0 + si * (barH + gap);
      const w = scale(v);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${s.color}"/>`);
      out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 2}" fill="#333">${esc(fmt(v))}</text>`);
    });
  });
  let lx = labelW;
  const ly = height - 6;
  for (const s of c.series) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly}">${esc(s.name)}</text>`);
    lx += 14 + s.name.length * 7 + 16;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
