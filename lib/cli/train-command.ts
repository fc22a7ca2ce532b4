// `frugal-optim train`: one run, or a comparison of several optimizers (--compare).
// SIGINT / SIGTERM during a single run stop it between steps: with --checkpoint-dir the last step
// is saved first; the command then exits 130 / 143 (128 + the signal number, as a shell reports).
import { runComparison } from '../train/compare';
import { TrainOptions } from '../train/options';
import { formatSummary } from '../train/summary';
import { trainAsync, TrainHooks, TrainingInterrupted } from '../train/trainer';
import { versionText } from './args';
import { parseTrainArgs, TRAIN_USAGE } from './train-args';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/** Runs train() with SIGINT / SIGTERM handlers; returns the exit code (0, 130 or 143). */
export async function trainWithSignals(options: TrainOptions, hooks: TrainHooks = {}): Promise<number> {
  let received: StopSignal | null = null;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => {
    const handler = () => {
      received ??= signal;
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  try {
    const result = await trainAsync(options, { ...hooks, stopRequested: () => received });
    process.stdout.write(`${formatSummary(result)}\n`);
    // A signal during the last step: the run finished and saved, but the caller asked to stop.
    return received ? SIGNAL_EXIT_CODES[received] : 0;
  } catch (e) {
    if (!(e instanceof TrainingInterrupted) || received === null) throw e;
    process.stderr.write(`\nfrugal-optim train: ${e.message}\n`);
    return SIGNAL_EXIT_CODES[received as StopSignal];
  } finally {
    handlers.forEach((remove) => remove());
  }
}

export async function runTrainCommand(argv: readonly string[]): Promise<number> {
  const options = parseTrainArgs(argv); // a UsageError: main() prints it and exits 2
  if (options === 'help' || options === 'version') {
    process.stdout.write(options === 'help' ? TRAIN_USAGE : versionText());
    return 0;
  }
  if (options.compare) {
    const { table, files } = await runComparison(options);
    process.stdout.write(`\n${table}\n\nWrote ${files.join(', ')}\n`);
    return 0;
  }
  return trainWithSignals(options);
}
