// A strict little XML reader for the chart tests: it throws on what makes an SVG ill-formed (a
// tag left open or closed out of order, an attribute without a quoted value or repeated, a bare
// '&' or '<' in text, more than one root) and returns every element with its attributes and text.

export interface SvgElement {
  name: string;
  attrs: Record<string, string>;
  /** The element's own text (entities decoded), children's not included. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, where: string): string {
  return s.replace(/&([^;&<]*);|&/g, (m, name: string | undefined) => {
    if (name === undefined) throw new Error(`svg: a bare '&' in ${where}`);
    if (name in ENTITIES) return ENTITIES[name];
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(name);
    if (!num) throw new Error(`svg: unknown entity &${name}; in ${where}`);
    return String.fromCodePoint(num[1][0] === 'x' ? parseInt(num[1].slice(1), 16) : Number(num[1]));
  });
}

export function svgElements(svg: string): SvgElement[] {
  const out: SvgElement[] = [];
  const open: SvgElement[] = [];
  let roots = 0;
  let at = svg.startsWith('<?xml') ? svg.indexOf('?>') + 2 : 0;
  while (at < svg.length) {
    const lt = svg.indexOf('<', at);
    const text = svg.slice(at, lt < 0 ? svg.length : lt);
    if (text.trim()) {
      if (!open.length) throw new Error(`svg: text outside the root: '${text.trim().slice(0, 40)}'`);
      open[open.length - 1].text += decode(text, `<${open[open.length - 1].name}>`);
    }
    if (lt < 0) break;
    if (svg.startsWith('<!--', lt)) {
      const end = svg.indexOf('-->', lt);
      if (end < 0) throw new Error('svg: a comment left open');
      at = end + 3;
      continue;
    }
    const gt = svg.indexOf('>', lt);
    if (gt < 0) throw new Error('svg: a tag left open at the end');
    const tag = svg.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const top = open.pop();
      if (!top || top.name !== name) throw new Error(`svg: </${name}> closes <${top?.name ?? 'nothing'}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([A-Za-z_][\w:.-]*)([\s\S]*?)\/?$/.exec(tag);
    if (!m) throw new Error(`svg: a malformed tag <${tag.slice(0, 40)}>`);
    const attrs: Record<string, string> = {};
    const rest = m[2].replace(/\s+([\w:.-]+)\s*=\s*("([^"<]*)"|'([^'<]*)')/g, (_, key: string, _q, dq?: string, sq?: string) => {
      if (key in attrs) throw new Error(`svg: attribute ${key} twice on <${m[1]}>`);
      attrs[key] = decode(dq ?? sq ?? '', `${m[1]}@${key}`);
      return '';
    });
    if (rest.trim()) throw new Error(`svg: unreadable attributes on <${m[1]}>: '${rest.trim().slice(0, 40)}'`);
    const el = { name: m[1], attrs, text: '' };
    if (!open.length && roots++ > 0) throw new Error('svg: more than one root element');
    out.push(el);
    if (!selfClosing) open.push(el);
  }
  if (open.length) throw new Error(`svg: <${open[open.length - 1].name}> left open`);
  if (roots !== 1 || out[0].name !== 'svg') throw new Error('svg: the root is not one <svg> element');
  return out;
}

/** The root's width and height attributes, in pixels. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = svgElements(svg)[0];
  return { width: Number(root.attrs.width), height: Number(root.attrs.height) };
}
