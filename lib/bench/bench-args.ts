// Command-line options of the step benchmark, through the shared parser (lib/cli/args.ts).
import { flag, parseCommandLine, UsageError } from '../cli/args';
import { LLAMA_PRESETS } from '../plan/llama-presets';
import { BENCH_METHODS } from './bench-methods';
import { BenchDtype } from './bench-model';

export interface BenchArgs {
  device: string;
  presets: string[];
  dtypes: BenchDtype[];
  methods: string[];
  warmup: number;
  reps: number;
  /** Steps per timed sample (between two device synchronizations). */
  inner: number;
  refreshReps: number;
  outDir: string;
  /** Write docs/benchmarks.md (and its charts) from this run. */
  report: string | null;
  /** Time SVD refreshes (on by default; off for big presets on the CPU, where the host SVD is slow). */
  svdRefresh: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [options]
       npm run bench -- --help | --version
  --device D          cpu | cuda:0 (default: cuda:0 when a GPU is usable, else cpu)
  --preset P[,P...]   LLaMA presets (default: 60m on the CPU; on a GPU every preset that fits)
  --dtype D[,D...]    float32, bfloat16 (default both; fp32 / bf16 also accepted)
  --methods M[,M...]  ${BENCH_METHODS.map((m) => m.key).join(', ')}
  --reps N            timed samples (default 5 on the CPU, 30 on a GPU)
  --warmup N          untimed steps first (default 1 on the CPU, 5 on a GPU)
  --inner N           steps per sample (default 1 on the CPU, 10 on a GPU)
  --refresh-reps N    timed refresh steps (default 2 on the CPU, 5 on a GPU)
  --out DIR|FILE      results folder (default bench/results; <device>-<date>.json inside) or a .json path
  --report FILE       also write a markdown report with SVG charts (e.g. docs/benchmarks.md)
  --no-svd-refresh    do not time SVD refreshes (on the CPU the exact top-r SVD takes about
                      0.1 s for a 60M matrix, 7 s for a 1B one: it grows with the cube of the size)`;

const FLAGS = {
  device: flag.custom((text, name) => {
    if (!/^(cpu|cuda(:\d+)?)$/.test(text)) throw new UsageError(`--${name}: expected cpu or cuda:N, got '${text}'`);
    return text; // whether it exists here is the bench's to say
  }),
  preset: flag.list(Object.keys(LLAMA_PRESETS)),
  dtype: flag.list<BenchDtype>(['float32', 'bfloat16'], { fp32: 'float32', bf16: 'bfloat16' }),
  methods: flag.list(BENCH_METHODS.map((m) => m.key)),
  reps: flag.integer({ min: 1 }),
  warmup: flag.integer({ min: 1 }),
  inner: flag.integer({ min: 1 }),
  'refresh-reps': flag.integer({ min: 1 }),
  out: flag.string(),
  report: flag.string(),
  'no-svd-refresh': flag.switch(),
};

/**
 * Parses argv ('help' / 'version' for those flags; bad input throws a UsageError naming the flag);
 * the defaults depend on whether a GPU is usable.
 */
export function parseBenchArgs(argv: readonly string[], gpu: boolean): BenchArgs | 'help' | 'version' {
  const line = parseCommandLine(argv, FLAGS);
  if (line.help) return 'help';
  if (line.version) return 'version';
  const f = line.flags;
  const device = f.device ?? (gpu ? 'cuda:0' : 'cpu');
  const onGpu = device !== 'cpu';
  return {
    device,
    presets: f.preset ?? (onGpu ? ['60m', '130m', '350m', '1b', '7b'] : ['60m']),
    dtypes: f.dtype ?? ['float32', 'bfloat16'],
    methods: f.methods ?? BENCH_METHODS.map((m) => m.key),
    reps: f.reps ?? (onGpu ? 30 : 5),
    warmup: f.warmup ?? (onGpu ? 5 : 1),
    inner: f.inner ?? (onGpu ? 10 : 1),
    refreshReps: f['refresh-reps'] ?? (onGpu ? 5 : 2),
    outDir: f.out ?? 'bench/results',
    report: f.report ?? null,
    svdRefresh: f['no-svd-refresh'] !== true,
  };
}
