// Command-line options of the step benchmark.
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
  --device D          cpu | cuda:0 (default: cuda:0 when a GPU is usable, else cpu)
  --preset P[,P...]   LLaMA presets (default: 60m on the CPU; on a GPU every preset that fits)
  --dtype D[,D...]    float32, bfloat16 (default both)
  --methods M[,M...]  ${BENCH_METHODS.map((m) => m.key).join(', ')}
  --reps N            timed samples (default 5 on the CPU, 30 on a GPU)
  --warmup N          untimed steps first (default 1 on the CPU, 5 on a GPU)
  --inner N           steps per sample (default 1 on the CPU, 10 on a GPU)
  --refresh-reps N    timed refresh steps (default 2 on the CPU, 5 on a GPU)
  --out DIR|FILE      results folder (default bench/results; <device>-<date>.json inside) or a .json path
  --report FILE       also write a markdown report with SVG charts (e.g. docs/benchmarks.md)
  --no-svd-refresh    do not time SVD refreshes (on the CPU the exact top-r SVD takes about
                      0.1 s for a 60M matrix, 7 s for a 1B one: it grows with the cube of the size)`;

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function int(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: expected an integer >= 1, got '${v}'`);
  return n;
}

const VALUED = ['device', 'preset', 'dtype', 'methods', 'reps', 'warmup', 'inner', 'refresh-reps', 'out', 'report'];

/** Parses argv; device-dependent defaults are filled by the caller once the device is known. */
export function parseBenchArgs(argv: string[], gpu: boolean): BenchArgs | 'help' {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--no-svd-refresh') {
      raw.set('no-svd-refresh', 'yes');
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!VALUED.includes(name)) throw new Error(`unknown option --${name} (see --help)`);
    if (eq > 0) raw.set(name, a.slice(eq + 1));
    else {
      if (i + 1 >= argv.length) throw new Error(`${a}: expected a value`);
      raw.set(a.slice(2), argv[++i]);
    }
  }
  const device = raw.get('device') ?? (gpu ? 'cuda:0' : 'cpu');
  const onGpu = device !== 'cpu';
  const dtypes = list(raw.get('dtype') ?? 'float32,bfloat16');
  for (const d of dtypes) if (d !== 'float32' && d !== 'bfloat16') throw new Error(`--dtype: expected float32 or bfloat16, got '${d}'`);
  const methods = list(raw.get('methods') ?? BENCH_METHODS.map((m) => m.key).join(','));
  for (const m of methods) {
    if (!BENCH_METHODS.some((x) => x.key === m)) throw new Error(`--methods: unknown method '${m}'`);
  }
  return {
    device,
    presets: list(raw.get('preset') ?? (onGpu ? '60m,130m,350m,1b,7b' : '60m')),
    dtypes: dtypes as BenchDtype[],
    methods,
    reps: raw.has('reps') ? int(raw.get('reps')!, 'reps') : onGpu ? 30 : 5,
    warmup: raw.has('warmup') ? int(raw.get('warmup')!, 'warmup') : onGpu ? 5 : 1,
    inner: raw.has('inner') ? int(raw.get('inner')!, 'inner') : onGpu ? 10 : 1,
    refreshReps: raw.has('refresh-reps') ? int(raw.get('refresh-reps')!, 'refresh-reps') : onGpu ? 5 : 2,
    outDir: raw.get('out') ?? 'bench/results',
    report: raw.get('report') ?? null,
    svdRefresh: !raw.has('no-svd-refresh'),
  };
}
