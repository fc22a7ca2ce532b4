// Where the backward writes gradients, and when the optimizers step, for the two memory modes:
// - default: every gradient lives for the whole run; one optimizer steps after the backward;
// - per-layer updates: a unit's gradients are allocated just before its backward, stepped by its
//   own optimizer right after, and freed, so the gradients of two units never coexist.
// With Grass's sparse backward, projected weights get only their compressed gradient (r x n or
// m x r) except on refresh steps, which need the full gradient to re-choose the rows.
// Gradient buffers are counted under the 'gradients' memory category.
import { DeviceBuffer } from '../model/buffers';
import { BackwardHooks, Compression, LlamaModel } from '../model/llama';
import { NamedParam } from '../model/params';
import { Tensor } from '../tensor';
import { OptimizerSet } from './optimizers';

export class GradientManager {
  private readonly model: LlamaModel;
  private readonly optimizers: OptimizerSet;
  private readonly sparse: boolean;
  private readonly persistent = new Map<Tensor, DeviceBuffer>();
  private transient: DeviceBuffer[] = [];
  private compressions = new Map<Tensor, Compression>();
  /** Whether any projected weight needed its full gradient this step. */
  refreshStep = false;

  constructor(model: LlamaModel, optimizers: OptimizerSet, sparseBackward: boolean) {
    this.model = model;
    this.optimizers = optimizers;
    this.sparse = sparseBackward;
    if (!optimizers.perLayer) {
      for (const p of model.named) {
        if (this.sparse && p.projectable) continue; // decided step by step
        const buf = this.allocate(p.tensor.numel, p.tensor.dtype);
        this.persistent.set(p.tensor, buf);
        p.tensor.grad = buf.view(p.tensor.shape, p.tensor.dtype);
      }
    }
  }

  /** Runs one backward with the mode's hooks, and the optimizer steps. */
  backwardAndStep(): void {
    this.refreshStep = false;
    const perLayer = this.optimizers.perLayer;
    if (!perLayer && this.sparse) this.model.named.filter((p) => p.projectable).forEach((p) => this.prepare(p));
    const hooks: BackwardHooks = {
      compression: (t) => this.compressions.get(t) ?? null,
      beforeUnit: perLayer ? (_unit, params) => params.forEach((p) => this.prepare(p)) : undefined,
      afterUnit: perLayer
        ? (unit, params) => {
            this.optimizers.forUnit(unit).step();
            this.release(params);
          }
        : undefined,
    };
    this.model.backward(hooks);
    if (!perLayer) {
      this.optimizers.forUnit('all').step();
      if (this.sparse) this.release(this.model.named.filter((p) => p.projectable));
    }
  }

  dispose(): void {
    for (const p of this.model.named) {
      p.tensor.grad = null;
      p.tensor.compressedGrad = null;
    }
    for (const b of this.persistent.values()) b.free();
    for (const b of this.transient) b.free();
    this.persistent.clear();
    this.transient = [];
  }

  // A gradient for one param this step: its compressed form when Grass can take it, else full.
  private prepare(p: NamedParam): void {
    const t = p.tensor;
    if (this.sparse && p.projectable) {
      const info = this.optimizers.forUnit(this.optimizers.perLayer ? p.unit : 'all').grassInfo(t);
      if (!info.nextStepIsRefresh) {
        const count = info.indices.numel;
        const [m, n] = t.shape;
        const shape = info.orientation === 'rows' ? [count, n] : [m, count];
        const buf = this.allocate(count * (info.orientation === 'rows' ? n : m), t.dtype);
        this.transient.push(buf);
        const out = buf.view(shape, t.dtype);
        t.grad = null;
        t.compressedGrad = out;
        this.compressions.set(t, {
          orientation: info.orientation,
          indices: info.indices.dataPtr,
          scales: info.scales ? info.scales.dataPtr : null,
          count,
          out,
        });
        return;
      }
      this.refreshStep = true;
    }
    const buf = this.allocate(t.numel, t.dtype);
    this.transient.push(buf);
    t.grad = buf.view(t.shape, t.dtype);
    t.compressedGrad = null;
  }

  // Frees the step's buffers of these params (persistent ones stay).
  private release(params: NamedParam[]): void {
    const owned = new Set<bigint>();
    for (const p of params) {
      const t = p.tensor;
      if (this.persistent.has(t)) continue;
      if (t.grad) owned.add(t.grad.dataPtr);
      if (t.compressedGrad) owned.add(t.compressedGrad.dataPtr);
      t.grad = null;
      t.compressedGrad = null;
      this.compressions.delete(t);
    }
    this.transient = this.transient.filter((b) => {
      if (!owned.has(b.ptr)) return true;
      b.free();
      return false;
    });
  }

  private allocate(count: number, dtype: 'float32' | 'bfloat16' | 'float16' | 'int32'): DeviceBuffer {
    return new DeviceBuffer(this.model.device, Math.max(1, count) * (dtype === 'float32' || dtype === 'int32' ? 4 : 2), 'gradients');
  }
}
