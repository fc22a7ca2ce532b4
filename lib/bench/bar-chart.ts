// Horizontal grouped bar charts for docs/benchmarks.md, as vega-lite specs (lib/chart/render.ts
// draws them): one group of bars per category (a method), one bar per series (a dtype, or torch's),
// each bar labelled with its value at its end.
import { CHART_FONT, ChartSpec } from '../chart/render';

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

/** One bar: what the spec's data holds. */
export interface Bar {
  category: string;
  series: string;
  value: number;
  /** The value as the bar's text says it. */
  label: string;
}

export function defaultBarFormat(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v === 0 ? '0' : v.toPrecision(2);
}

/** The bars drawn: every non-null value (on a log axis, every positive one), category by category. */
export function barsOf(c: BarChart): Bar[] {
  const fmt = c.format ?? defaultBarFormat;
  const bars: Bar[] = [];
  c.categories.forEach((category, ci) => {
    for (const s of c.series) {
      const value = s.values[ci];
      if (value === null || value === undefined || !Number.isFinite(value) || (c.log && value <= 0)) continue;
      bars.push({ category, series: s.name, value, label: fmt(value) });
    }
  });
  return bars;
}

export function barChartSpec(c: BarChart): ChartSpec {
  const series = c.series.map((s) => s.name);
  return {
    title: { text: c.title, anchor: 'middle', fontSize: 13 },
    background: 'white',
    padding: 12,
    config: { font: CHART_FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 } },
    width: 420,
    // 14 px a bar (12.6 drawn, 1.4 apart): room for its 10 px label, so neighbouring labels never touch.
    height: { step: 14, for: 'offset' },
    data: { values: barsOf(c) },
    encoding: {
      y: {
        field: 'category', type: 'nominal', title: null,
        scale: { domain: c.categories, paddingInner: 0.2 }, axis: { ticks: false, domain: false, labelPadding: 6 },
      },
      yOffset: { field: 'series', type: 'nominal', scale: { domain: series, paddingInner: 0.1 } },
      x: {
        field: 'value', type: 'quantitative', stack: null,
        title: `${c.unit}${c.log ? ' (log scale)' : ''}`,
        // SI suffixes (1k, 2k) keep a log axis's decade labels short; a linear axis keeps plain numbers.
        scale: c.log ? { type: 'log' } : { zero: true },
        axis: c.log ? { grid: true, format: '~s' } : { grid: true },
      },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: { color: { field: 'series', type: 'nominal', title: null, scale: { domain: series, range: c.series.map((s) => s.color) }, legend: { orient: 'bottom', direction: 'horizontal' } } },
      },
      { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 10, color: '#333' }, encoding: { text: { field: 'label' } } },
    ],
  };
}
