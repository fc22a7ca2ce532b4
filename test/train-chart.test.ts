// The comparison chart: its vega-lite spec carries the metrics files' numbers (the fixture is the
// docs/results.md run), and writeComparison's outputs: a well-formed SVG with every title, axis and
// legend entry, a PNG that decodes (read here by test/helpers/png.ts, from the PNG specification)
// to the SVG's size with the optimizers' colours and text in it, and the markdown table.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderChart } from '../lib/chart/render';
import { ChartSeries, comparisonSpec, PALETTE, PANEL_TITLES, SHAPES } from '../lib/train/chart/comparison-chart';
import { writeComparison } from '../lib/train/compare';
import { readMetrics, ValRecord } from '../lib/train/metrics';
import { TrainResult } from '../lib/train/trainer';
import { countColour, countPixels, decodePng, pngSize } from './helpers/png';
import { svgElements, svgSize } from './helpers/svg';

const FIXTURE = path.join(__dirname, 'fixtures', 'charts');
const METHODS = ['adamw', 'frugal', 'galore', 'badam', 'grass'];
const MIB = 2 ** 20;

interface Run {
  vals: ValRecord[];
  result: TrainResult;
}

function readRun(method: string): Run {
  const records = readMetrics(path.join(FIXTURE, method, 'metrics.jsonl'));
  const summary = records.find((r) => r.type === 'summary') as unknown as TrainResult;
  return { vals: records.filter((r): r is ValRecord => r.type === 'val'), result: summary };
}

const runs = METHODS.map(readRun);
const series: ChartSeries[] = runs.map(({ result: r }) => ({ name: r.method, curve: r.valCurve, stateBytes: r.optimizerStateBytes, finalLoss: r.valLoss }));
const TITLE = 'tiny on the Brown corpus, 1000 steps, batch 16 x 128, seed 0';

// The spec is plain JSON; read it as such rather than through vega-lite's union types.
type Json = Record<string, any>;

describe('comparison chart spec', () => {
  const spec = comparisonSpec(series, TITLE) as Json;
  const [left, right] = spec.hconcat as Json[];

  it('has the title and two panels: loss against step, final loss against state', () => {
    expect(spec.title.text).toBe(TITLE);
    expect(spec.hconcat).toHaveLength(2);
    expect([left.title, right.title]).toEqual([...PANEL_TITLES]);
    expect([left.encoding.x.field, left.encoding.x.title, left.encoding.y.field, left.encoding.y.title]).toEqual(['step', 'step', 'loss', 'validation loss']);
    expect([right.encoding.x.field, right.encoding.x.title, right.encoding.y.field, right.encoding.y.title])
      .toEqual(['stateMiB', 'optimizer state (MiB)', 'loss', 'final validation loss']);
    expect(left.mark.type).toBe('line');
    expect(right.mark.type).toBe('point');
  });

  it('draws every validation record of every metrics file, and each run\'s final loss at its state in MiB', () => {
    const expectedCurve = runs.flatMap((r) => r.vals.map((v) => ({ optimizer: r.result.method, step: v.step, loss: v.loss })));
    expect(expectedCurve).toHaveLength(50);
    expect(left.data.values).toEqual(expectedCurve);
    expect(right.data.values).toEqual(runs.map((r) => ({
      optimizer: r.result.method,
      stateMiB: r.result.optimizerStateBytes / MIB,
      loss: r.vals[r.vals.length - 1].loss,
    })));
    expect(right.data.values[0].stateMiB).toBeCloseTo(25.1, 6);
  });

  it('gives each optimizer its own colour and shape, the same in both panels and the legend\'s order', () => {
    for (const panel of [left, right]) {
      expect(panel.encoding.color.scale.domain).toEqual(METHODS);
      expect(panel.encoding.color.scale.range).toEqual(PALETTE.slice(0, 5));
      expect(panel.encoding.shape.scale.range).toEqual(SHAPES.slice(0, 5));
    }
    expect(new Set(PALETTE).size).toBe(PALETTE.length);
    expect(spec.resolve.scale).toEqual({ color: 'shared', shape: 'shared' });
  });

  it('steps start at 0 and losses are not forced down to 0', () => {
    expect(left.encoding.x.scale.zero).toBe(true);
    expect(left.encoding.y.scale.zero).toBe(false);
    expect(right.encoding.y.scale.zero).toBe(false);
  });
});

describe('comparison chart files', () => {
  let dir: string;
  let written: { table: string; files: string[] };
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-chart-'));
    written = await writeComparison(runs.map((r) => r.result), dir, TITLE);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes compare.svg, compare.png and compare.md', () => {
    expect(written.files.map((f) => path.basename(f))).toEqual(['compare.svg', 'compare.png', 'compare.md']);
    const md = fs.readFileSync(path.join(dir, 'compare.md'), 'utf8');
    expect(md).toContain(`# ${TITLE}`);
    expect(md).toContain('![validation loss](compare.png)');
    // The fixture is the docs' run: its table is the docs' table.
    const docsTable = fs.readFileSync(path.join(__dirname, '..', 'docs', 'results', 'compare.md'), 'utf8').split('\n').filter((l) => l.startsWith('| '));
    expect(written.table.split('\n').filter((l) => l.startsWith('| '))).toEqual(docsTable);
  });

  it('the SVG is well-formed and names the titles, axes and every optimizer', () => {
    const svg = fs.readFileSync(path.join(dir, 'compare.svg'), 'utf8');
    const texts = svgElements(svg).filter((e) => e.name === 'text').map((e) => e.text);
    for (const t of [TITLE, ...PANEL_TITLES, 'step', 'validation loss', 'optimizer state (MiB)', 'final validation loss', 'optimizer', ...METHODS]) {
      expect(texts).toContain(t);
    }
    // One line per optimizer, in its colour, through its 10 validation points.
    const lines = svgElements(svg).filter((e) => e.name === 'path' && e.attrs['aria-roledescription'] === 'line mark');
    expect(lines.map((l) => l.attrs.stroke)).toEqual(PALETTE.slice(0, 5));
    for (const l of lines) expect(l.attrs.d.match(/[ML][\d.]+,[\d.]+/g)).toHaveLength(10);
  });

  it('the PNG decodes at twice the SVG\'s size, not blank, with the optimizers\' colours and dark text', () => {
    const svg = svgSize(fs.readFileSync(path.join(dir, 'compare.svg'), 'utf8'));
    const buf = fs.readFileSync(path.join(dir, 'compare.png'));
    expect(pngSize(buf)).toEqual({ width: Math.round(svg.width * 2), height: Math.round(svg.height * 2) });
    const png = decodePng(buf);
    const white = countPixels(png, (r, g, b) => r === 255 && g === 255 && b === 255);
    expect(white).toBeLessThan(png.width * png.height);
    expect(white).toBeGreaterThan(png.width * png.height * 0.5);
    for (const colour of PALETTE.slice(0, 5)) expect(countColour(png, colour)).toBeGreaterThan(100);
    // Text is black; nothing else in the chart is that dark: no font, no such pixels.
    expect(countPixels(png, (r, g, b) => r < 40 && g < 40 && b < 40)).toBeGreaterThan(5000);
  });

  // A short run (40 steps of 4 x 64 here, rounded to 4 decimals): three optimizers, a loss tick on
  // the top edge of one panel and not the other.
  const SHORT_RUN: ChartSeries[] = [
    { name: 'adamw', curve: [[10, 3.3374], [20, 3.1128], [30, 3.0438], [40, 2.9714]], stateBytes: 26363904, finalLoss: 2.9714 },
    { name: 'frugal', curve: [[10, 3.3581], [20, 2.8947], [30, 2.7762], [40, 2.7246]], stateBytes: 7391232, finalLoss: 2.7246 },
    { name: 'grass', curve: [[10, 3.3007], [20, 3.1625], [30, 3.0634], [40, 2.9453]], stateBytes: 7412736, finalLoss: 2.9453 },
  ];

  it.each([['the docs\' run', series], ['a short run', SHORT_RUN]])(
    '%s: no text overlaps another or leaves the canvas, vega warned of nothing, the panel titles line up',
    async (_, data) => {
      const chart = await renderChart(comparisonSpec(data, TITLE), 'test');
      expect(chart.warnings).toEqual([]);
      expect(chart.texts.map((t) => t.text)).toEqual(expect.arrayContaining([TITLE, ...data.map((s) => s.name)]));
      const titles = PANEL_TITLES.map((t) => chart.texts.find((x) => x.text === t)!);
      expect(Math.abs(titles[0].y1 - titles[1].y1)).toBeLessThanOrEqual(1);
    },
  );
});
