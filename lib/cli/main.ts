#!/usr/bin/env node
// The `frugal-optim` command: dispatches to `train` (the training bench, lib/train) and `plan`
// (the memory planner, lib/plan/cli.ts). Bad arguments (an unknown command or option, a bad
// value: a UsageError) print their message and exit 2; other errors print their message, not a
// stack, and exit 1; a `train` stopped by SIGINT / SIGTERM exits 130 / 143 (train-command.ts).
import { didYouMean } from '../arg-checks';
import { UsageError, versionText } from './args';
import { runTrainCommand } from './train-command';

const USAGE = `Usage: frugal-optim <command> [options]
       frugal-optim --help | --version

Commands
  train     pretrain a LLaMA-style model on the Brown corpus and compare optimizers
            (frugal-optim train --help)
  plan      plan the memory of a model and optimizer (frugal-optim plan --help)
`;

const COMMANDS = ['train', 'plan'];

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(versionText());
    return 0;
  }
  try {
    if (command === 'train') return await runTrainCommand(rest);
    if (command === 'plan') {
      // Loaded on demand: each command pulls in only its own modules.
      const { runPlanCommand } = await import('../plan/cli');
      return await runPlanCommand(rest as string[]);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`frugal-optim ${command}: ${e.message}\n`);
    return e.exitCode;
  }
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  process.stderr.write(`frugal-optim: unknown command '${command}'${didYouMean(command, COMMANDS)}\n\n${USAGE}`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`frugal-optim: ${err instanceof Error ? err.message : String(err)}\n`);
      if (process.env.FRUGAL_DEBUG) console.error(err);
      process.exitCode = 1;
    },
  );
}
