// examples/pytorch: libfrugal driven from Python through ctypes.
// - Always (python3 and a C compiler are on every machine this suite runs on): the ctypes structs of
//   frugal_abi.py have frugal.h's field offsets, and a torch-free ctypes AdamW step through them is
//   accepted and moves the weights by lr (Adam's first step).
// - Where torch imports (Debian's python3-torch; .ci/run installs it): FrugalOptimizer, a
//   torch.optim.Optimizer on param.data_ptr() / grad.data_ptr(), takes 20 AdamW steps that match
//   torch.optim.AdamW within float32 tolerance, and FRUGAL (blocks) and Grass steps that equal the
//   Node API's bit for bit (the same core behind both). Elsewhere it says that it skipped and why.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Frugal, Grass, Tensor } from '../lib';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'pytorch');
const LIB = path.join(ROOT, 'build', 'Release', 'libfrugal.so');

function python(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd: EXAMPLE, encoding: 'utf8', env: { ...process.env, PYTHONPATH: EXAMPLE, ...env }, timeout: 300_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// The first interpreter that imports torch: $FRUGAL_PYTHON, python3 on PATH, Debian's /usr/bin/python3.
function findTorchPython(): { python: string | null; why: string } {
  const tried: string[] = [];
  for (const cmd of [process.env.FRUGAL_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c)) {
    const r = python(cmd, ['-c', 'import torch; print(torch.__version__)']);
    if (r.ok) return { python: cmd, why: `torch ${r.out.trim()} (${cmd})` };
    tried.push(`${cmd}: ${r.err.trim().split('\n').pop() ?? 'failed'}`);
  }
  return { python: null, why: tried.join('; ') };
}

const HAVE_LIB = fs.existsSync(LIB);
const torchPython = findTorchPython();
if (!HAVE_LIB) console.log(`pytorch-example.test.ts: skipped: ${LIB} is not built (npm run build:addon builds it)`);
else if (!torchPython.python) {
  console.log(`pytorch-example.test.ts: torch runs skipped: no python with torch (${torchPython.why}); apt-get install python3-torch`);
}

// Deterministic data: params near 1, gradients that change sign and size from step to step.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const SHAPES = [[6, 4], [5, 3], [4], [3, 7]];
const STEPS = 20;
function makeData(): { params: number[][]; grads: number[][][] } {
  const rnd = lcg(7);
  const f32 = (x: number) => Math.fround(x);
  const params = SHAPES.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => f32(1 + rnd())));
  const grads = Array.from({ length: STEPS }, (_, t) => params.map((p) => p.map(() => f32(rnd() * (1 + t / 5)))));
  return { params, grads };
}

const METHODS = {
  adamw: { method: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1 },
  frugal: { method: 'frugal', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1, density: 0.5, update_gap: 5, block_order: 'descending' },
  grass: { method: 'grass', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, density: 0.5, update_gap: 5, alpha: 0.25 },
};

// The same steps through the Node API.
function nodeRun(make: (params: Tensor[]) => { step(): void; dispose(): void }, data: ReturnType<typeof makeData>): number[][] {
  const params = data.params.map((p, i) => Tensor.fromArray(p, SHAPES[i]));
  const opt = make(params);
  for (const step of data.grads) {
    params.forEach((p, i) => {
      p.grad?.dispose();
      p.grad = Tensor.fromArray(step[i], SHAPES[i]);
    });
    opt.step();
  }
  const out = params.map((p) => Array.from(p.toArray() as Float32Array));
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

describe('examples/pytorch: the ctypes ABI', () => {
  (HAVE_LIB ? test : test.skip)("frugal_abi.py's structs have frugal.h's offsets, and the library steps through them", () => {
    const layout = JSON.parse(execFileSync('python3', [path.join(EXAMPLE, 'frugal_abi.py'), '--layout'], { encoding: 'utf8' })) as Record<
      string,
      { size: number; fields: Record<string, number> }
    >;
    const cStruct: Record<string, string> = { GroupOptions: 'frugal_group_options', ParamDesc: 'frugal_param_desc' };
    const lines = Object.entries(layout).flatMap(([py, s]) => [
      `printf("%s.sizeof %zu\\n", "${py}", sizeof(${cStruct[py]}));`,
      ...Object.keys(s.fields).map((f) => `printf("%s.%s %zu\\n", "${py}", "${f}", offsetof(${cStruct[py]}, ${f}));`),
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-abi-'));
    try {
      const src = path.join(dir, 'layout.c');
      fs.writeFileSync(src, `#include <stddef.h>\n#include <stdio.h>\n#include "frugal.h"\nint main(void) {\n${lines.join('\n')}\nreturn 0;\n}\n`);
      execFileSync('cc', ['-std=c11', '-I', path.join(ROOT, 'native', 'include'), src, '-o', path.join(dir, 'layout')]);
      const c = new Map(
        execFileSync(path.join(dir, 'layout'), { encoding: 'utf8' })
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      for (const [py, s] of Object.entries(layout)) {
        for (const [f, off] of Object.entries(s.fields)) expect(`${py}.${f} ${off}`).toBe(`${py}.${f} ${c.get(`${py}.${f}`)}`);
        // ABI 2's struct is a prefix of the header's: later fields are appended, never inserted.
        expect(s.size).toBeLessThanOrEqual(Number(c.get(`${py}.sizeof`)));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // A torch-free AdamW step on a ctypes float array through the ABI-2 structs.
    const script = `
import ctypes, json, sys
from frugal_abi import *
lib = load_library(sys.argv[1])
o = GroupOptions(); lib.frugal_group_options_init(ctypes.byref(o), ctypes.sizeof(o))
o.lr = 0.5
h = ctypes.c_void_p(); check(lib, lib.frugal_optimizer_create(FRUGAL_CPU, ctypes.byref(h)), "create")
gi = ctypes.c_int32(); check(lib, lib.frugal_optimizer_add_group(h, ctypes.byref(o), ctypes.byref(gi)), "add_group")
p = (ctypes.c_float * 3)(1, 2, 3); g = (ctypes.c_float * 3)(0.5, -2, 0)
d = ParamDesc(); lib.frugal_param_desc_init(ctypes.byref(d), ctypes.sizeof(d))
d.data = ctypes.addressof(p); d.grad = ctypes.addressof(g); d.ndim = 1; d.shape[0] = 3
pi = ctypes.c_int32(); check(lib, lib.frugal_optimizer_add_param(h, gi.value, ctypes.byref(d), ctypes.byref(pi)), "add_param")
check(lib, lib.frugal_optimizer_step(h, None), "step")
o.beta1 = 1.5
bad = lib.frugal_optimizer_add_group(h, ctypes.byref(o), ctypes.byref(gi))
print(json.dumps({"p": list(p), "bad": bad, "error": lib.frugal_last_error().decode()}))
lib.frugal_optimizer_destroy(h)
`;
    const r = python('python3', ['-c', script, LIB]);
    expect(r.err).toBe('');
    const res = JSON.parse(r.out) as { p: number[]; bad: number; error: string };
    // Adam's first step moves each weight by lr * sign(g) (eps aside); a zero gradient leaves it.
    expect(res.p[0]).toBeCloseTo(0.5, 6);
    expect(res.p[1]).toBeCloseTo(2.5, 6);
    expect(res.p[2]).toBe(3);
    expect(res.bad).toBe(1);
    expect(res.error).toMatch(/beta1/);
  });
});

describe('examples/pytorch: FrugalOptimizer against torch and the Node API', () => {
  const run = HAVE_LIB && torchPython.python ? test : test.skip;
  let result: {
    methods: Record<string, { params: number[][]; torch_params?: number[][]; max_abs_diff_vs_torch?: number; state_bytes: number }>;
    bad_method: string;
  };
  const data = makeData();

  beforeAll(() => {
    if (!HAVE_LIB || !torchPython.python) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-torch-'));
    try {
      const input = path.join(dir, 'in.json');
      const output = path.join(dir, 'out.json');
      fs.writeFileSync(input, JSON.stringify({ shapes: SHAPES, ...data, methods: METHODS }));
      const r = python(torchPython.python, [path.join(EXAMPLE, 'check_against_torch.py'), LIB, input, output]);
      if (!r.ok) throw new Error(`check_against_torch.py failed: ${r.err}`);
      result = JSON.parse(fs.readFileSync(output, 'utf8'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  run(`${STEPS} AdamW steps match torch.optim.AdamW within float32 tolerance`, () => {
    const m = result.methods.adamw;
    let worst = 0;
    m.params.forEach((p, i) =>
      p.forEach((x, j) => {
        const ref = m.torch_params![i][j];
        worst = Math.max(worst, Math.abs(x - ref) / (1e-6 + Math.abs(ref)));
      }),
    );
    // Both sides round differently in the last bits (torch divides by sqrt(bias2) before eps,
    // the core folds the corrections); 20 steps of params near 1 stay within a few ulps.
    expect(worst).toBeLessThan(2e-6);
    // Not trivially equal: the steps moved the weights.
    expect(Math.abs(m.params[0][0] - data.params[0][0])).toBeGreaterThan(0.05);
    expect(m.state_bytes).toBe(SHAPES.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0) * 8);
  });

  run('FRUGAL (blocks) through ctypes equals the Node API bit for bit', () => {
    const node = nodeRun(
      (params) => new Frugal(params, { lr: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 5, blockOrder: 'descending' }),
      data,
    );
    expect(result.methods.frugal.params).toEqual(node);
    // And it is not AdamW: signSGD moved the inactive blocks.
    expect(result.methods.frugal.params).not.toEqual(result.methods.adamw.params);
  });

  run('Grass through ctypes equals the Node API bit for bit', () => {
    const node = nodeRun((params) => new Grass(params, { lr: 0.01, density: 0.5, updateGap: 5, stateFullLrScale: 0.25 }), data);
    expect(result.methods.grass.params).toEqual(node);
  });

  run('a bad method is refused by name', () => {
    expect(result.bad_method).toMatch(/^method: expected one of adamw, frugal, grass, got 'bogus'/);
  });
});
