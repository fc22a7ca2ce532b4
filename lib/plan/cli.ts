// `frugal-optim plan`: the memory planner on the command line. The CLI dispatcher (lib/cli)
// routes the `plan` command here with the arguments that follow it.
import { DECIMAL_NUMBER } from '../arg-checks';
import * as fs from 'fs';
import { BlockOrder, GrassSampling, GroupPlanOptions, Side, StateDtype } from './group-options';
import { LLAMA_PRESETS } from './llama-presets';
import { METHOD_NAMES } from './methods';
import { parseBytes, planJson, planTable } from './format';
import { paperTablesMarkdown } from './paper-tables';
import { PlanInput, planMemory, ShapeSpec, WeightDtype } from './planner';

export const PLAN_USAGE = `usage: frugal-optim plan [options]

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
  --help                 this text`;

type Flag = { name: string; value?: string };

function parseFlags(argv: string[]): Flag[] {
  const flags: Flag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}' (options start with --)`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.push({ name: a.slice(2, eq), value: a.slice(eq + 1) });
    else flags.push({ name: a.slice(2) });
  }
  return flags;
}

const VALUE_FLAGS = new Set([
  'preset', 'shapes', 'optimizer', 'density', 'rank', 'update-gap', 'state-dtype', 'block-order', 'side', 'sampling',
  'dtype', 'grad-dtype', 'batch', 'seq-len', 'gpu-memory', 'activations', 'orientation',
]);

/** Joins "--flag value" pairs; switches stand alone. */
function readFlags(argv: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (VALUE_FLAGS.has(name)) {
      if (i + 1 >= argv.length) throw new Error(`--${name}: expected a value`);
      joined.push(`${a}=${argv[++i]}`);
    } else joined.push(a);
  }
  for (const f of parseFlags(joined)) {
    if (VALUE_FLAGS.has(f.name) && f.value === undefined) throw new Error(`--${f.name}: expected a value`);
    out.set(f.name, f.value ?? true);
  }
  return out;
}


function num(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== 'string' || !DECIMAL_NUMBER.test(v) || !Number.isFinite(x)) throw new Error(`--${name}: expected a number, got '${String(v)}'`);
  return x;
}

// Counts (ranks, gaps, sizes): integers in [min, 2^31 - 1], the range the core's int32 fields hold.
function int(flags: Map<string, string | true>, name: string, min: number): number | undefined {
  const x = num(flags, name);
  if (x === undefined) return undefined;
  if (!Number.isSafeInteger(x) || x < min || x > 2 ** 31 - 1) {
    throw new Error(`--${name}: expected an integer in [${min}, ${2 ** 31 - 1}], got '${String(flags.get(name))}'`);
  }
  return x;
}

// The training command's short dtype names are accepted too, so one vocabulary works in both.
const DTYPE_ALIASES: Record<string, string> = { fp32: 'float32', bf16: 'bfloat16' };

function oneOf<T extends string>(flags: Map<string, string | true>, name: string, allowed: readonly T[]): T | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const v = typeof raw === 'string' && name.endsWith('dtype') ? DTYPE_ALIASES[raw] ?? raw : raw;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new Error(`--${name}: expected one of ${allowed.join(', ')}, got '${String(v)}'`);
  }
  return v as T;
}

function readShapes(text: string): ShapeSpec[] {
  const json = text.startsWith('@') ? fs.readFileSync(text.slice(1), 'utf8') : text;
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error('--shapes: expected a JSON array of {"shape": [...]} objects');
  return value as ShapeSpec[];
}

/** Turns command-line flags into planner input. */
export function planInputFromArgs(argv: string[]): { input: PlanInput; json: boolean; help: boolean; paperTables: boolean } {
  const flags = readFlags(argv);
  const known = new Set([...VALUE_FLAGS, 'replacement', 'keep-statistics', 'randomized-svd', 'master-weights',
    'per-layer', 'sparse-backward', 'eager-attention', 'checkpointing', 'clip', 'json', 'help', 'paper-tables']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k} (see --help)`);
  const settings: Partial<GroupPlanOptions> = {};
  const density = num(flags, 'density');
  if (density !== undefined) settings.density = density;
  const rank = int(flags, 'rank', 0);
  if (rank !== undefined) settings.rank = rank;
  const gap = int(flags, 'update-gap', 1);
  if (gap !== undefined) settings.updateGap = gap;
  const stateDtype = oneOf<StateDtype>(flags, 'state-dtype', ['float32', 'bfloat16']);
  if (stateDtype) settings.stateDtype = stateDtype;
  const order = oneOf<BlockOrder>(flags, 'block-order', ['descending', 'ascending', 'mirror', 'random']);
  if (order) settings.blockOrder = order;
  const side = oneOf<Side>(flags, 'side', ['std', 'reverse_std', 'left', 'right']);
  if (side) settings.side = side;
  const orientation = oneOf(flags, 'orientation', ['std', 'rows', 'columns'] as const);
  if (orientation) settings.side = orientation === 'rows' ? 'left' : orientation === 'columns' ? 'right' : 'std';
  const sampling = oneOf<GrassSampling>(flags, 'sampling', ['top-r', 'norm', 'uniform']);
  if (sampling) settings.sampling = sampling;
  if (flags.has('replacement')) settings.replacement = true;
  if (flags.has('keep-statistics')) settings.resetStatistics = false;
  if (flags.has('randomized-svd')) settings.randomizedSvd = true;
  const dtypes = ['float32', 'bfloat16'] as const;
  const shapes = flags.get('shapes');
  const gpu = flags.get('gpu-memory');
  const input: PlanInput = {
    preset: typeof flags.get('preset') === 'string' ? (flags.get('preset') as string) : undefined,
    shapes: typeof shapes === 'string' ? readShapes(shapes) : undefined,
    optimizer: (flags.get('optimizer') as string | undefined) ?? 'adamw',
    settings,
    dtype: oneOf<WeightDtype>(flags, 'dtype', dtypes),
    masterWeights: flags.has('master-weights'),
    gradDtype: oneOf<WeightDtype>(flags, 'grad-dtype', dtypes),
    batch: int(flags, 'batch', 1),
    seqLen: int(flags, 'seq-len', 1),
    perLayerUpdates: flags.has('per-layer'),
    sparseBackward: flags.has('sparse-backward'),
    flashAttention: !flags.has('eager-attention'),
    checkpointing: flags.has('checkpointing'),
    activationModel: oneOf(flags, 'activations', ['pytorch', 'trainer'] as const),
    clipping: flags.has('clip'),
    gpuMemory: typeof gpu === 'string' ? parseBytes(gpu) : undefined,
  };
  if (input.preset && input.shapes) throw new Error('--preset and --shapes: give one model, not both');
  return { input, json: flags.has('json'), help: flags.has('help'), paperTables: flags.has('paper-tables') };
}

/**
 * Runs `plan` with its arguments; prints a table (or JSON) and returns the exit code: 0 when the
 * plan fits (or no GPU memory was given), 1 when it does not fit, 2 for bad arguments.
 */
export async function runPlanCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof planInputFromArgs>;
  try {
    parsed = planInputFromArgs(argv);
    if (parsed.help) {
      process.stdout.write(PLAN_USAGE + '\n');
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
