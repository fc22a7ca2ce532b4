// The bench report's charts: the bars a spec holds (from the sample results and from the CPU run
// that docs/benchmarks.md shows), bar lengths in the SVG against the values, and the report's
// files: SVG well-formed, PNG decoding to twice its size, labels clear of each other and the edge.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BarChart, barChartSpec, barsOf, defaultBarFormat } from '../lib/bench/bar-chart';
import { presetChartSpecs, writeReport } from '../lib/bench/report';
import { BenchRow, readResults } from '../lib/bench/results';
import { renderChart } from '../lib/chart/render';
import { countColour, countPixels, decodePng, pngSize } from './helpers/png';
import { svgElements, svgSize } from './helpers/svg';

const ROOT = path.join(__dirname, '..');
const SAMPLES = path.join(ROOT, 'bench', 'samples');
const CPU_RUN = path.join(ROOT, 'bench', 'results', 'cpu-2026-11-23.json');
const CPU_TORCH = path.join(ROOT, 'bench', 'results', 'torch-cpu-2026-11-23.json');

type Json = Record<string, any>;

/** The horizontal length of each bar in an SVG of vega's (its path: M x,y h WIDTH v ... ). */
function barWidths(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of svgElements(svg)) {
    if (e.name !== 'path' || e.attrs['aria-roledescription'] !== 'bar') continue;
    const w = /^M[-\d.e]+,[-\d.e]+h([-\d.e]+)v/.exec(e.attrs.d);
    const key = /category: ([^;]+); series: (.+)$/.exec(e.attrs['aria-label']);
    if (!w || !key) throw new Error(`unexpected bar: ${JSON.stringify(e.attrs)}`);
    out.set(`${key[1]}/${key[2]}`, Number(w[1]));
  }
  return out;
}

describe('bar chart spec', () => {
  const chart: BarChart = {
    title: 'T', unit: 'ms', categories: ['a', 'b', 'c'],
    series: [{ name: 's1', color: '#111111', values: [1, null, 250] }, { name: 's2', color: '#222222', values: [0.5, 0, 3.14159] }],
  };

  test('bars: every value with its label, a gap for null, and on a log axis no bar for 0', () => {
    expect(barsOf(chart)).toEqual([
      { category: 'a', series: 's1', value: 1, label: '1.00' },
      { category: 'a', series: 's2', value: 0.5, label: '0.50' },
      { category: 'b', series: 's2', value: 0, label: '0' },
      { category: 'c', series: 's1', value: 250, label: '250' },
      { category: 'c', series: 's2', value: 3.14159, label: '3.14' },
    ]);
    expect(barsOf({ ...chart, log: true }).map((b) => `${b.category}/${b.series}`)).toEqual(['a/s1', 'a/s2', 'c/s1', 'c/s2']);
    expect(barsOf({ ...chart, format: (v) => `<${v}>` })[0].label).toBe('<1>');
    expect([1234.5, 12.345, 0.012345].map(defaultBarFormat)).toEqual(['1235', '12.35', '0.012']);
  });

  test('categories, series and colours in the given order; log axis said in its title', () => {
    const spec = barChartSpec({ ...chart, log: true }) as Json;
    expect(spec.title.text).toBe('T');
    expect(spec.encoding.y.scale.domain).toEqual(['a', 'b', 'c']);
    expect(spec.encoding.yOffset.scale.domain).toEqual(['s1', 's2']);
    expect(spec.encoding.x.scale.type).toBe('log');
    expect(spec.encoding.x.title).toBe('ms (log scale)');
    const colour = spec.layer[0].encoding.color.scale;
    expect([colour.domain, colour.range]).toEqual([['s1', 's2'], ['#111111', '#222222']]);
    expect(spec.layer[1].encoding.text.field).toBe('label');
    expect((barChartSpec(chart) as Json).encoding.x.title).toBe('ms');
  });

  test('drawn bars are as long as their values on a linear axis', async () => {
    const c = await renderChart(barChartSpec({
      title: 'linear', unit: 'MiB', categories: ['x', 'y'], series: [{ name: 's', color: '#4e79a7', values: [1, 2] }, { name: 't', color: '#f28e2b', values: [3, null] }],
    }), 'test');
    expect(c.warnings).toEqual([]);
    const w = barWidths(c.svg);
    expect([...w.keys()]).toEqual(['x/s', 'x/t', 'y/s']);
    expect(w.get('y/s')! / w.get('x/s')!).toBeCloseTo(2, 9);
    expect(w.get('x/t')! / w.get('x/s')!).toBeCloseTo(3, 9);
  });
});

describe('the preset charts of a results file', () => {
  test('step time: each dtype\'s median, and torch\'s fastest implementation beside it', () => {
    const ours = readResults(path.join(SAMPLES, 'ours-sample.json'));
    const torch = readResults(path.join(SAMPLES, 'torch-sample.json'));
    const [[timeName, time], [stateName, state]] = presetChartSpecs('60m', ours.rows, torch.rows) as [string, Json][];
    expect([timeName, stateName]).toEqual(['60m-step-time', '60m-state-bytes']);
    const bars = (spec: Json) => spec.data.values.map((b: Json) => [b.category, b.series, b.value]);
    // torch-fused (0.75 ms) beats torch-foreach (1.5 ms) for AdamW; no torch bf16 rows, no such series.
    expect(bars(time)).toEqual([
      ['adamw', 'float32', 0.6], ['adamw', 'bfloat16', 0.45], ['adamw', 'torch float32', 0.75],
      ['frugal-blocks', 'float32', 0.4], ['frugal-blocks', 'torch float32', 4],
      ['galore', 'float32', 2], ['galore', 'torch float32', 8],
    ]);
    expect(time.encoding.y.scale.domain).toEqual(['adamw', 'frugal-blocks', 'galore']);
    expect(time.encoding.x.scale.type).toBe('log');
    expect(state.encoding.x.scale.type).not.toBe('log');
    expect(state.title.text).toBe('LLaMA-60m: optimizer state (float32 weights)');
  });

  test('the CPU run: state in MiB per method from the float32 rows', () => {
    const run = readResults(CPU_RUN);
    const rows = run.rows.filter((r) => r.preset === '130m');
    const [, [, state]] = presetChartSpecs('130m', rows) as [string, Json][];
    const f32 = (m: string) => rows.find((r: BenchRow) => r.method === m && r.dtype === 'float32')!.stateBytes;
    expect(state.data.values.filter((b: Json) => b.series === 'frugal-optim').map((b: Json) => [b.category, b.value]))
      .toEqual([...new Set(rows.map((r) => r.method))].map((m) => [m, f32(m) / 2 ** 20]));
  });
});

describe('the report\'s chart files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-bench-charts-'));
    await writeReport(path.join(dir, 'benchmarks.md'), readResults(CPU_RUN), 'bench/results/cpu.json', { results: readResults(CPU_TORCH), file: 'bench/results/torch.json' });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('an SVG and a PNG per chart; the markdown shows the PNGs', () => {
    const names = ['60m', '130m', '350m'].flatMap((p) => [`${p}-step-time`, `${p}-state-bytes`]);
    expect(fs.readdirSync(path.join(dir, 'benchmarks')).sort()).toEqual(names.flatMap((n) => [`${n}.png`, `${n}.svg`]).sort());
    const md = fs.readFileSync(path.join(dir, 'benchmarks.md'), 'utf8');
    for (const n of names) expect(md).toContain(`![${n}](benchmarks/${n}.png)`);
  });

  test('each SVG is well-formed with its title, methods and values; each PNG decodes to twice its size, not blank', () => {
    const run = readResults(CPU_RUN);
    for (const name of fs.readdirSync(path.join(dir, 'benchmarks')).filter((f) => f.endsWith('.svg'))) {
      const svg = fs.readFileSync(path.join(dir, 'benchmarks', name), 'utf8');
      const texts = svgElements(svg).filter((e) => e.name === 'text').map((e) => e.text);
      const preset = name.split('-')[0];
      expect(texts).toContain(name.includes('step-time')
        ? `LLaMA-${preset}: time per optimizer step (torch: its fastest implementation)`
        : `LLaMA-${preset}: optimizer state (float32 weights)`);
      for (const m of new Set(run.rows.map((r) => r.method))) expect(texts).toContain(m);
      if (name.includes('step-time')) {
        for (const r of run.rows.filter((x) => x.preset === preset)) expect(texts).toContain(defaultBarFormat(r.stepMs));
      }
      const size = svgSize(svg);
      const buf = fs.readFileSync(path.join(dir, 'benchmarks', name.replace('.svg', '.png')));
      expect(pngSize(buf)).toEqual({ width: Math.round(size.width * 2), height: Math.round(size.height * 2) });
      const png = decodePng(buf);
      const colours = name.includes('step-time') ? ['#4e79a7', '#f28e2b', '#9cb8d6', '#f6c08f'] : ['#59a14f', '#a9d3a2'];
      for (const c of colours) expect(countColour(png, c)).toBeGreaterThan(1000);
      expect(countPixels(png, (r, g, b) => r < 40 && g < 40 && b < 40)).toBeGreaterThan(2000);
    }
  });

  test('no label overlaps another or leaves the canvas, and vega warned of nothing', async () => {
    const run = readResults(CPU_RUN);
    const torch = readResults(CPU_TORCH);
    for (const preset of ['60m', '130m', '350m']) {
      for (const [name, spec] of presetChartSpecs(preset, run.rows.filter((r) => r.preset === preset), torch.rows)) {
        const chart = await renderChart(spec, 'test');
        expect({ name, warnings: chart.warnings }).toEqual({ name, warnings: [] });
      }
    }
  });
});
