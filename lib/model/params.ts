// The parameters of the LLaMA-style decoder, as Tensors the optimizers step. Named and ordered
// like PyTorch's LlamaForCausalLM.named_parameters(), because FRUGAL's and BAdam's block orders
// ("descending" starts at the last projectable tensor) walk the parameter list.
import { Device } from '../device';
import { DType } from '../dtype';
import { Tensor } from '../tensor';
import { ModelConfig } from './config';

export interface LayerParams {
  attnNorm: Tensor; // input_layernorm [h]
  wq: Tensor; // [h, h]
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  mlpNorm: Tensor; // post_attention_layernorm [h]
  wGate: Tensor; // [f, h]
  wUp: Tensor; // [f, h]
  wDown: Tensor; // [h, f]
}

export interface NamedParam {
  name: string;
  tensor: Tensor;
  /** Attention and MLP matrices: what memory-efficient methods project. */
  projectable: boolean;
  /** 'embed', 'layer<i>' or 'head': the unit whose gradients per-layer updates keep alive at a time. */
  unit: string;
}

export interface ModelParams {
  embed: Tensor; // [vocab, h]
  layers: LayerParams[];
  finalNorm: Tensor; // [h]
  lmHead: Tensor; // [vocab, h], untied from the embedding
}

/** Matrices of a layer in named_parameters() order. */
export const LAYER_MATRICES = ['wq', 'wk', 'wv', 'wo', 'wGate', 'wUp', 'wDown'] as const;
const TORCH_NAMES: Record<keyof LayerParams, string> = {
  wq: 'self_attn.q_proj.weight',
  wk: 'self_attn.k_proj.weight',
  wv: 'self_attn.v_proj.weight',
  wo: 'self_attn.o_proj.weight',
  wGate: 'mlp.gate_proj.weight',
  wUp: 'mlp.up_proj.weight',
  wDown: 'mlp.down_proj.weight',
  attnNorm: 'input_layernorm.weight',
  mlpNorm: 'post_attention_layernorm.weight',
};

/**
 * Fresh parameters: matrices normal(0, initStd) from the core's counter-based RNG (the same seed
 * gives the same model on every device), norm weights 1.
 */
export function initParams(cfg: ModelConfig, seed: number, device: Device, dtype: DType): ModelParams {
  const made: Tensor[] = [];
  let counter = 0;
  // Each tensor gets its own stream of the RNG: seed and tensor index mixed into one 64-bit seed.
  const normal = (shape: number[]) => {
    const s = ((BigInt(seed) * 0x9e3779b97f4a7c15n) ^ BigInt(++counter)) & ((1n << 64n) - 1n);
    const t = Tensor.randn(shape, { dtype, device, seed: s, std: cfg.initStd });
    made.push(t);
    return t;
  };
  const ones = (shape: number[]) => {
    const t = Tensor.full(shape, 1, { dtype, device });
    made.push(t);
    return t;
  };
  try {
    const { hidden: h, intermediate: f, vocab: v } = cfg;
    const embed = normal([v, h]);
    const layers: LayerParams[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      layers.push({
        wq: normal([h, h]),
        wk: normal([h, h]),
        wv: normal([h, h]),
        wo: normal([h, h]),
        wGate: normal([f, h]),
        wUp: normal([f, h]),
        wDown: normal([h, f]),
        attnNorm: ones([h]),
        mlpNorm: ones([h]),
      });
    }
    return { embed, layers, finalNorm: ones([h]), lmHead: normal([v, h]) };
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

/** Every parameter in named_parameters() order. */
export function namedParams(p: ModelParams): NamedParam[] {
  const out: NamedParam[] = [{ name: 'model.embed_tokens.weight', tensor: p.embed, projectable: false, unit: 'embed' }];
  p.layers.forEach((layer, l) => {
    const unit = `layer${l}`;
    for (const key of [...LAYER_MATRICES, 'attnNorm', 'mlpNorm'] as const) {
      out.push({ name: `model.layers.${l}.${TORCH_NAMES[key]}`, tensor: layer[key], projectable: key !== 'attnNorm' && key !== 'mlpNorm', unit });
    }
  });
  out.push({ name: 'model.norm.weight', tensor: p.finalNorm, projectable: false, unit: 'head' });
  out.push({ name: 'lm_head.weight', tensor: p.lmHead, projectable: false, unit: 'head' });
  return out;
}

export function disposeParams(p: ModelParams): void {
  for (const n of namedParams(p)) n.tensor.dispose();
}
