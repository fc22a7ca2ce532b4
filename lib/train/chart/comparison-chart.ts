// The comparison chart as a vega-lite spec (lib/chart/render.ts draws it): validation loss against
// step (one line per optimizer) and final validation loss against optimizer-state memory (one
// point per optimizer), side by side, with one legend for both. Each optimizer has a colour and a
// point shape of its own; the points carry no text labels, which could collide when two
// optimizers end close together: the legend names them.
import { CHART_FONT, ChartSpec } from '../../chart/render';

export interface ChartSeries {
  name: string;
  /** [step, validation loss] */
  curve: [number, number][];
  stateBytes: number;
  finalLoss: number;
}

const MIB = 1024 * 1024;

// Tableau's category10 (the first seven were the hand chart's colours, in its order).
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#e377c2', '#7f7f7f', '#bcbd22'];
export const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'triangle-down', 'cross', 'triangle-right', 'triangle-left'];

export const PANEL_TITLES = ['validation loss vs step', 'final validation loss vs optimizer state'] as const;

export function comparisonSpec(series: readonly ChartSeries[], title: string): ChartSpec {
  const names = series.map((s) => s.name);
  // One scale for both panels: an optimizer has the same colour and shape in each, in the legend's order.
  const color = {
    field: 'optimizer', type: 'nominal', title: 'optimizer',
    scale: { domain: names, range: names.map((_, i) => PALETTE[i % PALETTE.length]) },
  } as const;
  const shape = { ...color, scale: { domain: names, range: names.map((_, i) => SHAPES[i % SHAPES.length]) } } as const;
  const panel = { width: 400, height: 280 };
  // Pixels kept clear at both ends of a loss axis, so that a point at the lowest or highest loss is
  // drawn clear of the axis line (not on the state axis: it starts at 0, padding would add negatives).
  const inset = 12;
  return {
    title: { text: title, fontSize: 15, anchor: 'middle', offset: 12 },
    background: 'white',
    padding: 12,
    config: {
      font: CHART_FONT,
      axis: { labelFontSize: 11, titleFontSize: 12 },
      // A label on a panel's top edge is drawn below its tick rather than centred on it: vega puts a
      // panel's title above everything the panel draws, so a label reaching above one panel and not
      // the other would set the two titles at different heights.
      axisY: { labelFlush: true },
      legend: { labelFontSize: 12, titleFontSize: 12 },
    },
    hconcat: [
      {
        ...panel,
        title: PANEL_TITLES[0],
        data: { values: series.flatMap((s) => s.curve.map(([step, loss]) => ({ optimizer: s.name, step, loss }))) },
        mark: { type: 'line', strokeWidth: 2, point: { size: 30, filled: true } },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step', scale: { zero: true } },
          y: { field: 'loss', type: 'quantitative', title: 'validation loss', scale: { zero: false, padding: inset } },
          color,
          shape,
        },
      },
      {
        ...panel,
        title: PANEL_TITLES[1],
        data: { values: series.map((s) => ({ optimizer: s.name, stateMiB: s.stateBytes / MIB, loss: s.finalLoss })) },
        mark: { type: 'point', filled: true, size: 110, opacity: 1 },
        encoding: {
          x: { field: 'stateMiB', type: 'quantitative', title: 'optimizer state (MiB)', scale: { zero: true } },
          y: { field: 'loss', type: 'quantitative', title: 'final validation loss', scale: { zero: false, padding: inset } },
          color,
          shape,
        },
      },
    ],
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  };
}
