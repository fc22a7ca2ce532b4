// Child process of test/cpu-loops.test.ts: runs every case of cpu-loop-cases.ts under whatever
// FRUGAL_CPU_GENERIC_LOOPS the parent set, and prints one JSON line {"case / dtype": result}.
// `--seed N` changes the gradients (the control that shows a digest comparison can fail).
import { CASES, CaseResult, DTYPES, runCase } from './cpu-loop-cases';

const seedAt = process.argv.indexOf('--seed');
const seed = seedAt > 0 ? Number(process.argv[seedAt + 1]) : 100;
const only = process.argv.includes('--first');
const out: Record<string, CaseResult> = {};
for (const c of only ? CASES.slice(0, 1) : CASES) {
  for (const dtype of only ? DTYPES.slice(0, 1) : DTYPES) out[`${c.name} / ${dtype}`] = runCase(c, dtype, seed);
}
process.stdout.write(JSON.stringify(out) + '\n');
