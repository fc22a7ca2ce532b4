// lib/chart/render.ts and its checks: texts that overlap or leave the canvas are reported (the
// chart tests rely on that to say "no label overlaps or is clipped"), resvg draws with the
// packaged font only, and a missing chart package is named, all of them at once.
import { CHART_FONT, ChartSpec, renderChart } from '../lib/chart/render';
import { clippedTexts, overlappingTexts, TextBox, textBoxes } from '../lib/chart/text-boxes';
import { checkDependencies } from '../lib/optional-dependency';
import { countPixels, decodePng } from './helpers/png';

const box = (text: string, x1: number, y1: number, x2: number, y2: number): TextBox => ({ text, x1, y1, x2, y2 });

/** Two words placed by hand in a fixed 200 x 100 view (no autosize: nothing is moved to fit). */
function twoWords(a: [number, number], b: [number, number]): ChartSpec {
  return {
    width: 200, height: 100, autosize: { type: 'none' }, padding: 0, background: 'white',
    config: { font: CHART_FONT, view: { stroke: null } },
    data: { values: [{ t: 'alpha', x: a[0], y: a[1] }, { t: 'beta', x: b[0], y: b[1] }] },
    mark: { type: 'text', fontSize: 20, align: 'left', baseline: 'top' },
    encoding: { text: { field: 't' }, x: { field: 'x', type: 'quantitative', scale: null }, y: { field: 'y', type: 'quantitative', scale: null } },
  };
}

describe('text boxes', () => {
  test('overlap: boxes sharing area do, boxes sharing an edge or nothing do not', () => {
    expect(overlappingTexts([box('a', 0, 0, 10, 10), box('b', 5, 5, 15, 15), box('c', 15, 0, 20, 5), box('d', 15, 15, 17, 17)]))
      .toEqual([['a', 'b']]);
  });

  test('clipped: boxes reaching past any edge', () => {
    expect(clippedTexts([box('in', 0, 0, 100, 50), box('left', -1, 0, 5, 5), box('bottom', 0, 45, 5, 51), box('right', 95, 0, 100.5, 5)], 100, 50))
      .toEqual(['left', 'bottom', 'right']);
  });

  test('the scenegraph walk adds each group\'s offset and skips hidden and empty texts', () => {
    const root = {
      marktype: 'group',
      items: [{
        x: 10, y: 20,
        items: [
          { marktype: 'text', items: [
            { text: 'shown', bounds: { x1: 1, y1: 2, x2: 3, y2: 4 } },
            { text: 'hidden', opacity: 0, bounds: { x1: 0, y1: 0, x2: 1, y2: 1 } },
            { text: '', bounds: { x1: 0, y1: 0, x2: 1, y2: 1 } },
            { text: ['two', 'lines'], bounds: { x1: 0, y1: 0, x2: 1, y2: 1 } },
          ] },
          { marktype: 'group', items: [{ x: 100, y: 0, items: [{ marktype: 'text', items: [{ text: 'inner', bounds: { x1: 0, y1: 0, x2: 5, y2: 5 } }] }] }] },
        ],
      }],
    };
    expect(textBoxes(root, [7, 8])).toEqual([box('shown', 18, 30, 20, 32), box('two lines', 17, 28, 18, 29), box('inner', 117, 28, 122, 33)]);
  });
});

describe('renderChart', () => {
  test('two words apart: no warning; drawn with the packaged font', async () => {
    const c = await renderChart(twoWords([10, 10], [10, 60]), 'test', 1);
    expect(c.warnings).toEqual([]);
    expect(c.texts.map((t) => t.text)).toEqual(['alpha', 'beta']);
    expect([c.width, c.height]).toEqual([200, 100]);
    expect(countPixels(decodePng(c.png), (r, g, b) => r + g + b < 300)).toBeGreaterThan(100);
  });

  test('two words on top of each other, and one past the right edge, are reported', async () => {
    const c = await renderChart(twoWords([10, 10], [30, 15]), 'test');
    expect(c.warnings).toEqual(["the texts 'alpha' and 'beta' overlap"]);
    const d = await renderChart(twoWords([10, 10], [170, 60]), 'test');
    expect(d.warnings).toEqual(["the text 'beta' reaches past the chart's edge"]);
  });

  test('vega-lite\'s and vega\'s own warnings are returned', async () => {
    const spec: ChartSpec = {
      data: { values: [{ v: 0 }, { v: 10 }] }, mark: 'point',
      encoding: { x: { field: 'v', type: 'quantitative', scale: { type: 'log' } } },
    };
    const c = await renderChart(spec, 'test');
    expect(c.warnings.join('\n')).toMatch(/Log scale domain includes zero/);
  });

  test('a scale outside (0, 8] is refused by name', async () => {
    await expect(renderChart(twoWords([0, 0], [0, 50]), 'test', 0)).rejects.toThrow('renderChart: scale must be in (0, 8], got 0');
    await expect(renderChart(twoWords([0, 0], [0, 50]), 'test', NaN)).rejects.toThrow(/got NaN/);
  });
});

describe('missing chart packages', () => {
  test('every missing package is named, with one npm install for them all; installed ones are not', () => {
    expect(() => checkDependencies(['vega', 'frugal-no-such-package-a', 'vega-lite', 'frugal-no-such-package-b'], 'the thing'))
      .toThrow("the thing needs the packages 'frugal-no-such-package-a', 'frugal-no-such-package-b', which are not installed: " +
        'run `npm install frugal-no-such-package-a frugal-no-such-package-b`');
    expect(() => checkDependencies(['vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf'], 'the thing')).not.toThrow();
  });
});
