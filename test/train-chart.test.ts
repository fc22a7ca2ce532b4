// The comparison outputs: a valid PNG (decoded back here with node:zlib), an SVG with one line
// per optimizer, and the markdown table.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { comparisonScene } from '../lib/train/chart/comparison-chart';
import { encodePng } from '../lib/train/chart/png';
import { rasterize } from '../lib/train/chart/raster';
import { niceTicks } from '../lib/train/chart/scene';
import { writeComparison } from '../lib/train/compare';
import { ZERO_FIGURES } from '../lib/train/memory-report';
import { TrainResult } from '../lib/train/trainer';

function decodePng(buf: Buffer): { width: number; height: number; rgb: Uint8Array } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 2]);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 3 + 1)]).toBe(0);
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

function result(method: string, losses: number[], state: number): TrainResult {
  return {
    method: method as TrainResult['method'], device: 'cpu', preset: 'tiny', parameters: 1, steps: 30, tokens: 1,
    trainLoss: losses[2], trainPerplexity: Math.exp(losses[2]), valLoss: losses[2], valPerplexity: Math.exp(losses[2]),
    tokensPerSec: 1000, trainSeconds: 1, wallSeconds: 1, optimizerStateBytes: state, peak: ZERO_FIGURES, peakOrdinary: ZERO_FIGURES,
    valCurve: losses.map((l, i) => [(i + 1) * 10, l]), outDir: '.',
  };
}

describe('comparison chart', () => {
  it('encodes a PNG that decodes to the same pixels', () => {
    const rgb = new Uint8Array(7 * 5 * 3).map((_, i) => (i * 37) % 256);
    const back = decodePng(encodePng(7, 5, rgb));
    expect(back.width).toBe(7);
    expect(back.height).toBe(5);
    expect(back.rgb).toEqual(rgb);
  });

  it('draws each optimizer in its colour, and writes svg, png and markdown', () => {
    const results = [result('adamw', [3, 2.5, 2.2], 8 << 20), result('frugal', [3.1, 2.6, 2.3], 3 << 20)];
    const scene = comparisonScene(results.map((r) => ({ name: r.method, curve: r.valCurve, stateBytes: r.optimizerStateBytes, finalLoss: r.valLoss })), 'test');
    const raster = rasterize(scene);
    const colours = new Set<string>();
    for (let i = 0; i < raster.rgb.length; i += 3) colours.add(`${raster.rgb[i]},${raster.rgb[i + 1]},${raster.rgb[i + 2]}`);
    expect(colours.has('31,119,180')).toBe(true);
    expect(colours.has('214,39,40')).toBe(true);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-chart-'));
    try {
      const { table, files } = writeComparison(results, dir, 'test');
      expect(files.map((f) => path.basename(f))).toEqual(['compare.svg', 'compare.png', 'compare.md']);
      const svg = fs.readFileSync(path.join(dir, 'compare.svg'), 'utf8');
      expect(svg.match(/<polyline fill="none" stroke="rgb\((31,119,180|214,39,40)\)"/g)).toHaveLength(2);
      const png = decodePng(fs.readFileSync(path.join(dir, 'compare.png')));
      expect([png.width, png.height]).toEqual([scene.width, scene.height]);
      expect(table).toMatch(/\| adamw \| 2\.2000 \| 9\.03 \|/);
      expect(table).toMatch(/\| frugal \| 2\.3000 \| 9\.97 \| 2\.3000 \| 3\.00 MiB \|/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(2.13, 2.87)).toEqual([2.2, 2.4, 2.6, 2.8]);
  });
});
