// Finite-difference checks of the model's backward on a tiny config: for every parameter tensor,
// the analytic gradient's projection on a random direction must match the central difference
// of the loss along that direction, and single coordinates must match too. Float32 forward
// passes limit the precision, so weights are initialized large (std 0.3) to make the gradients
// big against the rounding noise of the loss.
import { LlamaModel } from '../lib/model/llama';
import { ModelConfig } from '../lib/model/config';
import { NamedParam } from '../lib/model/params';
import { Tensor } from '../lib/tensor';

const cfg: ModelConfig = {
  vocab: 13, hidden: 16, intermediate: 24, heads: 2, layers: 2, ropeTheta: 10000, normEps: 1e-5, initStd: 0.3,
};
const batch = 2;
const seq = 6;

function tokens(seed: number): Int32Array {
  const out = new Int32Array(batch * seq);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 8) % cfg.vocab;
  }
  return out;
}

function withGrads(model: LlamaModel): void {
  for (const p of model.named) p.tensor.grad = Tensor.zeros(p.tensor.shape, { dtype: p.tensor.dtype });
}

function setValues(t: Tensor, values: Float32Array): void {
  t.copyFrom(Tensor.fromArray(values, t.shape));
}

describe('model backward against finite differences', () => {
  const model = new LlamaModel(cfg, { seed: 3 });
  const ids = tokens(1);
  const targets = tokens(2);
  targets[3] = -1; // an ignored position takes part too
  withGrads(model);
  const loss0 = model.forward(ids, targets, batch, seq);
  model.backward();
  const grads = new Map<NamedParam, Float32Array>(model.named.map((p) => [p, p.tensor.grad!.toArray() as Float32Array]));
  const lossAt = () => model.evaluate(ids, targets, batch, seq);

  afterAll(() => model.dispose());

  it('has a finite loss near log(vocab)', () => {
    expect(Number.isFinite(loss0)).toBe(true);
    expect(loss0).toBeGreaterThan(0.5);
    expect(loss0).toBeLessThan(10);
  });

  it.each(model.named.map((p) => [p.name, p] as const))('directional derivative of %s', (_name, p) => {
    const base = p.tensor.toArray() as Float32Array;
    const g = grads.get(p)!;
    // A random +-1 direction, normalized.
    const dir = new Float32Array(base.length);
    let s = 17 + base.length;
    for (let i = 0; i < dir.length; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      dir[i] = s & 0x100 ? 1 : -1;
    }
    const norm = Math.sqrt(dir.length);
    let analytic = 0;
    for (let i = 0; i < dir.length; i++) analytic += (g[i] * dir[i]) / norm;
    const eps = 1e-2;
    const shifted = (sign: number) => {
      const v = new Float32Array(base.length);
      for (let i = 0; i < v.length; i++) v[i] = base[i] + (sign * eps * dir[i]) / norm;
      setValues(p.tensor, v);
      return lossAt();
    };
    const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
    setValues(p.tensor, base);
    expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 + 2e-2 * Math.abs(analytic));
  });

  it('matches single coordinates of the largest gradients', () => {
    for (const p of model.named.filter((_, i) => i % 3 === 0)) {
      const base = p.tensor.toArray() as Float32Array;
      const g = grads.get(p)!;
      let at = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[at])) at = i;
      const eps = 1e-2;
      const v = Float32Array.from(base);
      v[at] = base[at] + eps;
      setValues(p.tensor, v);
      const up = lossAt();
      v[at] = base[at] - eps;
      setValues(p.tensor, v);
      const down = lossAt();
      setValues(p.tensor, base);
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - g[at])).toBeLessThan(2e-3 + 3e-2 * Math.abs(g[at]));
    }
  });
});
