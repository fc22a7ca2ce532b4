// The training bench's options: their defaults (the CPU default run: the tiny preset on the
// Brown corpus with FRUGAL's pretraining recipe, about ten minutes on two cores), and their
// checks, which name the option and what was expected.
import { didYouMean } from '../arg-checks';
import { isMethodName, METHOD_NAMES, MethodName, METHODS } from '../methods/registry';
import { TOKENIZER_KINDS, TokenizerKind } from '../data/tokenizer';
import { ModelConfig, PRESET_NAMES } from '../model/config';
import { MAX_THREADS } from '../threads';

export type { MethodName };

export type ScheduleName = 'cosine' | 'linear' | 'constant';
const SCHEDULES: readonly ScheduleName[] = ['cosine', 'linear', 'constant'];

export interface TrainOptions {
  optimizer: MethodName;
  /** Peak learning rate; undefined: the method's recipe (lib/methods/registry.ts). */
  lr?: number;
  weightDecay?: number;
  density?: number;
  updateGap?: number;
  switchEvery?: number;
  /** Further optimizer options by their API names (e.g. {sampling: 'norm'}). */
  optimizerOptions: Record<string, unknown>;
  maxGradNorm: number;
  preset: string;
  /** API only (tests, experiments): shape overrides on top of the preset. */
  model?: Partial<ModelConfig>;
  /** llama: LLaMA's 32000 pieces (the presets' vocabulary), from the package llama-tokenizer-js. */
  tokenizer: TokenizerKind;
  /** bpe only: the vocabulary it trains. */
  vocabSize: number;
  steps: number;
  batch: number;
  seqLen: number;
  schedule: ScheduleName;
  /** Warmup steps; undefined: 10% of the steps. */
  warmup?: number;
  minLrRatio: number;
  seed: number;
  device: string;
  dtype: 'fp32' | 'bf16';
  evalEvery: number;
  evalBatches: number;
  logEvery: number;
  checkpointDir?: string;
  checkpointEvery: number;
  resume: boolean;
  outDir?: string;
  perLayer: boolean;
  sparseBackward: boolean;
  compare?: MethodName[];
  threads?: number;
  quiet: boolean;
  /** Within --compare: optimizer settings a method does not take are skipped, not an error. */
  lenientOptions?: boolean;
}

export const DEFAULT_OPTIONS: TrainOptions = {
  optimizer: 'frugal',
  optimizerOptions: {},
  maxGradNorm: 1,
  preset: 'tiny',
  tokenizer: 'byte',
  vocabSize: 1024,
  steps: 1000,
  batch: 16,
  seqLen: 128,
  schedule: 'cosine',
  minLrRatio: 0.1,
  seed: 0,
  device: 'auto',
  dtype: 'fp32',
  evalEvery: 100,
  evalBatches: 8,
  logEvery: 50,
  checkpointEvery: 0,
  resume: false,
  perLayer: false,
  sparseBackward: false,
  quiet: false,
};

/** Checks every option; throws an Error naming the first bad one. */
export function checkTrainOptions(o: TrainOptions): void {
  const int = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new RangeError(`--${name}: expected an integer >= ${min}, got ${String(v)}`);
    }
  };
  const num = (name: string, v: unknown, ok: (x: number) => boolean, expected: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new RangeError(`--${name}: expected ${expected}, got ${String(v)}`);
  };
  if (!isMethodName(o.optimizer)) {
    throw new Error(`--optimizer: unknown optimizer '${o.optimizer}'; expected one of ${METHOD_NAMES.join(', ')}${didYouMean(String(o.optimizer), METHOD_NAMES)}`);
  }
  if (!PRESET_NAMES.includes(String(o.preset).toLowerCase())) {
    throw new Error(`--preset: unknown preset '${o.preset}'; expected one of ${PRESET_NAMES.join(', ')}${didYouMean(String(o.preset), PRESET_NAMES)}`);
  }
  if (typeof o.device !== 'string' || !/^(auto|cpu|cuda(:\d+)?)$/.test(o.device)) {
    throw new Error(`--device: expected auto, cpu, cuda or cuda:N, got '${String(o.device)}'`);
  }
  if (!TOKENIZER_KINDS.includes(o.tokenizer)) {
    throw new Error(`--tokenizer: expected ${TOKENIZER_KINDS.map((k) => `'${k}'`).join(', ')}, got '${o.tokenizer}'${didYouMean(String(o.tokenizer), TOKENIZER_KINDS)}`);
  }
  int('vocab-size', o.vocabSize, 257);
  int('steps', o.steps, 1);
  int('batch', o.batch, 1);
  int('seq-len', o.seqLen, 1);
  if (!SCHEDULES.includes(o.schedule)) {
    throw new Error(`--schedule: expected 'cosine', 'linear' or 'constant', got '${o.schedule}'${didYouMean(String(o.schedule), SCHEDULES)}`);
  }
  if (o.warmup !== undefined) int('warmup', o.warmup, 0);
  if (o.warmup !== undefined && o.warmup > o.steps) throw new RangeError(`--warmup: ${o.warmup} is more than --steps ${o.steps}`);
  num('min-lr-ratio', o.minLrRatio, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  if (o.lr !== undefined) num('lr', o.lr, (x) => x > 0, 'a number > 0');
  if (o.weightDecay !== undefined) num('weight-decay', o.weightDecay, (x) => x >= 0, 'a number >= 0');
  if (o.density !== undefined) num('density', o.density, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  if (o.updateGap !== undefined) int('update-gap', o.updateGap, 1);
  if (o.switchEvery !== undefined) int('switch-every', o.switchEvery, 1);
  num('max-grad-norm', o.maxGradNorm, (x) => x >= 0, 'a number >= 0 (0 disables clipping)');
  int('seed', o.seed, 0);
  if (o.dtype !== 'fp32' && o.dtype !== 'bf16') {
    throw new Error(`--dtype: expected 'fp32' or 'bf16', got '${o.dtype}'${didYouMean(String(o.dtype), ['fp32', 'bf16', 'float32', 'bfloat16'])}`);
  }
  int('eval-every', o.evalEvery, 0);
  int('eval-batches', o.evalBatches, 1);
  int('log-every', o.logEvery, 1);
  int('checkpoint-every', o.checkpointEvery, 0);
  if (o.resume && !o.checkpointDir) throw new Error('--resume: needs --checkpoint-dir (where the checkpoint is)');
  if (o.threads !== undefined) {
    int('threads', o.threads, 1);
    if (o.threads > MAX_THREADS) throw new RangeError(`--threads: expected at most ${MAX_THREADS} (the CPU thread pool's limit), got ${o.threads}`);
  }
  if (o.sparseBackward && !METHODS[o.optimizer].sparseBackward && !o.compare) {
    throw new Error(`--sparse-backward: needs --optimizer grass (compressed gradients are Grass's), got '${o.optimizer}'`);
  }
  if (o.perLayer && !METHODS[o.optimizer].perLayer && !o.compare) {
    throw new Error("--per-layer: not available with badam, whose block schedule spans all layers (use the default mode)");
  }
  if (o.compare) {
    if (o.compare.length === 0) throw new Error('--compare: expected a comma-separated list of optimizers');
    for (const m of o.compare) {
      if (!isMethodName(m)) {
        throw new Error(`--compare: unknown optimizer '${m}'; expected some of ${METHOD_NAMES.join(', ')}${didYouMean(String(m), METHOD_NAMES)}`);
      }
    }
    if (o.resume) throw new Error('--resume: not available with --compare');
  }
}
