// `frugal-optim train`: one run, or a comparison of several optimizers (--compare).
import { runComparison } from '../train/compare';
import { formatSummary } from '../train/summary';
import { train } from '../train/trainer';
import { parseTrainArgs, TRAIN_USAGE } from './train-args';

export async function runTrainCommand(argv: readonly string[]): Promise<number> {
  const options = parseTrainArgs(argv);
  if (!options) {
    process.stdout.write(TRAIN_USAGE);
    return 0;
  }
  if (options.compare) {
    const { table, files } = runComparison(options);
    process.stdout.write(`\n${table}\n\nWrote ${files.join(', ')}\n`);
    return 0;
  }
  const result = train(options);
  process.stdout.write(`${formatSummary(result)}\n`);
  return 0;
}
