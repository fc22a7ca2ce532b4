// The comparison chart: validation loss against steps (one line per optimizer) and the final
// validation loss against optimizer-state memory (one point per optimizer), side by side.
import { drawAxes, INK, PALETTE, Scene, Shape } from './scene';

export interface ChartSeries {
  name: string;
  /** [step, validation loss] */
  curve: [number, number][];
  stateBytes: number;
  finalLoss: number;
}

const MIB = 1024 * 1024;

export function comparisonScene(series: ChartSeries[], title: string): Scene {
  const shapes: Shape[] = [];
  const width = 1060;
  const height = 440;
  shapes.push({ kind: 'text', x: width / 2, y: 24, text: title, size: 16, color: INK, anchor: 'middle' });

  const steps = series.flatMap((s) => s.curve.map((p) => p[0]));
  const losses = series.flatMap((s) => s.curve.map((p) => p[1]));
  const left = drawAxes(
    shapes, { x: 80, y: 80, w: 400, h: 280 }, [0, Math.max(1, ...steps)], [Math.min(...losses), Math.max(...losses)],
    { title: 'validation loss vs step', x: 'step' },
  );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = s.curve.map(([x, y]) => [left.px(x), left.py(y)] as [number, number]);
    if (points.length > 1) shapes.push({ kind: 'polyline', points, color, width: 2 });
    for (const [x, y] of points) shapes.push({ kind: 'circle', x, y, r: 2.5, color });
  });

  const mib = series.map((s) => s.stateBytes / MIB);
  const finals = series.map((s) => s.finalLoss);
  // Room above and below the points for their labels.
  const spread = Math.max(...finals) - Math.min(...finals) || Math.abs(finals[0]) * 0.1 || 1;
  const right = drawAxes(
    shapes, { x: 600, y: 80, w: 400, h: 280 }, [0, Math.max(...mib) * 1.1 || 1],
    [Math.min(...finals) - 0.05 * spread, Math.max(...finals) + 0.1 * spread],
    { title: 'final validation loss vs optimizer state', x: 'optimizer state (MiB)' },
  );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const x = right.px(mib[i]);
    const y = right.py(finals[i]);
    shapes.push({ kind: 'circle', x, y, r: 5, color });
    shapes.push({ kind: 'text', x: x + 8, y: y - 6, text: s.name, size: 12, color, anchor: 'start' });
  });

  // Legend under the left panel.
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const x = 80 + (i % 5) * 100;
    const y = 425 - Math.floor(i / 5) * 18;
    shapes.push({ kind: 'line', x1: x, y1: y - 5, x2: x + 20, y2: y - 5, color, width: 3 });
    shapes.push({ kind: 'text', x: x + 26, y, text: s.name, size: 12, color: INK, anchor: 'start' });
  });
  return { width, height, background: [255, 255, 255], shapes };
}
