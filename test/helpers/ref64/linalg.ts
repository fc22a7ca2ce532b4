// float64 matrix helpers for the reference: row-major number arrays, no library. Small sizes only
// (the cases use matrices of a few dozen rows), so clarity beats speed.

/** C = A (m x k) times B (k x n). */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const c = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j];
    }
  return c;
}

export function transpose(a: ArrayLike<number>, m: number, n: number): number[] {
  const t = new Array<number>(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/**
 * Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations: eigenvalues in
 * descending order and the matching eigenvectors as the columns of an n x n row-major matrix.
 */
export function symmetricEigen(s: ArrayLike<number>, n: number): { values: number[]; vectors: number[] } {
  const a = Array.from(s);
  const v = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - sn * akq;
          a[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - sn * aqk;
          a[q * n + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - sn * vkq;
          v[k * n + q] = sn * vkp + c * vkq;
        }
      }
  }
  const order = [...Array(n).keys()].sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = order.map((i) => a[i * n + i]);
  const vectors = new Array<number>(n * n);
  for (let r = 0; r < n; r++) order.forEach((col, j) => (vectors[r * n + j] = v[r * n + col]));
  return { values, vectors };
}

/** max |Q^T Q - I| for a rows x cols matrix Q (its columns should be orthonormal). */
export function orthonormalityError(q: ArrayLike<number>, rows: number, cols: number): number {
  const g = matmul(transpose(q, rows, cols), q, cols, rows, cols);
  let worst = 0;
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) worst = Math.max(worst, Math.abs(g[i * cols + j] - (i === j ? 1 : 0)));
  return worst;
}

/** max |P P^T - Q Q^T|: zero when the column spaces of P and Q (both n x r, orthonormal) agree. */
export function subspaceDistance(p: ArrayLike<number>, q: ArrayLike<number>, n: number, r: number): number {
  const pp = matmul(p, transpose(p, n, r), n, r, n);
  const qq = matmul(q, transpose(q, n, r), n, r, n);
  return Math.max(...pp.map((x, i) => Math.abs(x - qq[i])));
}

/** Python's round(): nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
