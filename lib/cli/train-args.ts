// `frugal-optim train` command-line flags -> TrainOptions. Flags are --name value or
// --name=value; booleans take no value. Unknown flags and bad values are errors that name the flag.
import { DECIMAL_NUMBER } from '../arg-checks';
import { METHOD_NAMES } from '../methods/registry';
import { checkTrainOptions, DEFAULT_OPTIONS, TrainOptions } from '../train/options';

export const TRAIN_USAGE = `Usage: frugal-optim train [options]

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

type Kind = 'int' | 'number' | 'string' | 'flag' | 'list' | 'opt';
interface FlagSpec {
  key: keyof TrainOptions | 'opt';
  kind: Kind;
}

const FLAGS: Record<string, FlagSpec> = {
  optimizer: { key: 'optimizer', kind: 'string' },
  lr: { key: 'lr', kind: 'number' },
  'weight-decay': { key: 'weightDecay', kind: 'number' },
  density: { key: 'density', kind: 'number' },
  'update-gap': { key: 'updateGap', kind: 'int' },
  'switch-every': { key: 'switchEvery', kind: 'int' },
  opt: { key: 'opt', kind: 'opt' },
  'max-grad-norm': { key: 'maxGradNorm', kind: 'number' },
  schedule: { key: 'schedule', kind: 'string' },
  warmup: { key: 'warmup', kind: 'int' },
  'min-lr-ratio': { key: 'minLrRatio', kind: 'number' },
  preset: { key: 'preset', kind: 'string' },
  tokenizer: { key: 'tokenizer', kind: 'string' },
  'vocab-size': { key: 'vocabSize', kind: 'int' },
  steps: { key: 'steps', kind: 'int' },
  batch: { key: 'batch', kind: 'int' },
  'seq-len': { key: 'seqLen', kind: 'int' },
  seed: { key: 'seed', kind: 'int' },
  device: { key: 'device', kind: 'string' },
  dtype: { key: 'dtype', kind: 'string' },
  threads: { key: 'threads', kind: 'int' },
  'eval-every': { key: 'evalEvery', kind: 'int' },
  'eval-batches': { key: 'evalBatches', kind: 'int' },
  'log-every': { key: 'logEvery', kind: 'int' },
  out: { key: 'outDir', kind: 'string' },
  'checkpoint-dir': { key: 'checkpointDir', kind: 'string' },
  'checkpoint-every': { key: 'checkpointEvery', kind: 'int' },
  resume: { key: 'resume', kind: 'flag' },
  quiet: { key: 'quiet', kind: 'flag' },
  'per-layer': { key: 'perLayer', kind: 'flag' },
  'sparse-backward': { key: 'sparseBackward', kind: 'flag' },
  compare: { key: 'compare', kind: 'list' },
};


// Tokens in one step's batch are held in one int32-indexed array.
const MAX_TOKENS_PER_STEP = 2 ** 31 - 1;

function parseNumber(flag: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (!DECIMAL_NUMBER.test(text) || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
    throw new RangeError(`--${flag}: expected ${integer ? 'an integer' : 'a number'}, got '${text}'`);
  }
  return v;
}

// --opt values: numbers, booleans, or strings; lists as a,b (betas=0.9,0.95).
function parseOptValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text.includes(',')) return text.split(',').map((t) => parseOptValue(t.trim()));
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** Parses the arguments after `train`; returns null for --help. */
export function parseTrainArgs(argv: readonly string[]): TrainOptions | null {
  const o: TrainOptions = { ...DEFAULT_OPTIONS, optimizerOptions: {} };
  const record = o as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return null;
    if (!arg.startsWith('--')) throw new Error(`train: unexpected argument '${arg}' (options start with --; see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = FLAGS[name];
    if (!spec) throw new Error(`train: unknown option --${name} (see --help)`);
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new Error(`--${name}: takes no value`);
      record[spec.key] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new Error(`--${name}: expected a value`);
      value = argv[++i];
    }
    switch (spec.kind) {
      case 'int':
        record[spec.key] = parseNumber(name, value, true);
        break;
      case 'number':
        record[spec.key] = parseNumber(name, value, false);
        break;
      case 'string':
        record[spec.key] = value;
        break;
      case 'list':
        record[spec.key] = value.split(',').map((s) => s.trim()).filter(Boolean); // checked by checkTrainOptions
        break;
      case 'opt': {
        const at = value.indexOf('=');
        if (at <= 0) throw new Error(`--opt: expected NAME=VALUE, got '${value}'`);
        o.optimizerOptions[value.slice(0, at)] = parseOptValue(value.slice(at + 1));
        break;
      }
    }
  }
  if (o.dtype === ('float32' as string)) o.dtype = 'fp32';
  if (o.dtype === ('bfloat16' as string)) o.dtype = 'bf16';
  checkTrainOptions(o);
  if (o.batch * o.seqLen > MAX_TOKENS_PER_STEP) {
    throw new RangeError(
      `--batch ${o.batch} x --seq-len ${o.seqLen} = ${o.batch * o.seqLen} tokens per step; at most ${MAX_TOKENS_PER_STEP}`,
    );
  }
  return o;
}
