// `frugal-optim plan`: the memory planner on the command line. The CLI dispatcher (lib/cli)
// routes the `plan` command here with the arguments that follow it.
import * as fs from 'fs';
import { flag, parseCommandLine, UsageError, versionText } from '../cli/args';
import { BlockOrder, GrassSampling, GroupPlanOptions, Side, StateDtype } from './group-options';
import { LLAMA_PRESETS } from './llama-presets';
import { METHOD_NAMES } from './methods';
import { parseBytes, planJson, planTable } from './format';
import { paperTablesMarkdown } from './paper-tables';
import { PlanInput, planMemory, ShapeSpec, WeightDtype } from './planner';

export const PLAN_USAGE = `usage: frugal-optim plan [options]
       frugal-optim plan --help | --version

Model (one of):
  --preset NAME          LLaMA preset: ${Object.keys(LLAMA_PRESETS).join(', ')} (default 60m)
  --shapes JSON|@FILE    explicit tensors: [{"name":"w","shape":[4096,4096],"projectable":true}, ...]
Optimizer:
  --optimizer NAME       ${METHOD_NAMES.join(', ')} (default adamw)
  --density X            state-full fraction (blocks, lines, rank)
  --rank R               explicit rank (svd, grass)
  --update-gap T         refresh every T steps
  --state-dtype D        float32 | bfloat16 moments (fp32 / bf16 also accepted)
  --block-order O        descending | ascending | mirror | random
  --side S               std | reverse_std | left | right
  --orientation O        std | rows | columns (grass; the same as --side std | left | right)
  --sampling S           top-r | norm | uniform (grass)
  --replacement          sample with replacement (grass)
  --keep-statistics      do not reset moments at refreshes
  --randomized-svd       randomized range finder for svd
Training:
  --dtype D              float32 | bfloat16 weights (default float32; fp32 / bf16 also accepted)
  --master-weights       keep fp32 master weights beside bf16 ones
  --grad-dtype D         float32 | bfloat16 gradients (default: the weights' dtype)
  --batch N              sequences per step (default 1)
  --seq-len N            tokens per sequence (default 256)
  --per-layer            per-layer updates: one unit's gradients alive at a time
  --sparse-backward      Grass: compressed gradients except on refresh steps
  --eager-attention      keep s x s attention probabilities (default: fused attention)
  --checkpointing        activation checkpointing per block
  --activations M        pytorch (eager autograd, default) | trainer (this package's training bench)
  --clip                 global-norm gradient clipping
  --gpu-memory SIZE      compare with a GPU: 40GiB, 80GB, bytes
Output:
  --json                 print the plan as JSON
  --paper-tables         print the papers' memory arithmetic (docs/memory.md) instead of a plan
  --help                 this text
  --version              the package version`;

// The training command's short dtype names are accepted too, so one vocabulary works in both.
const DTYPE_ALIASES = { fp32: 'float32', bf16: 'bfloat16' } as const;
const DTYPES = ['float32', 'bfloat16'] as const;
const INT32_MAX = 2 ** 31 - 1;

// Counts (ranks, gaps, sizes) are integers up to 2^31 - 1, the range the core's int32 fields hold.
const FLAGS = {
  preset: flag.string(), // checked by the planner (case-insensitive)
  shapes: flag.string(),
  optimizer: flag.string(), // checked by the planner (case-insensitive)
  density: flag.number(),
  rank: flag.integer({ min: 0, max: INT32_MAX }),
  'update-gap': flag.integer({ min: 1, max: INT32_MAX }),
  'state-dtype': flag.oneOf<StateDtype>(DTYPES, DTYPE_ALIASES),
  'block-order': flag.oneOf<BlockOrder>(['descending', 'ascending', 'mirror', 'random']),
  side: flag.oneOf<Side>(['std', 'reverse_std', 'left', 'right']),
  orientation: flag.oneOf(['std', 'rows', 'columns'] as const),
  sampling: flag.oneOf<GrassSampling>(['top-r', 'norm', 'uniform']),
  replacement: flag.switch(),
  'keep-statistics': flag.switch(),
  'randomized-svd': flag.switch(),
  dtype: flag.oneOf<WeightDtype>(DTYPES, DTYPE_ALIASES),
  'master-weights': flag.switch(),
  'grad-dtype': flag.oneOf<WeightDtype>(DTYPES, DTYPE_ALIASES),
  batch: flag.integer({ min: 1, max: INT32_MAX }),
  'seq-len': flag.integer({ min: 1, max: INT32_MAX }),
  'per-layer': flag.switch(),
  'sparse-backward': flag.switch(),
  'eager-attention': flag.switch(),
  checkpointing: flag.switch(),
  activations: flag.oneOf(['pytorch', 'trainer'] as const),
  clip: flag.switch(),
  'gpu-memory': flag.custom((text, name) => {
    try {
      return parseBytes(text);
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
  }),
  json: flag.switch(),
  'paper-tables': flag.switch(),
};

function readShapes(text: string): ShapeSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(text.startsWith('@') ? fs.readFileSync(text.slice(1), 'utf8') : text);
  } catch (e) {
    throw new UsageError(`--shapes: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) throw new UsageError('--shapes: expected a JSON array of {"shape": [...]} objects');
  return value as ShapeSpec[];
}

export interface PlanCommand {
  input: PlanInput;
  json: boolean;
  help: boolean;
  version: boolean;
  paperTables: boolean;
}

/** Turns command-line flags into planner input; bad flags throw a UsageError naming them. */
export function planInputFromArgs(argv: readonly string[]): PlanCommand {
  const line = parseCommandLine(argv, FLAGS);
  const f = line.flags;
  const settings: Partial<GroupPlanOptions> = {};
  if (f.density !== undefined) settings.density = f.density;
  if (f.rank !== undefined) settings.rank = f.rank;
  if (f['update-gap'] !== undefined) settings.updateGap = f['update-gap'];
  if (f['state-dtype']) settings.stateDtype = f['state-dtype'];
  if (f['block-order']) settings.blockOrder = f['block-order'];
  if (f.side) settings.side = f.side;
  if (f.orientation) settings.side = f.orientation === 'rows' ? 'left' : f.orientation === 'columns' ? 'right' : 'std';
  if (f.sampling) settings.sampling = f.sampling;
  if (f.replacement) settings.replacement = true;
  if (f['keep-statistics']) settings.resetStatistics = false;
  if (f['randomized-svd']) settings.randomizedSvd = true;
  const input: PlanInput = {
    preset: f.preset,
    shapes: f.shapes !== undefined ? readShapes(f.shapes) : undefined,
    optimizer: f.optimizer ?? 'adamw',
    settings,
    dtype: f.dtype,
    masterWeights: f['master-weights'] === true,
    gradDtype: f['grad-dtype'],
    batch: f.batch,
    seqLen: f['seq-len'],
    perLayerUpdates: f['per-layer'] === true,
    sparseBackward: f['sparse-backward'] === true,
    flashAttention: f['eager-attention'] !== true,
    checkpointing: f.checkpointing === true,
    activationModel: f.activations,
    clipping: f.clip === true,
    gpuMemory: f['gpu-memory'],
  };
  if (input.preset && input.shapes) throw new UsageError('--preset and --shapes: give one model, not both');
  return { input, json: f.json === true, help: line.help, version: line.version, paperTables: f['paper-tables'] === true };
}

/**
 * Runs `plan` with its arguments; prints a table (or JSON) and returns the exit code: 0 when the
 * plan fits (or no GPU memory was given), 1 when it does not fit, 2 for bad arguments.
 */
export async function runPlanCommand(argv: string[]): Promise<number> {
  let parsed: PlanCommand;
  try {
    parsed = planInputFromArgs(argv);
    if (parsed.help) {
      process.stdout.write(PLAN_USAGE + '\n');
      return 0;
    }
    if (parsed.version) {
      process.stdout.write(versionText());
      return 0;
    }
    if (parsed.paperTables) {
      process.stdout.write(paperTablesMarkdown() + '\n');
      return 0;
    }
    const plan = planMemory(parsed.input);
    process.stdout.write((parsed.json ? planJson(plan) : planTable(plan)) + '\n');
    return plan.fits === false ? 1 : 0;
  } catch (e) {
    process.stderr.write(`frugal-optim plan: ${(e as Error).message}\n`);
    return 2;
  }
}
