// A chart as a list of drawing primitives in pixel coordinates, so the same layout renders to SVG
// (svg.ts) and to a PNG raster (raster.ts). Also the axis arithmetic: nice tick values.

export type Color = readonly [number, number, number];

export type Shape =
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; color: Color; width: number; dashed?: boolean }
  | { kind: 'polyline'; points: [number, number][]; color: Color; width: number }
  | { kind: 'circle'; x: number; y: number; r: number; color: Color }
  | { kind: 'text'; x: number; y: number; text: string; size: number; color: Color; anchor: 'start' | 'middle' | 'end' };

export interface Scene {
  width: number;
  height: number;
  background: Color;
  shapes: Shape[];
}

export const PALETTE: Color[] = [
  [31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14], [140, 86, 75], [23, 190, 207],
];
export const INK: Color = [40, 40, 40];
export const GRID: Color = [225, 225, 225];

/** About `count` round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  // The smallest 1-2-5 step giving at most about 1.3 x count ticks.
  const raw = ((hi - lo) / count) * 0.75;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) as number;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Maps data ranges onto a pixel rectangle (y grows downwards). */
export class Axes {
  constructor(
    readonly x: number, readonly y: number, readonly w: number, readonly h: number,
    readonly xmin: number, readonly xmax: number, readonly ymin: number, readonly ymax: number,
  ) {}
  px(v: number): number {
    return this.x + ((v - this.xmin) / (this.xmax - this.xmin || 1)) * this.w;
  }
  py(v: number): number {
    return this.y + this.h - ((v - this.ymin) / (this.ymax - this.ymin || 1)) * this.h;
  }
}

/** Frame, grid, ticks and labels of a panel; returns the axes for plotting into it. */
export function drawAxes(
  shapes: Shape[], box: { x: number; y: number; w: number; h: number }, xr: [number, number], yr: [number, number],
  labels: { title: string; x: string; y?: string },
): Axes {
  const xt = niceTicks(xr[0], xr[1]);
  const yt = niceTicks(yr[0], yr[1]);
  const a = new Axes(box.x, box.y, box.w, box.h, Math.min(xt[0], xr[0]), Math.max(xt[xt.length - 1], xr[1]),
    Math.min(yt[0], yr[0]), Math.max(yt[yt.length - 1], yr[1]));
  for (const t of xt) {
    const px = a.px(t);
    shapes.push({ kind: 'line', x1: px, y1: box.y, x2: px, y2: box.y + box.h, color: GRID, width: 1 });
    shapes.push({ kind: 'text', x: px, y: box.y + box.h + 18, text: formatTick(t), size: 12, color: INK, anchor: 'middle' });
  }
  for (const t of yt) {
    const py = a.py(t);
    shapes.push({ kind: 'line', x1: box.x, y1: py, x2: box.x + box.w, y2: py, color: GRID, width: 1 });
    shapes.push({ kind: 'text', x: box.x - 6, y: py + 4, text: formatTick(t), size: 12, color: INK, anchor: 'end' });
  }
  const frame: [number, number][] = [[box.x, box.y], [box.x + box.w, box.y], [box.x + box.w, box.y + box.h], [box.x, box.y + box.h], [box.x, box.y]];
  shapes.push({ kind: 'polyline', points: frame, color: INK, width: 1 });
  shapes.push({ kind: 'text', x: box.x + box.w / 2, y: box.y - 12, text: labels.title, size: 14, color: INK, anchor: 'middle' });
  shapes.push({ kind: 'text', x: box.x + box.w / 2, y: box.y + box.h + 38, text: labels.x, size: 12, color: INK, anchor: 'middle' });
  if (labels.y) shapes.push({ kind: 'text', x: box.x, y: box.y - 30, text: labels.y, size: 12, color: INK, anchor: 'start' });
  return a;
}
