// The bytes an ordinary (non-refresh) optimizer step must move, by our count, and the
// floating-point work of the dense projections. "Must move" is what a perfectly fused kernel
// reads and writes once: e.g. fp32 AdamW reads p, g, m, v and writes p, m, v = 28 B a param;
// signSGD reads p, g and writes p = 12 B. Scratch traffic of our own passes is not counted, so
// bandwidth / copy bandwidth says how close a step is to the hardware's limit for the method.
import { denseGeometry, effectiveKind, isDenseKind, isIndexKind, matrixView, ruleStateSlots, STATE_DTYPE_BYTES } from '../plan/core-allocation';
import { OptimizerStatePlan, PlannedGroup } from '../plan/optimizer-state';

export interface StepTraffic {
  bytes: number;
  /** Multiply-adds x 2 of the projections (dense selections only). */
  flops: number;
}

const WEIGHT_BYTES = { float32: 4, bfloat16: 2 } as const;

/**
 * Traffic of one ordinary step over the planned groups. `state` supplies the selection sizes
 * after the first refresh (blocks active, k lines, rank) as the planner derives them.
 */
export function stepTraffic(groups: readonly PlannedGroup[], state: OptimizerStatePlan,
  weightDtype: keyof typeof WEIGHT_BYTES, gradDtype: keyof typeof WEIGHT_BYTES = weightDtype): StepTraffic {
  const pB = WEIGHT_BYTES[weightDtype];
  const gB = WEIGHT_BYTES[gradDtype];
  const byName = new Map(state.params.map((p) => [p.name, p]));
  let bytes = 0;
  let flops = 0;
  for (const g of groups) {
    const o = g.options;
    const sB = STATE_DTYPE_BYTES[o.stateDtype];
    const slots = ruleStateSlots(o.stateFull);
    const plain = 2 * pB + gB; // read p and g, write p
    const freeTouchesAll = o.stateFree !== 'none';
    for (const p of g.params) {
      const kind = effectiveKind(p.shape, o.selection);
      const { rows, cols, numel: n } = matrixView(p.shape);
      const s = byName.get(p.name);
      if (!s) throw new Error(`stepTraffic: no state plan for ${p.name}`);
      // State-full elements: moments / (slots x state bytes); each is read and written.
      const stateElems = slots > 0 ? s.moments / (slots * sB) : 0;
      const stateTraffic = 2 * s.moments;
      if (kind === 'all' || kind === 'none') {
        bytes += n * plain + (kind === 'all' ? stateTraffic : 0);
      } else if (kind === 'blocks') {
        const active = s.moments > 0;
        if (active) bytes += n * plain + stateTraffic;
        else if (freeTouchesAll) bytes += n * plain; // BAdam leaves inactive blocks untouched
      } else if (isIndexKind(kind)) {
        const touched = freeTouchesAll ? n : stateElems; // Grass touches only its r lines
        bytes += touched * plain + stateTraffic + s.indices + s.scales + s.mask;
      } else if (isDenseKind(kind)) {
        // p, g once; the basis read by both projections; moments of the projected gradient.
        bytes += n * plain + 2 * s.basis + stateTraffic;
        // G -> P^T G and back, plus P P^T G for the residual when a state-free rule needs it.
        flops += 2 * rows * cols * denseGeometry(p.shape, o).rank * (freeTouchesAll ? 3 : 2);
      }
    }
  }
  return { bytes, flops };
}
