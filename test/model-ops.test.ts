// The native model ops against straightforward JS references: GEMM in every transpose, dtype and
// stride combination (and each CPU micro kernel), rotary embedding, causal attention, RMSNorm,
// SwiGLU, cross-entropy, embedding and gathers; plus the C API's argument errors.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { modelOps } from '../lib/model/native-ops';
import { Tensor } from '../lib/tensor';

const ops = modelOps();
const CPU = -1;
const F32 = 0;
const BF16 = 1;

function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
const t = (data: Float32Array | Int32Array, shape?: number[], dtype?: 'float32' | 'bfloat16') =>
  Tensor.fromArray(data, shape ?? [data.length], dtype ? { dtype } : {});
const bf16 = (x: number) => {
  // Round to nearest even bf16, as the core does.
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
};

function refGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number,
  b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): Float64Array {
  const out = new Float64Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      out[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]);
    }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst).toBeLessThan(tol);
}

describe('gemm', () => {
  it.each([
    [false, false, 37, 29, 300], [false, true, 100, 77, 33], [true, false, 13, 130, 520], [true, true, 9, 5, 3],
    [false, true, 200, 150, 257], [true, false, 1, 1, 1],
  ])('transA %s transB %s %i x %i x %i', (ta, tb, m, n, k) => {
    const lda = (ta ? m : k) + 3;
    const ldb = (tb ? k : n) + 1;
    const ldc = n + 2;
    const a = rand((ta ? k : m) * lda, 1);
    const b = rand((tb ? n : k) * ldb, 2);
    const c = rand(m * ldc, 3);
    const [A, B, C] = [t(a), t(b), t(c)];
    ops.gemm(CPU, ta, tb, m, n, k, 0.5, A.dataPtr, F32, lda, B.dataPtr, F32, ldb, 0.25, C.dataPtr, F32, ldc);
    const want = refGemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c, ldc);
    expectClose(C.toArray(), want, 1e-5);
  });

  it('reads bf16 operands and accumulates a bf16 result in fp32', () => {
    const [m, n, k] = [20, 33, 600];
    const a = rand(m * k, 4).map(bf16);
    const b = rand(n * k, 5).map(bf16);
    const A = t(a, [m * k], 'bfloat16');
    const B = t(b, [n * k], 'bfloat16');
    const C = Tensor.zeros([m * n], { dtype: 'bfloat16' });
    ops.gemm(CPU, false, true, m, n, k, 1, A.dataPtr, BF16, k, B.dataPtr, BF16, k, 0, C.dataPtr, BF16, n);
    const want = refGemm(false, true, m, n, k, 1, a, k, b, k, 0, new Float32Array(m * n), n).map(bf16);
    expectClose(C.toArray(), want, 1e-2);
  });

  it('beta 0 ignores NaN in C, and k = 0 scales C', () => {
    const C = t(new Float32Array([NaN, 2]));
    const A = t(new Float32Array([1, 2]));
    ops.gemm(CPU, false, false, 1, 2, 1, 1, A.dataPtr, F32, 1, A.dataPtr, F32, 2, 0, C.dataPtr, F32, 2);
    expect(Array.from(C.toArray())).toEqual([1, 2]);
    ops.gemm(CPU, false, false, 1, 2, 0, 1, A.dataPtr, F32, 1, A.dataPtr, F32, 2, 3, C.dataPtr, F32, 2);
    expect(Array.from(C.toArray())).toEqual([3, 6]);
  });

  it.each(['portable', 'avx2'])('the %s micro kernel gives the same products', (kernel) => {
    // The kernel is chosen once per process, so this runs in a child with FRUGAL_GEMM_KERNEL set.
    const root = path.resolve(__dirname, '..');
    const script = `
      const addon = require('bindings')({ bindings: 'frugal', module_root: ${JSON.stringify(root)} });
      const n = 70, k = 300, m = 50;
      const a = new Float32Array(m * k).map((_, i) => Math.sin(i)), b = new Float32Array(k * n).map((_, i) => Math.cos(i));
      const c = new Float32Array(m * n);
      addon.model.gemm(-1, false, false, m, n, k, 1, addon.hostAddress(a), 0, k, addon.hostAddress(b), 0, n, 0, addon.hostAddress(c), 0, n);
      let worst = 0;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0; for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        worst = Math.max(worst, Math.abs(s - c[i * n + j]));
      }
      process.stdout.write(JSON.stringify({ worst, ran: addon._debugPaths().gemmKernel }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, FRUGAL_GEMM_KERNEL: kernel }, cwd: root }).toString());
    expect(out.worst).toBeLessThan(1e-3);
    // The kernel that ran is the one asked for; on a CPU without it the fallback is reported
    // (test/env-switches.test.ts checks that), and this comparison says what it compared.
    if (out.ran !== kernel) console.log(`FRUGAL_GEMM_KERNEL=${kernel}: this CPU ran the ${out.ran} kernel instead`);
    if (kernel === 'portable') expect(out.ran).toBe('portable');
  });
});

describe('thread count', () => {
  it('does not change any result', () => {
    // The pool size is fixed per process: compute in children with 1 and 3 threads, compare bytes.
    // seq 160: each attention task's GEMMs span several tiles, so they call the pool from inside
    // its tasks (with one thread too, where a nested call must not wait for the pool's lock).
    const root = path.resolve(__dirname, '..');
    const script = `
      const addon = require('bindings')({ bindings: 'frugal', module_root: ${JSON.stringify(root)} });
      const m = addon.model, p = (a) => addon.hostAddress(a);
      const f = (n, s) => new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + s));
      const T = 160, B = 3, H = 2, D = 16, W = H * D, N = B * T;
      const q = f(N * W, 1), k = f(N * W, 2), v = f(N * W, 3), dout = f(N * W, 4);
      const out = new Float32Array(N * W), lse = new Float32Array(N * H), dq = new Float32Array(N * W), dk = new Float32Array(N * W), dv = new Float32Array(N * W);
      const shape = { batch: B, seq: T, heads: H, headDim: D };
      m.attentionForward(-1, p(q), p(k), p(v), p(out), p(lse), shape);
      m.attentionBackward(-1, p(q), p(k), p(v), p(out), p(lse), p(dout), p(dq), p(dk), p(dv), shape);
      const a = f(300 * 500, 5), b = f(500 * 200, 6), c = new Float32Array(300 * 200);
      m.gemm(-1, true, false, 300, 200, 500, 1, p(a), 0, 300, p(b), 0, 200, 0, p(c), 0, 200);
      const w = f(W, 7), rstd = new Float32Array(N), y = new Float32Array(N * W), dx = new Float32Array(N * W), dw = new Float32Array(W);
      m.rmsnormForward(-1, p(q), p(w), 0, p(y), p(rstd), N, W, 1e-5);
      m.rmsnormBackward(-1, p(q), p(w), 0, p(rstd), p(dout), p(dx), false, p(dw), 0, false, N, W);
      const ids = new Int32Array(N).map((_, i) => (i * 7) % 11), table = new Float32Array(11 * W);
      m.embeddingBackward(-1, p(ids), N, p(dout), p(table), 0, 11, W, false);
      const h = require('crypto').createHash('sha256');
      for (const x of [out, lse, dq, dk, dv, c, y, dx, dw, table]) h.update(Buffer.from(x.buffer));
      process.stdout.write(JSON.stringify({ digest: h.digest('hex'), threads: addon._debugPaths().poolThreads }));`;
    const run = (threads: string) =>
      JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, FRUGAL_NUM_THREADS: threads }, cwd: root, timeout: 120_000 }).toString());
    const [three, one] = [run('3'), run('1')];
    expect([three.threads, one.threads]).toEqual([3, 1]); // the pools really differed
    expect(three.digest).toBe(one.digest);
  });
});

describe('transformer ops', () => {
  const shape = { batch: 2, seq: 7, heads: 3, headDim: 4 };
  const width = shape.heads * shape.headDim;
  const rows = shape.batch * shape.seq;

  it('rotary embedding rotates pairs (i, i + d/2) by pos * theta^(-2i/d) and inverts', () => {
    const x = rand(rows * width, 11);
    const X = t(x);
    ops.rope(CPU, X.dataPtr, shape, 10000, false);
    const y = X.toArray();
    const half = shape.headDim / 2;
    for (let r = 0; r < rows; r++) {
      const pos = r % shape.seq;
      for (let h = 0; h < shape.heads; h++)
        for (let i = 0; i < half; i++) {
          const ang = pos * Math.pow(10000, (-2 * i) / shape.headDim);
          const at = r * width + h * shape.headDim + i;
          expect(y[at]).toBeCloseTo(x[at] * Math.cos(ang) - x[at + half] * Math.sin(ang), 5);
          expect(y[at + half]).toBeCloseTo(x[at] * Math.sin(ang) + x[at + half] * Math.cos(ang), 5);
        }
    }
    ops.rope(CPU, X.dataPtr, shape, 10000, true);
    expectClose(X.toArray(), x, 1e-6);
  });

  it('causal attention matches softmax(q k^T / sqrt(d)) v with lse', () => {
    const [q, k, v] = [rand(rows * width, 1), rand(rows * width, 2), rand(rows * width, 3)];
    const out = Tensor.zeros([rows * width]);
    const lse = Tensor.zeros([rows * shape.heads]);
    ops.attentionForward(CPU, t(q).dataPtr, t(k).dataPtr, t(v).dataPtr, out.dataPtr, lse.dataPtr, shape);
    const want = new Float64Array(rows * width);
    const wantLse = new Float64Array(rows * shape.heads);
    const scale = 1 / Math.sqrt(shape.headDim);
    for (let b = 0; b < shape.batch; b++)
      for (let h = 0; h < shape.heads; h++)
        for (let i = 0; i < shape.seq; i++) {
          const at = (r: number, c: number) => (b * shape.seq + r) * width + h * shape.headDim + c;
          const s: number[] = [];
          for (let j = 0; j <= i; j++) {
            let d = 0;
            for (let c = 0; c < shape.headDim; c++) d += q[at(i, c)] * k[at(j, c)];
            s.push(d * scale);
          }
          const mx = Math.max(...s);
          const z = s.reduce((acc, x) => acc + Math.exp(x - mx), 0);
          wantLse[(b * shape.heads + h) * shape.seq + i] = mx + Math.log(z);
          for (let c = 0; c < shape.headDim; c++) want[at(i, c)] = s.reduce((acc, x, j) => acc + (Math.exp(x - mx) / z) * v[at(j, c)], 0);
        }
    expectClose(out.toArray(), want, 1e-5);
    expectClose(lse.toArray(), wantLse, 1e-5);
  });

  it('rmsnorm, swiglu, cross-entropy, embedding and gather', () => {
    const dim = 10;
    const x = rand(4 * dim, 5, 3);
    const w = rand(dim, 6);
    const y = Tensor.zeros([4 * dim]);
    const rstd = Tensor.zeros([4]);
    ops.rmsnormForward(CPU, t(x).dataPtr, t(w).dataPtr, F32, y.dataPtr, rstd.dataPtr, 4, dim, 1e-5);
    const wantY: number[] = [];
    for (let r = 0; r < 4; r++) {
      const ms = x.slice(r * dim, (r + 1) * dim).reduce((a, b) => a + b * b, 0) / dim;
      for (let c = 0; c < dim; c++) wantY.push((x[r * dim + c] / Math.sqrt(ms + 1e-5)) * w[c]);
    }
    expectClose(y.toArray(), wantY, 1e-5);

    const g = rand(12, 7, 4);
    const u = rand(12, 8);
    const o = Tensor.zeros([12]);
    ops.swigluForward(CPU, t(g).dataPtr, t(u).dataPtr, o.dataPtr, 12);
    expectClose(o.toArray(), Array.from(g, (gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]), 1e-6);

    const vocab = 5;
    const logits = rand(3 * vocab, 9, 2);
    const targets = Int32Array.from([4, -1, 0]);
    const losses = Tensor.zeros([3]);
    const L = t(logits);
    ops.crossEntropy(CPU, L.dataPtr, t(targets).dataPtr, 3, vocab, losses.dataPtr, L.dataPtr, 0.5);
    const dl = L.toArray();
    for (let r = 0; r < 3; r++) {
      const row = Array.from(logits.slice(r * vocab, (r + 1) * vocab));
      const lse = Math.log(row.reduce((a, b) => a + Math.exp(b), 0));
      if (targets[r] < 0) {
        expect(losses.toArray()[r]).toBe(0);
        for (let c = 0; c < vocab; c++) expect(dl[r * vocab + c]).toBe(0);
        continue;
      }
      expect(losses.toArray()[r]).toBeCloseTo(lse - row[targets[r]], 5);
      for (let c = 0; c < vocab; c++) expect(dl[r * vocab + c]).toBeCloseTo(0.5 * (Math.exp(row[c] - lse) - (c === targets[r] ? 1 : 0)), 6);
    }

    const table = rand(4 * 3, 10);
    const ids = Int32Array.from([2, 0, 2]);
    const emb = Tensor.zeros([9]);
    ops.embeddingForward(CPU, t(ids).dataPtr, 3, t(table).dataPtr, F32, 4, 3, emb.dataPtr);
    expect(Array.from(emb.toArray())).toEqual([...table.slice(6, 9), ...table.slice(0, 3), ...table.slice(6, 9)]);
    const dtable = Tensor.full([12], 7);
    ops.embeddingBackward(CPU, t(ids).dataPtr, 3, t(new Float32Array([1, 1, 1, 2, 2, 2, 3, 3, 3])).dataPtr, dtable.dataPtr, F32, 4, 3, false);
    expect(Array.from(dtable.toArray())).toEqual([2, 2, 2, 0, 0, 0, 4, 4, 4, 0, 0, 0]);

    const src = rand(2 * 5, 12);
    const dst = Tensor.zeros([4]);
    ops.gatherColumns(CPU, t(src).dataPtr, 2, 5, t(Int32Array.from([4, 1])).dataPtr, t(new Float32Array([2, -1])).dataPtr, 2, dst.dataPtr);
    expectClose(dst.toArray(), [2 * src[4], -src[1], 2 * src[9], -src[6]], 1e-7);
  });
});

describe('model op errors', () => {
  const x = Tensor.zeros([16]);
  it.each([
    ['a null pointer', () => ops.axpy(CPU, 0n, x.dataPtr, 4, 1), /y: null pointer|y: expected a non-NULL pointer/],
    ['a misaligned pointer', () => ops.axpy(CPU, x.dataPtr + 2n, x.dataPtr, 4, 1), /y: pointer is not aligned/],
    ['a bad dtype', () => ops.gemm(CPU, false, false, 1, 1, 1, 1, x.dataPtr, 3, 1, x.dataPtr, 0, 1, 0, x.dataPtr, 0, 1), /a_dtype: expected a float dtype/],
    ['a short leading dimension', () => ops.gemm(CPU, false, false, 2, 3, 4, 1, x.dataPtr, 0, 3, x.dataPtr, 0, 3, 0, x.dataPtr, 0, 3), /lda: expected >= 4/],
    ['an id out of range', () => ops.embeddingForward(CPU, t(Int32Array.from([0, 9])).dataPtr, 2, x.dataPtr, F32, 4, 4, x.dataPtr), /ids\[1\] = 9 is outside \[0, 4\)/],
    ['an odd head size for rotary', () => ops.rope(CPU, x.dataPtr, { batch: 1, seq: 1, heads: 1, headDim: 3 }, 10000, false), /even head_dim/],
    ['a missing device', () => ops.axpy(5, x.dataPtr, x.dataPtr, 4, 1), /cuda:5/],
    ['a bad shape object', () => ops.rope(CPU, x.dataPtr, { batch: 0 } as never, 10000, false), /shape.batch/],
  ])('%s is refused with a clear message', (_what, call, message) => {
    expect(call).toThrow(message);
  });
});
