// A vega-lite spec -> SVG (vega-lite compiles it to a vega spec; vega's headless View lays it out
// and writes the SVG, no canvas needed) -> PNG (resvg rasterizes the SVG with the DejaVu Sans TTF
// files shipped in the npm package dejavu-fonts-ttf, and no system font, so the PNG's text is the
// same on every machine). The four packages are optional dependencies: the library entry never
// loads this file, and the tools check for them before their long runs (checkChartPackages).
import * as fs from 'fs';
import * as path from 'path';
import type { Resvg as ResvgClass } from '@resvg/resvg-js';
import type * as VegaModule from 'vega';
import type { LoggerInterface } from 'vega';
import type * as VegaLiteModule from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { checkDependencies, loadDependency, resolveDependency } from '../optional-dependency';
import { clippedTexts, overlappingTexts, SceneMark, TextBox, textBoxes } from './text-boxes';

export type ChartSpec = TopLevelSpec;

export const CHART_PACKAGES = ['vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf'] as const;

/**
 * The font every chart spec names (config.font): DejaVu Sans, which resvg finds in the files
 * below; a viewer of the SVG without it falls back to its own sans-serif.
 */
export const CHART_FONT = 'DejaVu Sans, sans-serif';
const FONT_FAMILY = 'DejaVu Sans';
// Titles are bold, everything else regular: the two faces loaded.
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/** Throws, naming every chart package not installed, so a tool can say so before a long run. */
export function checkChartPackages(neededBy: string): void {
  checkDependencies(CHART_PACKAGES, neededBy);
}

export interface RenderedChart {
  svg: string;
  png: Buffer;
  /** The PNG's size in pixels: the SVG's size times the scale. */
  width: number;
  height: number;
  /** Every visible text, where vega placed it (SVG pixels). */
  texts: TextBox[];
  /**
   * What vega-lite and vega warned about while compiling and laying out, and texts that overlap
   * or reach past the canvas: empty for a sound chart.
   */
  warnings: string[];
}

// vega-lite and vega report problems (a log scale over zero, an empty domain) through a logger
// rather than by throwing; collected here so that a caller (and the tests) can see them.
function collectingLogger(warnings: string[]): LoggerInterface {
  let level = 2; // vega's Warn
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    warn(...args: readonly unknown[]) {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as LoggerInterface;
}

/** The chart's SVG (vega) and its PNG (resvg) at `scale` pixels per SVG unit. */
export async function renderChart(spec: ChartSpec, neededBy: string, scale = 2): Promise<RenderedChart> {
  if (!(scale > 0 && scale <= 8)) throw new Error(`renderChart: scale must be in (0, 8], got ${scale}`);
  checkChartPackages(neededBy);
  const vl = loadDependency<typeof VegaLiteModule>('vega-lite', neededBy);
  const vega = loadDependency<typeof VegaModule>('vega', neededBy);
  const { Resvg } = loadDependency<{ Resvg: typeof ResvgClass }>('@resvg/resvg-js', neededBy);
  const fontDir = path.join(path.dirname(resolveDependency('dejavu-fonts-ttf/package.json', 'dejavu-fonts-ttf', neededBy)), 'ttf');

  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const compiled = vl.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  let svg: string;
  let texts: TextBox[];
  try {
    svg = await view.toSVG();
    // view.scenegraph() is vega's Scenegraph, whose root is the top mark (vega-typings call the
    // returned object the mark itself).
    texts = textBoxes((view.scenegraph() as unknown as { root: SceneMark }).root, view.origin());
  } finally {
    view.finalize();
  }
  const size = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('renderChart: vega wrote an SVG without a width and height');
  for (const [a, b] of overlappingTexts(texts)) warnings.push(`the texts '${a}' and '${b}' overlap`);
  for (const t of clippedTexts(texts, Number(size[1]), Number(size[2]))) warnings.push(`the text '${t}' reaches past the chart's edge`);
  const image = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: FONT_FILES.map((f) => path.join(fontDir, f)),
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'zoom', value: scale },
  }).render();
  return { svg, png: image.asPng(), width: image.width, height: image.height, texts, warnings };
}

/** Writes `<base>.svg` and `<base>.png`; returns the two paths. Warnings go to stderr. */
export async function writeChart(spec: ChartSpec, base: string, neededBy: string): Promise<[string, string]> {
  const chart = await renderChart(spec, neededBy);
  for (const w of chart.warnings) process.stderr.write(`chart ${path.basename(base)}: ${w}\n`);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const files: [string, string] = [`${base}.svg`, `${base}.png`];
  fs.writeFileSync(files[0], chart.svg);
  fs.writeFileSync(files[1], chart.png);
  return files;
}
