// Scene -> SVG text.
import { Color, Scene } from './scene';

const rgb = (c: Color) => `rgb(${c[0]},${c[1]},${c[2]})`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n = (v: number) => Number(v.toFixed(2));

export function sceneToSvg(scene: Scene): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="${rgb(scene.background)}"/>`,
  ];
  for (const s of scene.shapes) {
    switch (s.kind) {
      case 'line':
        out.push(`<line x1="${n(s.x1)}" y1="${n(s.y1)}" x2="${n(s.x2)}" y2="${n(s.y2)}" stroke="${rgb(s.color)}" stroke-width="${s.width}"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
        break;
      case 'polyline':
        out.push(`<polyline fill="none" stroke="${rgb(s.color)}" stroke-width="${s.width}" stroke-linejoin="round" points="${s.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`);
        break;
      case 'circle':
        out.push(`<circle cx="${n(s.x)}" cy="${n(s.y)}" r="${s.r}" fill="${rgb(s.color)}"/>`);
        break;
      case 'text':
        out.push(`<text x="${n(s.x)}" y="${n(s.y)}" font-size="${s.size}" fill="${rgb(s.color)}" text-anchor="${s.anchor}">${esc(s.text)}</text>`);
        break;
    }
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
