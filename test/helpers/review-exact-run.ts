// Replays one recorded run of the FRUGAL authors' optimizers (the reference's JSON format, see
// ../shared/testdata/frugal-reference/README.md) through frugal-optim's Optimizer, on the CPU, and
// reports how far it lands from the recorded params after every step.
import * as fs from 'fs';
import { GroupOptions, Optimizer, SelectionContext, Tensor } from '../../lib';
import { ReferenceCase, withinTolerance } from './reference-data';

const STATE_FREE: Record<string, GroupOptions['stateFree']> = { sign_sgd: 'signsgd', sgd: 'sgd', no: 'none' };

export interface ReplayResult {
  /** Largest |got - ref| over every param and step. */
  maxError: number;
  /** First step with an element outside the README's tolerance, or -1. */
  firstBadStep: number;
  /** The first element outside tolerance, in words. */
  firstBad: string;
}

export function loadCase(file: string): ReferenceCase {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Everything of the reference's options that is not the selection, in our names.
function sharedOptions(ref: ReferenceCase): GroupOptions {
  const k = ref.kwargs;
  const sgd = ref.optimizer.endsWith('SGD');
  return {
    density: k.density,
    updateGap: k.update_gap,
    resetStatistics: k.reset_statistics ?? true,
    stateFree: STATE_FREE[k.inactive_update_rule],
    stateFullLrScale: k.proj_params_lr_scale,
    stateFreeLrScale: k.inactive_lr_scale,
    ...(sgd ? { stateFull: 'sgdm' as const, momentum: k.momentum ?? 0, dampening: k.dampening ?? 0, nesterov: k.nesterov ?? false } : {}),
  };
}

function projectedOptions(ref: ReferenceCase, index: Map<Tensor, number>): GroupOptions {
  const k = ref.kwargs;
  const common = sharedOptions(ref);
  const recorded = (ctx: SelectionContext) => ref.selections_after_step[ctx.step][String(index.get(ctx.param))];
  const kind = ref.optimizer.replace(/AdamW$|SGD$/, '');
  if (kind === 'Block') {
    // Random orders are replayed; the others are computed by the optimizer itself.
    if (k.block_order === 'random') return { ...common, selection: (ctx) => recorded(ctx).active!, selectionKind: 'blocks' };
    return { ...common, selection: 'blocks', blockOrder: k.block_order };
  }
  if (kind === 'Galore') return { ...common, selection: k.proj_type ?? 'svd', side: k.proj_side };
  if (kind === 'Coord') {
    const choice = k.coord_choice;
    const selectionKind = choice === 'columns' ? 'columns' : choice === 'rows' ? 'rows' : 'coordinates';
    // Nothing to replay at density 0 (and a selection function may not return an empty choice).
    if (k.density === 0) return { ...common, selection: selectionKind };
    const replay = (ctx: SelectionContext) => {
      const sel = recorded(ctx);
      if (sel.indices) return sel.indices;
      const cols = ref.params[index.get(ctx.param)!].shape[1];
      return sel.rows!.map((r, i) => r * cols + sel.cols![i]);
    };
    return { ...common, selection: replay, selectionKind };
  }
  throw new Error(`no mapping for ${ref.optimizer}`);
}

export function replay(ref: ReferenceCase): ReplayResult {
  const k = ref.kwargs;
  const params = ref.params.map((p) => {
    const t = Tensor.fromArray(Float32Array.from(p.init), p.shape);
    t.grad = Tensor.zeros(p.shape);
    return t;
  });
  const index = new Map(params.map((t, i) => [t, i]));
  const regular = params.filter((_t, i) => !ref.params[i].projectable);
  const projected = params.filter((_t, i) => ref.params[i].projectable);
  // The reference's SGD classes run SGD on regular params too; its Adam classes run AdamW.
  const regularGroup = ref.optimizer.endsWith('SGD')
    ? { params: regular, selection: 'all' as const, ...sharedOptions(ref), stateFullLrScale: 1, stateFree: 'none' as const }
    : { params: regular, projectable: false };
  // The SGD classes have no betas / eps / correct_bias: leave those options out, not undefined.
  const defaults = Object.fromEntries(Object.entries({
    lr: k.lr, betas: k.betas, eps: k.eps, weightDecay: k.weight_decay, biasCorrection: k.correct_bias, epsMode: 'hf',
  }).filter(([, v]) => v !== undefined));
  const opt = new Optimizer([regularGroup, { params: projected, ...projectedOptions(ref, index) }], defaults);
  const result: ReplayResult = { maxError: 0, firstBadStep: -1, firstBad: '' };
  try {
    for (let t = 0; t < ref.grads.length; t++) {
      ref.grads[t].forEach((g, i) => params[i].grad!.copyFrom(Tensor.fromArray(Float32Array.from(g), ref.params[i].shape)));
      opt.step();
      ref.expected_after_step[t].forEach((expected, i) => {
        const got = params[i].toArray();
        for (let e = 0; e < expected.length; e++) {
          const err = Math.abs(got[e] - expected[e]);
          result.maxError = Math.max(result.maxError, err);
          if (result.firstBadStep < 0 && !withinTolerance(got[e], expected[e])) {
            result.firstBadStep = t;
            result.firstBad = `step ${t}, param ${i} ${JSON.stringify(ref.params[i].shape)}, element ${e}: got ${got[e]}, reference ${expected[e]}`;
          }
        }
      });
    }
  } finally {
    opt.dispose();
    params.forEach((p) => { p.grad!.dispose(); p.dispose(); });
  }
  return result;
}
