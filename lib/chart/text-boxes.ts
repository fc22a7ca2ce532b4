// Where a rendered chart's texts are: vega's scenegraph walked for its visible text items, their
// bounding boxes in SVG pixels. vega measures text without a canvas by an estimate (0.8 em a
// character) wider than DejaVu Sans's real glyphs, so boxes that neither overlap nor leave the
// canvas here do not in the PNG either: the tests check every chart that way.

export interface TextBox {
  text: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

// The parts of vega's scenegraph read here (vega-scenegraph's Scene and Item, narrowed).
export interface SceneMark {
  marktype: string;
  items?: SceneItem[];
}
interface SceneItem {
  x?: number;
  y?: number;
  text?: unknown;
  opacity?: number;
  bounds?: { x1: number; y1: number; x2: number; y2: number };
  items?: SceneMark[];
}

/** The visible text items under `root`, offset by `origin` (the view's translation in the SVG). */
export function textBoxes(root: SceneMark, origin: readonly [number, number]): TextBox[] {
  const out: TextBox[] = [];
  const walk = (mark: SceneMark, ox: number, oy: number): void => {
    for (const item of mark.items ?? []) {
      // Item bounds are in the coordinates of the group that holds the mark.
      if (mark.marktype === 'text' && item.bounds && item.opacity !== 0) {
        const text = Array.isArray(item.text) ? item.text.join(' ') : String(item.text ?? '');
        if (text !== '') out.push({ text, x1: ox + item.bounds.x1, y1: oy + item.bounds.y1, x2: ox + item.bounds.x2, y2: oy + item.bounds.y2 });
      }
      if (mark.marktype === 'group') for (const child of item.items ?? []) walk(child, ox + (item.x ?? 0), oy + (item.y ?? 0));
    }
  };
  walk(root, origin[0], origin[1]);
  return out;
}

/** Pairs of boxes that overlap (touching edges do not count). */
export function overlappingTexts(boxes: readonly TextBox[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) pairs.push([a.text, b.text]);
    }
  }
  return pairs;
}

/** The boxes that reach outside a width x height canvas. */
export function clippedTexts(boxes: readonly TextBox[], width: number, height: number): string[] {
  return boxes.filter((b) => b.x1 < 0 || b.y1 < 0 || b.x2 > width || b.y2 > height).map((b) => b.text);
}
