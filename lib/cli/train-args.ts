// `frugal-optim train` command-line flags -> TrainOptions, through the shared parser (args.ts):
// --name value or --name=value; switches take no value. Unknown flags and bad values are
// UsageErrors (exit 2) that name the flag. The checks of the values are checkTrainOptions, which
// the trainer exports for callers of train(), so both refuse the same things with the same words.
import { METHOD_NAMES } from '../methods/registry';
import { checkTrainOptions, DEFAULT_OPTIONS, TrainOptions } from '../train/options';
import { methodOptions } from '../train/optimizers';
import { flag, FlagValues, parseCommandLine, UsageError } from './args';

export const TRAIN_USAGE = `Usage: frugal-optim train [options]
       frugal-optim train --help | --version

Pretrains a LLaMA-style model on the Brown corpus and reports loss, perplexity, speed and memory.
With no options: the tiny preset, byte tokenizer, FRUGAL's pretraining recipe, on a GPU when there
is one, else the CPU (about 10 minutes on 2 cores).

Optimizer
  --optimizer NAME        ${METHOD_NAMES.join(' | ')}   (frugal)
  --lr X                  peak learning rate (the method's recipe: 1e-3; galore, grass 1e-2)
  --weight-decay X        decoupled weight decay (0)
  --density X             frugal / galore / grass: fraction kept state-full (0.25)
  --update-gap T          frugal / galore / grass: steps between re-selections (200)
  --switch-every K        badam: steps between block switches (100)
  --opt NAME=VALUE        any other optimizer option, repeatable (e.g. --opt sampling=norm)
  --max-grad-norm X       global gradient clipping, 0 disables (1)
Schedule
  --schedule NAME         cosine | linear | constant   (cosine)
  --warmup N              warmup steps (10% of --steps)
  --min-lr-ratio X        final lr / peak lr (0.1)
Model and data
  --preset NAME           tiny | 60m | 130m | 350m | 1b | 7b | 13b   (tiny)
  --tokenizer NAME        byte | bpe | llama: LLaMA's 32000 tokens, the presets' vocabulary   (byte)
  --vocab-size N          bpe vocabulary (1024)
  --steps N               training steps (1000)
  --batch N               sequences per step (16)
  --seq-len N             tokens per sequence (128)
  --seed N                weights and data order (0)
Run
  --device NAME           auto | cpu | cuda | cuda:N   (auto: the first GPU, else the CPU)
  --dtype NAME            fp32 | bf16: weight and gradient storage (fp32)
  --threads N             CPU threads (all cores)
  --eval-every N          validation every N steps, 0: only at the end (100)
  --eval-batches N        validation batches (8)
  --log-every N           progress lines when stderr is not a terminal (50)
  --out DIR               metrics and summary (runs/<optimizer>)
  --checkpoint-dir DIR    save checkpoints here
  --checkpoint-every N    steps between checkpoints, 0: only at the end (0)
  --resume                continue from the checkpoint in --checkpoint-dir
  --quiet                 no progress output
Memory modes
  --per-layer             step each layer as soon as its gradients exist, then free them
  --sparse-backward       grass: compute only compressed gradients, except on refresh steps
Comparison
  --compare A,B,...       train each optimizer with the same seed, data and steps; writes
                          <out>/<name>/metrics.jsonl, compare.svg, compare.png and compare.md
`;

// The table parses text (integers, numbers, lists, --opt pairs); ranges and names are
// checkTrainOptions' to state.
const FLAGS = {
  optimizer: flag.string(),
  lr: flag.number(),
  'weight-decay': flag.number(),
  density: flag.number(),
  'update-gap': flag.integer(),
  'switch-every': flag.integer(),
  opt: flag.repeated(parseOptPair),
  'max-grad-norm': flag.number(),
  schedule: flag.string(),
  warmup: flag.integer(),
  'min-lr-ratio': flag.number(),
  preset: flag.string(),
  tokenizer: flag.string(),
  'vocab-size': flag.integer(),
  steps: flag.integer(),
  batch: flag.integer(),
  'seq-len': flag.integer(),
  seed: flag.integer(),
  device: flag.string(),
  dtype: flag.string(),
  threads: flag.integer(),
  'eval-every': flag.integer(),
  'eval-batches': flag.integer(),
  'log-every': flag.integer(),
  out: flag.string(),
  'checkpoint-dir': flag.string(),
  'checkpoint-every': flag.integer(),
  resume: flag.switch(),
  quiet: flag.switch(),
  'per-layer': flag.switch(),
  'sparse-backward': flag.switch(),
  compare: flag.list(), // names checked by checkTrainOptions
};

/** The TrainOptions field each flag sets (--opt fills optimizerOptions). */
const OPTION_OF: { [F in keyof typeof FLAGS]: keyof TrainOptions | null } = {
  optimizer: 'optimizer',
  lr: 'lr',
  'weight-decay': 'weightDecay',
  density: 'density',
  'update-gap': 'updateGap',
  'switch-every': 'switchEvery',
  opt: null,
  'max-grad-norm': 'maxGradNorm',
  schedule: 'schedule',
  warmup: 'warmup',
  'min-lr-ratio': 'minLrRatio',
  preset: 'preset',
  tokenizer: 'tokenizer',
  'vocab-size': 'vocabSize',
  steps: 'steps',
  batch: 'batch',
  'seq-len': 'seqLen',
  seed: 'seed',
  device: 'device',
  dtype: 'dtype',
  threads: 'threads',
  'eval-every': 'evalEvery',
  'eval-batches': 'evalBatches',
  'log-every': 'logEvery',
  out: 'outDir',
  'checkpoint-dir': 'checkpointDir',
  'checkpoint-every': 'checkpointEvery',
  resume: 'resume',
  quiet: 'quiet',
  'per-layer': 'perLayer',
  'sparse-backward': 'sparseBackward',
  compare: 'compare',
};

// Tokens in one step's batch are held in one int32-indexed array.
const MAX_TOKENS_PER_STEP = 2 ** 31 - 1;

// --opt values: numbers, booleans, or strings; lists as a,b (betas=0.9,0.95).
function parseOptValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.includes(',')) return text.split(',').map((t) => parseOptValue(t.trim()));
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function parseOptPair(text: string, name: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`--${name}: expected NAME=VALUE, got '${text}'`);
  return [text.slice(0, at), parseOptValue(text.slice(at + 1))];
}

function toOptions(flags: FlagValues<typeof FLAGS>): TrainOptions {
  const o: TrainOptions = { ...DEFAULT_OPTIONS, optimizerOptions: {} };
  const record = o as unknown as Record<string, unknown>;
  for (const [name, key] of Object.entries(OPTION_OF)) {
    const value = flags[name as keyof typeof FLAGS];
    if (key !== null && value !== undefined) record[key] = value;
  }
  for (const [name, value] of flags.opt ?? []) o.optimizerOptions[name] = value;
  if (o.dtype === ('float32' as string)) o.dtype = 'fp32';
  if (o.dtype === ('bfloat16' as string)) o.dtype = 'bf16';
  return o;
}

/**
 * Parses the arguments after `train`; returns 'help' for --help, 'version' for --version. Bad
 * input throws a UsageError naming the flag.
 */
export function parseTrainArgs(argv: readonly string[]): TrainOptions | 'help' | 'version' {
  const line = parseCommandLine(argv, FLAGS);
  if (line.help) return 'help';
  if (line.version) return 'version';
  const o = toOptions(line.flags);
  try {
    checkTrainOptions(o);
    // The method's settings (--density on adamw, --opt names) are checked now, not after the
    // corpus is loaded; --compare skips the ones a method does not take.
    if (!o.compare) methodOptions(o.optimizer, o);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (o.batch * o.seqLen > MAX_TOKENS_PER_STEP) {
    throw new UsageError(
      `--batch ${o.batch} x --seq-len ${o.seqLen} = ${o.batch * o.seqLen} tokens per step; at most ${MAX_TOKENS_PER_STEP}`,
    );
  }
  return o;
}
