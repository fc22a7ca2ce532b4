// The model ops of the addon (native/addon/model_bindings.cpp over frugal_model.h), typed. Every
// pointer is a bigint device address (a host address on the CPU); every function throws the
// core's message when its arguments are wrong. The addon exposes them as `model`.
import { native } from '../native';

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  headDim: number;
  /** Multiplies q.k; default 1 / sqrt(headDim). */
  scale?: number;
}

type Ptr = bigint;
type Nullable = bigint | null;

export interface ModelOps {
  gemm(
    device: number, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Ptr, aDtype: number, lda: number, b: Ptr, bDtype: number, ldb: number, beta: number,
    c: Ptr, cDtype: number, ldc: number, stream?: Nullable,
  ): void;
  embeddingForward(
    device: number, ids: Ptr, n: number, table: Ptr, dtype: number, vocab: number, dim: number, out: Ptr,
    stream?: Nullable,
  ): void;
  embeddingBackward(
    device: number, ids: Ptr, n: number, dout: Ptr, dtable: Ptr, dtype: number, vocab: number, dim: number,
    accumulate: boolean, stream?: Nullable,
  ): void;
  rmsnormForward(
    device: number, x: Ptr, w: Ptr, wDtype: number, y: Ptr, rstd: Ptr, rows: number, dim: number, eps: number,
    stream?: Nullable,
  ): void;
  rmsnormBackward(
    device: number, x: Ptr, w: Ptr, wDtype: number, rstd: Ptr, dy: Ptr, dx: Nullable, accumulateDx: boolean,
    dw: Nullable, dwDtype: number, accumulateDw: boolean, rows: number, dim: number, stream?: Nullable,
  ): void;
  rope(device: number, x: Ptr, shape: AttentionShape, theta: number, inverse: boolean, stream?: Nullable): void;
  attentionForward(device: number, q: Ptr, k: Ptr, v: Ptr, out: Ptr, lse: Ptr, shape: AttentionShape, stream?: Nullable): void;
  attentionBackward(
    device: number, q: Ptr, k: Ptr, v: Ptr, out: Ptr, lse: Ptr, dout: Ptr, dq: Ptr, dk: Ptr, dv: Ptr,
    shape: AttentionShape, stream?: Nullable,
  ): void;
  swigluForward(device: number, gate: Ptr, up: Ptr, out: Ptr, n: number, stream?: Nullable): void;
  swigluBackward(device: number, gate: Ptr, up: Ptr, dout: Ptr, dgate: Ptr, dup: Ptr, n: number, stream?: Nullable): void;
  crossEntropy(
    device: number, logits: Ptr, targets: Ptr, rows: number, vocab: number, losses: Nullable, dlogits: Nullable,
    gradScale: number, stream?: Nullable,
  ): void;
  axpy(device: number, y: Ptr, x: Ptr, n: number, alpha: number, stream?: Nullable): void;
  gatherColumns(
    device: number, src: Ptr, rows: number, cols: number, idx: Ptr, scale: Nullable, k: number, dst: Ptr,
    stream?: Nullable,
  ): void;
}

let ops: ModelOps | undefined;

/** The addon's model ops; a clear error when the addon was built without them. */
export function modelOps(): ModelOps {
  if (ops) return ops;
  const addon = native() as unknown as { model?: ModelOps };
  if (!addon.model || typeof addon.model.gemm !== 'function') {
    throw new Error(
      'frugal-optim: this build of the native addon has no model ops (native/model); rebuild it with ' +
        '`npm run build:addon` from a checkout whose sources.json lists native/model and native/addon/model_bindings.cpp',
    );
  }
  ops = addon.model;
  return ops;
}
