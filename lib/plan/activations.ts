// An estimate of the activations a LLaMA forward pass keeps for the backward pass, counted
// tensor by tensor as PyTorch eager autograd saves them (docs/memory.md derives each term).
import { LlamaConfig } from './llama-presets';

export interface ActivationOptions {
  batch: number;
  seqLen: number;
  /** Bytes of one activation element: 2 for bf16 / fp16 compute, 4 for fp32. */
  elementBytes: number;
  /** Fused attention (FlashAttention / SDPA) keeps only a per-head log-sum-exp, not the s x s scores. */
  flashAttention: boolean;
  /** Activation checkpointing: keep each block's input only, recompute one block at a time. */
  checkpointing: boolean;
}

export interface ActivationBreakdown {
  /** Per layer, all tokens. */
  perLayer: number;
  layers: number;
  /** Embedding ids, final norm, LM-head input, logits and the loss's fp32 copy. */
  head: number;
  total: number;
}

/**
 * Bytes one transformer block saves per token:
 *  (8h + 4f) elements: residual input and RMSNorm output before attention (2h), q, k, v (3h),
 *  attention output (h), residual and RMSNorm output before the MLP (2h), and for SwiGLU the gate
 *  pre-activation, its SiLU, the up projection and their product (4f);
 *  plus two fp32 RMSNorm inverse-RMS values, and per head either a fp32 log-sum-exp (fused
 *  attention) or a row of s softmax probabilities (eager attention).
 */
export function blockBytesPerToken(cfg: LlamaConfig, o: ActivationOptions): number {
  const { hidden: h, intermediate: f, heads } = cfg;
  const attention = o.flashAttention ? heads * 4 : heads * o.seqLen * o.elementBytes;
  return (8 * h + 4 * f) * o.elementBytes + 2 * 4 + attention;
}

/** Bytes per token outside the blocks: int64 ids, final norm input/output, logits and fp32 loss copy. */
export function headBytesPerToken(cfg: LlamaConfig, o: ActivationOptions): number {
  const { hidden: h, vocab } = cfg;
  return 8 + 2 * h * o.elementBytes + 4 + vocab * (o.elementBytes + 4);
}

export function activationBytes(cfg: LlamaConfig, o: ActivationOptions): ActivationBreakdown {
  const tokens = o.batch * o.seqLen;
  const block = blockBytesPerToken(cfg, o) * tokens;
  const head = headBytesPerToken(cfg, o) * tokens;
  if (o.checkpointing) {
    // Each block's input stays; during backward one block's activations are rebuilt at a time.
    const kept = cfg.hidden * o.elementBytes * tokens;
    return { perLayer: kept, layers: cfg.layers, head, total: kept * cfg.layers + block + head };
  }
  return { perLayer: block, layers: cfg.layers, head, total: block * cfg.layers + head };
}

/**
 * The activations this package's own training bench allocates (lib/model/activations.ts), all
 * fp32 whatever the weights' dtype: per layer and token 8h + 3f + 2 + heads floats (residuals,
 * norm outputs and inverse RMS, q, k, v, attention output, log-sum-exp per head, gate, up,
 * their product); outside the layers 2h + vocab + 4 (ids, targets, final norm, logits, losses);
 * and the backward's scratch 5h + 3f + max(h, f).
 */
export function trainerActivationBytes(cfg: LlamaConfig, batch: number, seqLen: number): ActivationBreakdown {
  const { hidden: h, intermediate: f, heads, vocab, layers } = cfg;
  const rows = batch * seqLen;
  const perLayer = rows * (8 * h + 3 * f + 2 + heads) * 4;
  const head = rows * (2 * h + vocab + 4 + 5 * h + 3 * f + Math.max(h, f)) * 4;
  return { perLayer, layers, head, total: perLayer * layers + head };
}
