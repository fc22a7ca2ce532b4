// The CUDA model ops against the CPU ones: each op on the same inputs, then a whole forward and
// backward of a small model (the same seed gives the same weights on every device), within
// float32 tolerance. Without a GPU it says that it skipped, and why.
import { cudaDeviceCount, cudaUnavailableReason } from '../lib/device';
import { ModelConfig } from '../lib/model/config';
import { LlamaModel } from '../lib/model/llama';
import { modelOps } from '../lib/model/native-ops';
import { native } from '../lib/native';
import { Tensor } from '../lib/tensor';

const skipReason = !native().builtWithCuda
  ? 'the addon was built without CUDA'
  : cudaDeviceCount() === 0
    ? cudaUnavailableReason() || 'no CUDA device'
    : '';

function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-3 + Math.abs(b[i])));
  return worst;
}

if (skipReason) {
  describe('model ops on CUDA (skipped)', () => {
    // A skipped-only file prints nothing in jest's summary: this test makes the reason visible.
    test('reports why the CUDA model tests did not run', () => {
      console.log(`model-cuda.test.ts: CUDA model tests skipped: ${skipReason}`);
      expect(skipReason).not.toBe('');
    });
    test.skip(`CUDA model tests skipped: ${skipReason}`, () => undefined);
  });
} else {
  const ops = modelOps();
  const GPU = 0;
  const CPU = -1;
  // Runs `call` once per device on copies of the same inputs; returns the outputs of each.
  // Float inputs and outputs are stored as `dtype` (bf16 inputs are rounded once, on the CPU).
  function both(inputs: (Float32Array | Int32Array)[], outputs: number[], call: (d: number, p: bigint[]) => void,
    dtype: 'float32' | 'bfloat16' = 'float32'): [Float32Array[], Float32Array[]] {
    const result: Float32Array[][] = [];
    for (const [device, name] of [[CPU, 'cpu'], [GPU, 'cuda:0']] as const) {
      const ins = inputs.map((a) => Tensor.fromArray(a, [a.length], a instanceof Int32Array ? {} : { dtype }).to(name));
      const outs = outputs.map((n) => Tensor.zeros([n], { device: name, dtype }));
      call(device, [...ins, ...outs].map((t) => t.dataPtr));
      native().synchronize(device, null);
      result.push([...ins, ...outs].map((t) => t.toArray() as Float32Array));
      [...ins, ...outs].forEach((t) => t.dispose());
    }
    return [result[0], result[1]];
  }

  describe('model ops: CUDA against CPU', () => {
    const shape = { batch: 2, seq: 33, heads: 3, headDim: 8 };
    const rows = shape.batch * shape.seq;
    const width = shape.heads * shape.headDim;

    it.each([
      ['float32', 0, 1e-3],
      // bf16 operands are exact in fp32 and both sides accumulate in fp32, in different orders:
      // the bf16 result may round the other way, one bf16 ulp (2^-8 relative) and no more.
      ['bfloat16', 1, 2 ** -8 + 1e-3],
    ] as const)('gemm in every transpose, %s operands and result', (dtype, code, tol) => {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        const [m, n, k] = [45, 70, 130];
        const a = rand(m * k, 1);
        const b = rand(n * k, 2);
        const [cpu, gpu] = both([a, b], [m * n], (d, [A, B, C]) =>
          ops.gemm(d, ta, tb, m, n, k, 1, A, code, ta ? m : k, B, code, tb ? k : n, 0, C, code, n), dtype);
        expect(maxRelDiff(gpu[2], cpu[2])).toBeLessThan(tol);
        if (dtype === 'bfloat16') expect(cpu[2].every((x) => Math.fround(x) === x && (new Uint32Array(new Float32Array([x]).buffer)[0] & 0xffff) === 0)).toBe(true);
      }
    });

    it('attention forward and backward', () => {
      const [q, k, v, dout] = [rand(rows * width, 3), rand(rows * width, 4), rand(rows * width, 5), rand(rows * width, 6)];
      const [cpu, gpu] = both([q, k, v, dout], [rows * width, rows * shape.heads, rows * width, rows * width, rows * width], (d, p) => {
        ops.attentionForward(d, p[0], p[1], p[2], p[4], p[5], shape);
        ops.attentionBackward(d, p[0], p[1], p[2], p[4], p[5], p[3], p[6], p[7], p[8], shape);
      });
      for (let i = 4; i <= 8; i++) expect(maxRelDiff(gpu[i], cpu[i])).toBeLessThan(1e-3);
    });

    it('rmsnorm, rope, swiglu, cross-entropy, embedding, gather', () => {
      const dim = 24;
      const x = rand(rows * dim, 7, 2);
      const w = rand(dim, 8);
      const dy = rand(rows * dim, 9);
      // Outputs: y (3), rstd (4), dx (5), dw (6), swiglu(y, x) rotated in place (7). Each op
      // writes its own output, so rmsnorm's dx is still there when it is compared.
      const [cpu, gpu] = both([x, w, dy], [rows * dim, rows, rows * dim, dim, rows * dim], (d, p) => {
        ops.rmsnormForward(d, p[0], p[1], 0, p[3], p[4], rows, dim, 1e-5);
        ops.rmsnormBackward(d, p[0], p[1], 0, p[4], p[2], p[5], false, p[6], 0, false, rows, dim);
        ops.swigluForward(d, p[3], p[0], p[7], rows * dim);
        ops.rope(d, p[7], shape, 10000, false);
      });
      for (let i = 3; i <= 7; i++) expect(maxRelDiff(gpu[i], cpu[i])).toBeLessThan(1e-3);
      expect(cpu[5].some((v) => v !== 0)).toBe(true); // dx is rmsnorm's gradient, not zeros

      const vocab = 50;
      const logits = rand(rows * vocab, 10, 3);
      const targets = Int32Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? -1 : (i * 11) % vocab));
      const [c2, g2] = both([logits, targets], [rows, rows * vocab], (d, p) => ops.crossEntropy(d, p[0], p[1], rows, vocab, p[2], p[3], 0.1));
      expect(maxRelDiff(g2[2], c2[2])).toBeLessThan(1e-4);
      expect(maxRelDiff(g2[3], c2[3])).toBeLessThan(1e-3);

      const ids = Int32Array.from({ length: rows }, (_, i) => (i * 5) % vocab);
      const table = rand(vocab * dim, 11);
      const [c3, g3] = both([ids, table, x], [rows * dim, vocab * dim], (d, p) => {
        ops.embeddingForward(d, p[0], rows, p[1], 0, vocab, dim, p[3]);
        ops.embeddingBackward(d, p[0], rows, p[2], p[4], 0, vocab, dim, false);
      });
      expect(g3[3]).toEqual(c3[3]);
      expect(maxRelDiff(g3[4], c3[4])).toBeLessThan(1e-5);

      const idx = Int32Array.from([5, 0, 23, 5]);
      const scale = new Float32Array([1, 2, -1, 0.5]);
      const [c4, g4] = both([x, idx, scale], [rows * 4], (d, p) => ops.gatherColumns(d, p[0], rows, dim, p[1], p[2], 4, p[3]));
      expect(g4[3]).toEqual(c4[3]);
    });
  });

  describe('model forward and backward: CUDA against CPU', () => {
    const cfg: ModelConfig = { vocab: 40, hidden: 32, intermediate: 48, heads: 4, layers: 2, ropeTheta: 10000, normEps: 1e-5, initStd: 0.1 };
    it.each(['float32', 'bfloat16'] as const)('%s weights', (dtype) => {
      const batch = 3;
      const seq = 20;
      const ids = Int32Array.from({ length: batch * seq }, (_, i) => (i * 7) % cfg.vocab);
      const targets = Int32Array.from({ length: batch * seq }, (_, i) => (i * 3 + 1) % cfg.vocab);
      const run = (device: 'cpu' | 'cuda:0') => {
        const m = new LlamaModel(cfg, { device, dtype, seed: 5 });
        for (const p of m.named) p.tensor.grad = Tensor.zeros(p.tensor.shape, { dtype, device });
        const loss = m.forward(ids, targets, batch, seq);
        m.backward();
        const grads = m.named.map((p) => p.tensor.grad!.toArray() as Float32Array);
        for (const p of m.named) p.tensor.grad!.dispose();
        m.dispose();
        return { loss, grads };
      };
      const cpu = run('cpu');
      const gpu = run('cuda:0');
      expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(dtype === 'float32' ? 1e-4 : 1e-2);
      const tol = dtype === 'float32' ? 2e-3 : 5e-2;
      cpu.grads.forEach((g, i) => {
        let scaleRef = 0;
        for (const v of g) scaleRef = Math.max(scaleRef, Math.abs(v));
        let worst = 0;
        for (let j = 0; j < g.length; j++) worst = Math.max(worst, Math.abs(gpu.grads[i][j] - g[j]));
        expect(worst).toBeLessThanOrEqual(tol * scaleRef + 1e-6);
      });
    });
  });
}
