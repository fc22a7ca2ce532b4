// Scene -> RGB pixels: lines with a square brush along Bresenham's path, filled discs, and text
// from the 5 x 7 bitmap font scaled to the requested size. No anti-aliasing: simple and exact.
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './font5x7';
import { Color, Scene } from './scene';

export class Raster {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;

  constructor(width: number, height: number, background: Color) {
    this.width = width;
    this.height = height;
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(background, i * 3);
  }

  plot(x: number, y: number, c: Color): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }

  // A width x width square centred on (x, y).
  stamp(x: number, y: number, width: number, c: Color): void {
    const lo = -Math.floor((width - 1) / 2);
    for (let dy = lo; dy < lo + width; dy++) for (let dx = lo; dx < lo + width; dx++) this.plot(x + dx, y + dy, c);
  }

  line(x1: number, y1: number, x2: number, y2: number, c: Color, width = 1, dashed = false): void {
    let x = Math.round(x1);
    let y = Math.round(y1);
    const xe = Math.round(x2);
    const ye = Math.round(y2);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (let i = 0; ; i++) {
      if (!dashed || i % 7 < 4) this.stamp(x, y, width, c);
      if (x === xe && y === ye) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  disc(cx: number, cy: number, r: number, c: Color): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++)
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) this.plot(x, y, c);
  }

  /** Text with its baseline at y; size is the nominal font size in pixels (a glyph is size * 0.7 wide). */
  text(x: number, y: number, text: string, size: number, c: Color, anchor: 'start' | 'middle' | 'end'): void {
    const scale = Math.max(1, Math.round(size / 8));
    const advance = (GLYPH_WIDTH + 1) * scale;
    const total = text.length * advance - scale;
    let left = anchor === 'start' ? x : anchor === 'middle' ? x - total / 2 : x - total;
    left = Math.round(left);
    const top = Math.round(y - GLYPH_HEIGHT * scale);
    for (let i = 0; i < text.length; i++) {
      const rows = glyphRows(text[i]);
      for (let r = 0; r < GLYPH_HEIGHT; r++)
        for (let col = 0; col < GLYPH_WIDTH; col++)
          if (rows[r][col] === '1')
            for (let sy = 0; sy < scale; sy++)
              for (let sx = 0; sx < scale; sx++) this.plot(left + i * advance + col * scale + sx, top + r * scale + sy, c);
    }
  }
}

export function rasterize(scene: Scene): Raster {
  const r = new Raster(scene.width, scene.height, scene.background);
  for (const s of scene.shapes) {
    switch (s.kind) {
      case 'line':
        r.line(s.x1, s.y1, s.x2, s.y2, s.color, s.width, s.dashed);
        break;
      case 'polyline':
        for (let i = 1; i < s.points.length; i++) r.line(s.points[i - 1][0], s.points[i - 1][1], s.points[i][0], s.points[i][1], s.color, s.width);
        break;
      case 'circle':
        r.disc(s.x, s.y, s.r, s.color);
        break;
      case 'text':
        r.text(s.x, s.y, s.text, s.size, s.color, s.anchor);
        break;
    }
  }
  return r;
}
