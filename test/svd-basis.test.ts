// The exact SVD refresh on the host (native/core/host_svd.cpp): the basis it installs must be
// orthonormal and span the gradient's top singular subspace. Checked against the singular
// values from a Jacobi eigen-decomposition written here in plain JS: for a basis P of the rows'
// side, |P^T G|_F^2 must equal the sum of the top r squared singular values, which only the top
// subspace achieves (a control with the bottom r shows the check can fail).
import { GaLore, OptimizerOptions, Tensor } from '../lib';

// Eigenvalues of the symmetric matrix a (n x n, row-major) by cyclic Jacobi, descending.
function symmetricEigenvalues(a: number[], n: number): number[] {
  const m = a.slice();
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p], akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k], aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  return Array.from({ length: n }, (_v, i) => m[i * n + i]).sort((x, y) => y - x);
}

// Squared singular values of g (rows x cols), descending: eigenvalues of the smaller Gram matrix.
function squaredSingularValues(g: Float32Array, rows: number, cols: number): number[] {
  const q = Math.min(rows, cols);
  const at = (k: number, t: number) => (rows <= cols ? g[k * cols + t] : g[t * cols + k]);
  const len = Math.max(rows, cols);
  const gram: number[] = new Array(q * q).fill(0);
  for (let i = 0; i < q; i++)
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += at(i, t) * at(j, t);
      gram[i * q + j] = s;
    }
  return symmetricEigenvalues(gram, q);
}

// A gradient with a known spectrum shape: rank `rank` plus a little noise (so it is exactly
// rank-deficient when noise is 0).
function lowRankGradient(rows: number, cols: number, rank: number, noise: number, seed: number): Float32Array {
  const x = Tensor.randn([rows, rank], { seed }).toArray() as Float32Array;
  const y = Tensor.randn([rank, cols], { seed: seed + 1 }).toArray() as Float32Array;
  const e = Tensor.randn([rows, cols], { seed: seed + 2 }).toArray() as Float32Array;
  const g = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = noise * e[i * cols + j];
      for (let k = 0; k < rank; k++) s += x[i * rank + k] * y[k * cols + j];
      g[i * cols + j] = s;
    }
  return g;
}

interface Basis { values: Float32Array; side: number; r: number; left: boolean }

function refreshBasis(g: Float32Array, rows: number, cols: number, options: OptimizerOptions): Basis {
  const p = Tensor.zeros([rows, cols]);
  p.grad = Tensor.fromArray(g, [rows, cols]);
  const opt = new GaLore([p], { lr: 1e-3, ...options } as OptimizerOptions);
  opt.step();
  const sd = opt.stateDict();
  const basis = sd.params[0].state.find((s) => s.name === 'basis');
  const counters = sd.params[0].counters;
  opt.dispose();
  p.grad.dispose();
  p.dispose();
  if (!basis) throw new Error('no basis in the state dict');
  const r = counters.selectionCount;
  const side = basis.count / r;
  return { values: basis.data as Float32Array, side, r, left: counters.axis === 0 }; // AXIS_ROWS: a left basis
}

// |P^T G|_F^2 for a basis of the rows' side (left) or |G P|_F^2 for the columns' side, and the
// largest deviation of P^T P from the identity.
function captured(b: Basis, g: Float32Array, rows: number, cols: number): { energy: number; orth: number } {
  let energy = 0;
  let orth = 0;
  const len = b.left ? cols : rows;
  for (let k = 0; k < b.r; k++) {
    for (let t = 0; t < len; t++) {
      let s = 0;
      for (let i = 0; i < b.side; i++) s += b.values[i * b.r + k] * (b.left ? g[i * cols + t] : g[t * cols + i]);
      energy += s * s;
    }
    for (let l = 0; l < b.r; l++) {
      let s = 0;
      for (let i = 0; i < b.side; i++) s += b.values[i * b.r + k] * b.values[i * b.r + l];
      orth = Math.max(orth, Math.abs(s - (k === l ? 1 : 0)));
    }
  }
  return { energy, orth };
}

describe('exact SVD refresh on the host', () => {
  it.each([
    ['wide, std side (left)', 24, 40, 24, 0.05, 'std'],
    ['tall, std side (right)', 40, 24, 24, 0.05, 'std'],
    ['wide, reverse side (right)', 24, 40, 24, 0.05, 'reverse_std'],
    ['tall, reverse side (left)', 40, 24, 24, 0.05, 'reverse_std'],
    ['rank 3 < the rank asked, reverse side', 20, 32, 3, 0, 'reverse_std'],
    ['square', 32, 32, 32, 0.1, 'std'],
  ] as const)('%s: orthonormal, and it captures the top singular energy', (_name, rows, cols, rank, noise, side) => {
    const g = lowRankGradient(rows, cols, rank, noise, 11);
    const basis = refreshBasis(g, rows, cols, { density: 0.25, side } as OptimizerOptions);
    const sv2 = squaredSingularValues(g, rows, cols);
    const top = sv2.slice(0, basis.r).reduce((a, b) => a + Math.max(0, b), 0);
    const got = captured(basis, g, rows, cols);
    // The rank follows the projected side's length (as the reference's projector), capped at min(m, n).
    expect(basis.r).toBe(Math.min(rows, cols, Math.round(basis.side * 0.25)));
    expect(got.orth).toBeLessThan(1e-5);
    expect(Math.abs(got.energy - top)).toBeLessThanOrEqual(1e-5 * sv2[0] * basis.r);
    // control: the bottom r directions capture less, so the equality above could fail
    const bottom = sv2.slice(sv2.length - basis.r).reduce((a, b) => a + Math.max(0, b), 0);
    if (rank >= basis.r && noise > 0) expect(top - bottom).toBeGreaterThan(1e-3 * sv2[0]);
  });
});

describe('an SVD refresh from a non-finite gradient', () => {
  it.each([NaN, Infinity])('is refused by name (%s), as torch.linalg.svd refuses it', (bad) => {
    const g = lowRankGradient(12, 20, 12, 0.1, 5);
    g[37] = bad;
    const p = Tensor.zeros([12, 20]);
    p.grad = Tensor.fromArray(g, [12, 20]);
    const opt = new GaLore([p], { lr: 1e-3 } as OptimizerOptions);
    try {
      expect(() => opt.step()).toThrow(/param 0: the gradient at this SVD refresh has non-finite values/);
    } finally {
      opt.dispose();
      p.grad.dispose();
      p.dispose();
    }
  });
});
