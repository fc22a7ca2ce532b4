// One optimizer over one 6 x 8 float32 param on the CPU, driven through the addon's
// NativeOptimizer (the C API's restore path), and the whole of a param's state as plain data:
// shared by the restore tests (restore-all-or-nothing, review-restore-attacks).
import { Tensor } from '../../lib';
import { native, NativeGroupOptions, NativeOptimizer } from '../../lib/native';

export const SHAPE = [6, 8];
// Bytes per element of frugal_dtype 0..3 (f32, bf16, f16, i32).
const DTYPE_BYTES = [4, 2, 2, 4];

export interface Run {
  opt: NativeOptimizer;
  param: Tensor;
  grad: Tensor;
}

export function build(options: Partial<NativeGroupOptions>): Run {
  const n = native();
  const opt = new n.NativeOptimizer(-1);
  const g = opt.addGroup({ ...n.groupOptionsDefault(), lr: 0.01, seed: 7n, ...options });
  const param = Tensor.randn(SHAPE, { seed: 3 });
  const grad = Tensor.zeros(SHAPE);
  opt.addParam(g, { data: param.dataPtr, dtype: 0, grad: grad.dataPtr, gradDtype: 0, shape: SHAPE });
  return { opt, param, grad };
}

// Step t: a gradient seeded by t.
export function step(r: Run, t: number): void {
  r.grad.copyFrom(Tensor.randn(SHAPE, { seed: 100 + t }));
  r.opt.step(null);
}

// Param 0's state tensors, each with its bytes.
export function stateTensors(r: Run): { name: string; dtype: number; count: number; bytes: number[] }[] {
  return r.opt.stateTensors(0).map((t) => {
    const bytes = new Uint8Array(t.count * DTYPE_BYTES[t.dtype]);
    if (bytes.length) native().copyToHost(bytes, 0, t.data, -1, bytes.length, null);
    return { name: t.name, dtype: t.dtype, count: t.count, bytes: Array.from(bytes) };
  });
}

// Everything a param's state is: counters, the selection in force and every state tensor's bytes.
export function snapshot(r: Run): unknown {
  const sel = r.opt.getSelection(0);
  return {
    counters: r.opt.getCounters(0),
    selection: { kind: sel.kind, active: sel.active, axis: sel.axis, count: sel.count },
    stateBytes: r.opt.stateBytes(0),
    tensors: stateTensors(r),
  };
}
