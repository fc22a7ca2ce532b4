// A `train` process for the kill and signal tests: runs the CLI's trainWithSignals (the path
// `frugal-optim train` takes) on the options given as JSON in argv[2], prints "step N" after each
// step (then sleeps TRAIN_CHILD_STEP_MS, so a test can signal it mid-run), and exits with its code.
import { trainWithSignals } from '../../lib/cli/train-command';
import { TrainOptions } from '../../lib/train/options';

const options = JSON.parse(process.argv[2]) as TrainOptions;
const pause = Number(process.env.TRAIN_CHILD_STEP_MS ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
trainWithSignals(options, {
  onStep: (step) => {
    process.stdout.write(`step ${step}\n`);
    if (pause > 0) Atomics.wait(sleeper, 0, 0, pause);
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`train-child: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
