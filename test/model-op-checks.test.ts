// The model ops' size and pointer checks (issue 10's review): every size made of several
// arguments is multiplied with overflow checks and capped at 2^60 elements, naming the
// arguments; and through the addon every buffer an op touches on the CPU must lie inside memory
// the library knows, its extent worked out from the op's shape. The C API alone (no addon) is
// checked by test/abi/model_sizes.c.
import * as path from 'path';
import { modelOps } from '../lib/model/native-ops';
import { Tensor } from '../lib/tensor';
import { runCProgram } from './helpers/c-program';
import { childJson, ROOT, runChildCode } from './helpers/child';

const ops = modelOps();
const CPU = -1;
const F32 = 0;
const BF16 = 1;
const I32 = 3;

type Buffers = Record<string, bigint>;
interface Case {
  op: string;
  // Each buffer with its exact extent in elements, and its element type.
  buffers: Record<string, [number, typeof F32 | typeof BF16 | typeof I32]>;
  call: (p: Buffers) => void;
}

// Shapes small enough to run, with every extent written out from the op's definition.
const shape = { batch: 1, seq: 3, heads: 2, headDim: 4 }; // 24 elements, lse 6
const CASES: Case[] = [
  {
    op: 'gemm',
    // m 2, n 3, k 4; a (m - 1) * lda + k with lda 5, b (k - 1) * ldb + n with ldb 3, c (m - 1) * ldc + n with ldc 4
    buffers: { a: [9, BF16], b: [12, F32], c: [7, F32] },
    call: (p) => ops.gemm(CPU, false, false, 2, 3, 4, 1, p.a, BF16, 5, p.b, F32, 3, 0, p.c, F32, 4),
  },
  {
    op: 'gemm (transposed)',
    // a (k - 1) * lda + m with lda 3, b (n - 1) * ldb + k with ldb 4, c bf16
    buffers: { a: [11, F32], b: [12, F32], c: [6, BF16] },
    call: (p) => ops.gemm(CPU, true, true, 2, 3, 4, 1, p.a, F32, 3, p.b, F32, 4, 0, p.c, BF16, 3),
  },
  {
    op: 'embeddingForward',
    buffers: { ids: [3, I32], table: [20, BF16], out: [12, F32] },
    call: (p) => ops.embeddingForward(CPU, p.ids, 3, p.table, BF16, 5, 4, p.out),
  },
  {
    op: 'embeddingBackward',
    buffers: { ids: [3, I32], dout: [12, F32], dtable: [20, F32] },
    call: (p) => ops.embeddingBackward(CPU, p.ids, 3, p.dout, p.dtable, F32, 5, 4, false),
  },
  {
    op: 'rmsnormForward',
    buffers: { x: [12, F32], w: [4, BF16], y: [12, F32], rstd: [3, F32] },
    call: (p) => ops.rmsnormForward(CPU, p.x, p.w, BF16, p.y, p.rstd, 3, 4, 1e-5),
  },
  {
    op: 'rmsnormBackward',
    buffers: { x: [12, F32], w: [4, F32], rstd: [3, F32], dy: [12, F32], dx: [12, F32], dw: [4, BF16] },
    call: (p) => ops.rmsnormBackward(CPU, p.x, p.w, F32, p.rstd, p.dy, p.dx, false, p.dw, BF16, false, 3, 4),
  },
  { op: 'rope', buffers: { x: [24, F32] }, call: (p) => ops.rope(CPU, p.x, shape, 10000, false) },
  {
    op: 'attentionForward',
    buffers: { q: [24, F32], k: [24, F32], v: [24, F32], out: [24, F32], lse: [6, F32] },
    call: (p) => ops.attentionForward(CPU, p.q, p.k, p.v, p.out, p.lse, shape),
  },
  {
    op: 'attentionBackward',
    buffers: {
      q: [24, F32], k: [24, F32], v: [24, F32], out: [24, F32], lse: [6, F32], dout: [24, F32], dq: [24, F32], dk: [24, F32],
      dv: [24, F32],
    },
    call: (p) => ops.attentionBackward(CPU, p.q, p.k, p.v, p.out, p.lse, p.dout, p.dq, p.dk, p.dv, shape),
  },
  { op: 'swigluForward', buffers: { gate: [5, F32], up: [5, F32], out: [5, F32] }, call: (p) => ops.swigluForward(CPU, p.gate, p.up, p.out, 5) },
  {
    op: 'swigluBackward',
    buffers: { gate: [5, F32], up: [5, F32], dout: [5, F32], dgate: [5, F32], dup: [5, F32] },
    call: (p) => ops.swigluBackward(CPU, p.gate, p.up, p.dout, p.dgate, p.dup, 5),
  },
  {
    op: 'crossEntropy',
    buffers: { logits: [12, F32], targets: [3, I32], losses: [3, F32], dlogits: [12, F32] },
    call: (p) => ops.crossEntropy(CPU, p.logits, p.targets, 3, 4, p.losses, p.dlogits, 1),
  },
  { op: 'axpy', buffers: { y: [5, F32], x: [5, F32] }, call: (p) => ops.axpy(CPU, p.y, p.x, 5, 1) },
  {
    op: 'gatherColumns',
    buffers: { src: [12, F32], idx: [2, I32], scale: [2, F32], dst: [6, F32] },
    call: (p) => ops.gatherColumns(CPU, p.src, 3, 4, p.idx, p.scale, 2, p.dst),
  },
];

const DTYPE = { [F32]: 'float32', [BF16]: 'bfloat16', [I32]: 'int32' } as const;
const allocate = (elems: number, dtype: keyof typeof DTYPE) => Tensor.zeros([elems], { dtype: DTYPE[dtype] });

describe('model ops through the addon: every CPU buffer must hold the extent the op touches', () => {
  test.each(CASES.map((c) => [c.op, c] as const))('%s: exact extents run; each buffer one element short is refused by name', (_op, c) => {
    const exact = Object.fromEntries(Object.entries(c.buffers).map(([name, [n, dt]]) => [name, allocate(n, dt)]));
    const ptrs = (t: Record<string, Tensor>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataPtr]));
    expect(() => c.call(ptrs(exact))).not.toThrow();
    for (const [name, [n, dt]] of Object.entries(c.buffers)) {
      const short = allocate(n - 1, dt);
      const bytes = n * (dt === BF16 ? 2 : 4);
      const error = (() => {
        try {
          c.call(ptrs({ ...exact, [name]: short }));
        } catch (e) {
          return e as Error & { code?: string };
        }
        return null;
      })();
      expect(error?.message).toMatch(
        new RegExp(`^${name}: ${bytes} bytes at 0x[0-9a-f]+ are not inside memory frugal-optim allocated on the cpu \\(or freed\\) nor inside a host buffer it was given$`),
      );
      expect(error?.code).toBe('FRUGAL_ERR_INVALID_ARGUMENT');
      short.dispose();
    }
  });

  test('a host buffer the addon handed out is accepted; a freed tensor is refused', () => {
    const addon = require('../lib/native').native();
    const y = new Float32Array(4).fill(1);
    const x = Tensor.fromArray(new Float32Array([1, 2, 3, 4]));
    ops.axpy(CPU, addon.hostAddress(y), x.dataPtr, 4, 2);
    expect(Array.from(y)).toEqual([3, 5, 7, 9]);
    const gone = Tensor.zeros([4]);
    const ptr = gone.dataPtr;
    gone.dispose();
    expect(() => ops.axpy(CPU, ptr, x.dataPtr, 4, 1)).toThrow(/^y: 16 bytes at 0x[0-9a-f]+ are not inside memory frugal-optim allocated/);
  });
});

describe('model ops: sizes whose products overflow are refused naming the arguments', () => {
  // In a child: before these checks, such a call ran the op over the huge sizes (a crash).
  test('through the TypeScript model ops', () => {
    const r = runChildCode(`
      const { modelOps } = require(${JSON.stringify(path.join(ROOT, 'lib', 'model', 'native-ops'))});
      const ops = modelOps();
      const t = lib.Tensor.zeros([64]);
      const p = t.dataPtr, B = 2 ** 40, big = 2 ** 52;
      const calls = {
        attention: () => ops.attentionForward(-1, p, p, p, p, p, { batch: B, seq: B, heads: B, headDim: 2 }),
        attentionBackward: () => ops.attentionBackward(-1, p, p, p, p, p, p, p, p, p, { batch: 1, seq: B, heads: B, headDim: 1 }),
        scores: () => ops.attentionForward(-1, p, p, p, p, p, { batch: 1, seq: 2 ** 31, heads: 1, headDim: 1 }),
        rope: () => ops.rope(-1, p, { batch: B, seq: B, heads: 1, headDim: 2 }, 10000, false),
        gemmC: () => ops.gemm(-1, false, false, big, 2, 1, 1, p, 0, 1, p, 0, 2, 0, p, 0, big),
        gemmA: () => ops.gemm(-1, false, false, big, 1, 2, 1, p, 0, big, p, 0, 1, 0, p, 0, 1),
        gemmB: () => ops.gemm(-1, false, true, 1, big, 2, 1, p, 0, 2, p, 0, big, 0, p, 0, big),
        embedding: () => ops.embeddingForward(-1, p, 1, p, 0, B, B, p),
        embeddingBackward: () => ops.embeddingBackward(-1, p, 0, p, p, 0, B, B, false),
        rmsnorm: () => ops.rmsnormForward(-1, p, p, 0, p, p, B, B, 1e-5),
        rmsnormBackward: () => ops.rmsnormBackward(-1, p, p, 0, p, p, p, false, p, 0, false, B, B),
        crossEntropy: () => ops.crossEntropy(-1, p, p, B, B, p, null, 1),
        gather: () => ops.gatherColumns(-1, p, B, B, p, null, 1, p),
        gatherDst: () => ops.gatherColumns(-1, p, B, 1, p, null, B, p),
      };
      const out = {};
      for (const [k, f] of Object.entries(calls)) {
        try { f(); out[k] = 'ran'; } catch (e) { out[k] = e.message; }
      }
      console.log(JSON.stringify(out));`);
    const out = childJson<Record<string, string>>(r);
    const B = '1099511627776';
    const big = '4503599627370496';
    expect(out).toEqual({
      attention: `shape.batch * shape.seq * shape.heads * shape.head_dim: ${B} * ${B} * ${B} * 2 is more than 2^60 elements`,
      attentionBackward: `shape.batch * shape.seq * shape.heads * shape.head_dim: 1 * ${B} * ${B} * 1 is more than 2^60 elements`,
      scores: 'shape.seq * shape.seq: 2147483648 * 2147483648 is more than 2^60 elements',
      rope: `shape.batch * shape.seq * shape.heads * shape.head_dim: ${B} * ${B} * 1 * 2 is more than 2^60 elements`,
      gemmC: `c: (m - 1) * ldc + n: (${big} - 1) * ${big} + 2 is more than 2^60 elements`,
      gemmA: `a: (m - 1) * lda + k: (${big} - 1) * ${big} + 2 is more than 2^60 elements`,
      gemmB: `b: (n - 1) * ldb + k: (${big} - 1) * ${big} + 2 is more than 2^60 elements`,
      embedding: `vocab * dim: ${B} * ${B} is more than 2^60 elements`,
      embeddingBackward: `vocab * dim: ${B} * ${B} is more than 2^60 elements`,
      rmsnorm: `rows * dim: ${B} * ${B} is more than 2^60 elements`,
      rmsnormBackward: `rows * dim: ${B} * ${B} is more than 2^60 elements`,
      crossEntropy: `rows * vocab: ${B} * ${B} is more than 2^60 elements`,
      gather: `rows * cols: ${B} * ${B} is more than 2^60 elements`,
      gatherDst: `rows * k: ${B} * ${B} is more than 2^60 elements`,
    });
  });

  test('through the C API (test/abi/model_sizes.c, linked with libfrugal)', () => {
    const r = runCProgram('model_sizes');
    expect(r.signal).toBeNull(); // before these checks: SIGSEGV
    expect(r.stdout).not.toMatch(/FAILED/);
    expect(r.stdout).toMatch(/ok: attention_forward: batch \* seq \* heads \* head_dim overflowing int64 is refused\n/);
    expect(r.stdout).toMatch(/ok: caller-owned memory of the exact extents is accepted\n/);
    expect(r.stdout).toMatch(/all checks held\n$/);
    expect(r.status).toBe(0);
  });
});
