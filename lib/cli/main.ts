#!/usr/bin/env node
// The `frugal-optim` command: dispatches to `train` (the training bench, lib/train) and `plan`
// (the memory planner, lib/plan/cli.ts). Errors print their message, not a stack, and exit 1;
// a `train` stopped by SIGINT / SIGTERM exits 130 / 143 (train-command.ts).
import { runTrainCommand } from './train-command';

const USAGE = `Usage: frugal-optim <command> [options]

Commands
  train     pretrain a LLaMA-style model on the Brown corpus and compare optimizers
            (frugal-optim train --help)
  plan      plan the memory of a model and optimizer (frugal-optim plan --help)
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === 'train') return runTrainCommand(rest);
  if (command === 'plan') {
    // Loaded on demand: each command pulls in only its own modules.
    const { runPlanCommand } = await import('../plan/cli');
    return runPlanCommand(rest as string[]);
  }
  process.stderr.write(`frugal-optim: unknown command '${command}'\n\n${USAGE}`);
  return 1;
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
