// Shapes of the LLaMA-style decoder: the papers' presets (GaLore / FRUGAL / Grass: 60M ... 13B)
// and the small default that trains on two CPU cores in about ten minutes. The vocabulary comes
// from the tokenizer (byte-level: 256), not the preset, unless a preset is used with the LLaMA
// tokenizer's 32000.

export interface ModelConfig {
  vocab: number;
  hidden: number;
  /** SwiGLU width. */
  intermediate: number;
  heads: number;
  layers: number;
  /** Rotary base. */
  ropeTheta: number;
  normEps: number;
  /** Standard deviation of the normal init of every matrix (norm weights start at 1). */
  initStd: number;
}

export type PresetShape = Pick<ModelConfig, 'hidden' | 'intermediate' | 'heads' | 'layers'>;

export const MODEL_PRESETS: Readonly<Record<string, PresetShape>> = Object.freeze({
  // ~3.4M parameters with the byte tokenizer: a few hundred tokens of context learn English
  // spelling and short words within the CPU budget.
  tiny: { hidden: 256, intermediate: 688, heads: 4, layers: 4 },
  '60m': { hidden: 512, intermediate: 1376, heads: 8, layers: 8 },
  '130m': { hidden: 768, intermediate: 2048, heads: 12, layers: 12 },
  '350m': { hidden: 1024, intermediate: 2736, heads: 16, layers: 24 },
  '1b': { hidden: 2048, intermediate: 5461, heads: 32, layers: 24 },
  '7b': { hidden: 4096, intermediate: 11008, heads: 32, layers: 32 },
  '13b': { hidden: 5120, intermediate: 13824, heads: 40, layers: 40 },
});

export const PRESET_NAMES = Object.keys(MODEL_PRESETS);

/** A full config from a preset name and a vocabulary size; unknown names are a clear error. */
export function modelConfig(preset: string, vocab: number, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const shape = MODEL_PRESETS[preset.toLowerCase()];
  if (!shape) throw new Error(`preset: unknown preset '${preset}'; expected one of ${PRESET_NAMES.join(', ')}`);
  const cfg: ModelConfig = { vocab, ...shape, ropeTheta: 10000, normEps: 1e-5, initStd: 0.02, ...overrides };
  checkModelConfig(cfg);
  return cfg;
}

export function checkModelConfig(cfg: ModelConfig): void {
  const positive = (name: keyof ModelConfig) => {
    const v = cfg[name];
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new RangeError(`model: ${name} must be an integer >= 1, got ${v}`);
  };
  (['vocab', 'hidden', 'intermediate', 'heads', 'layers'] as const).forEach(positive);
  if (cfg.hidden % cfg.heads !== 0) {
    throw new RangeError(`model: hidden (${cfg.hidden}) must be a multiple of heads (${cfg.heads})`);
  }
  if ((cfg.hidden / cfg.heads) % 2 !== 0) {
    throw new RangeError(`model: the head size hidden/heads (${cfg.hidden / cfg.heads}) must be even for rotary embeddings`);
  }
  if (!(cfg.ropeTheta > 1)) throw new RangeError(`model: ropeTheta must be > 1, got ${cfg.ropeTheta}`);
  if (!(cfg.normEps > 0)) throw new RangeError(`model: normEps must be > 0, got ${cfg.normEps}`);
  if (!(cfg.initStd > 0)) throw new RangeError(`model: initStd must be > 0, got ${cfg.initStd}`);
}

/** Parameter count: embedding, per layer 4 h^2 + 3 h f + 2 h (norms), final norm, LM head. */
export function parameterCount(cfg: ModelConfig): { total: number; projectable: number } {
  const { vocab: v, hidden: h, intermediate: f, layers: l } = cfg;
  const projectable = l * (4 * h * h + 3 * h * f);
  return { total: projectable + l * 2 * h + h + 2 * v * h, projectable };
}
