// LLaMA model presets and the parameter list they produce, in the order PyTorch's
// LlamaForCausalLM.named_parameters() yields them. The order matters: FRUGAL's and BAdam's block
// orders ("descending" starts at the last projectable tensor) walk this list.
import { didYouMean } from '../arg-checks';

/** Architecture numbers of a LLaMA-style decoder (untied embedding and LM head, RMSNorm, SwiGLU). */
export interface LlamaConfig {
  hidden: number;
  intermediate: number;
  heads: number;
  layers: number;
  vocab: number;
}

/** The presets of the GaLore / FRUGAL / Grass papers (vocabulary 32000, the LLaMA tokenizer). */
export const LLAMA_PRESETS: Readonly<Record<string, LlamaConfig>> = Object.freeze({
  '60m': { hidden: 512, intermediate: 1376, heads: 8, layers: 8, vocab: 32000 },
  '130m': { hidden: 768, intermediate: 2048, heads: 12, layers: 12, vocab: 32000 },
  '350m': { hidden: 1024, intermediate: 2736, heads: 16, layers: 24, vocab: 32000 },
  '1b': { hidden: 2048, intermediate: 5461, heads: 32, layers: 24, vocab: 32000 },
  '7b': { hidden: 4096, intermediate: 11008, heads: 32, layers: 32, vocab: 32000 },
  '13b': { hidden: 5120, intermediate: 13824, heads: 40, layers: 40, vocab: 32000 },
});

export type PresetName = keyof typeof LLAMA_PRESETS;

/**
 * One parameter tensor of a model. `unit` names the part of the model it belongs to (a layer
 * index, or 'embed' / 'head'): per-layer updates keep the gradients of one unit alive at a time.
 */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** 2-D weights of the transformer blocks: the part memory-efficient methods project. */
  projectable: boolean;
  unit: string;
}

export function presetConfig(name: string): LlamaConfig {
  const key = name.toLowerCase();
  const cfg = LLAMA_PRESETS[key];
  if (!cfg) {
    const names = Object.keys(LLAMA_PRESETS);
    throw new Error(`preset: expected one of ${names.join(', ')}, got '${name}'${didYouMean(name, names)}`);
  }
  return cfg;
}

/** Parameters of a LLaMA model; linear weights are [out_features, in_features] as in torch. */
export function llamaParams(cfg: LlamaConfig): ParamSpec[] {
  const { hidden: h, intermediate: f, layers, vocab } = cfg;
  const params: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, h], projectable: false, unit: 'embed' }];
  for (let l = 0; l < layers; l++) {
    const pre = `model.layers.${l}.`;
    const unit = `layer${l}`;
    const linear = (name: string, out: number, inp: number): ParamSpec => ({
      name: pre + name, shape: [out, inp], projectable: true, unit,
    });
    params.push(
      linear('self_attn.q_proj.weight', h, h),
      linear('self_attn.k_proj.weight', h, h),
      linear('self_attn.v_proj.weight', h, h),
      linear('self_attn.o_proj.weight', h, h),
      linear('mlp.gate_proj.weight', f, h),
      linear('mlp.up_proj.weight', f, h),
      linear('mlp.down_proj.weight', h, f),
      { name: pre + 'input_layernorm.weight', shape: [h], projectable: false, unit },
      { name: pre + 'post_attention_layernorm.weight', shape: [h], projectable: false, unit },
    );
  }
  params.push({ name: 'model.norm.weight', shape: [h], projectable: false, unit: 'head' });
  params.push({ name: 'lm_head.weight', shape: [vocab, h], projectable: false, unit: 'head' });
  return params;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function countParams(params: readonly ParamSpec[]): { total: number; projectable: number; regular: number } {
  let projectable = 0;
  let regular = 0;
  for (const p of params) {
    if (p.projectable) projectable += numel(p.shape);
    else regular += numel(p.shape);
  }
  return { total: projectable + regular, projectable, regular };
}
