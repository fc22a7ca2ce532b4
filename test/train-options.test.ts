// Command-line options of `frugal-optim train`: defaults, parsing, and clear errors for bad
// values (unknown preset, batch 0, a sequence longer than the corpus split, ...).
import { parseTrainArgs } from '../lib/cli/train-args';
import { main } from '../lib/cli/main';
import { DEFAULT_OPTIONS, TrainOptions } from '../lib/train/options';
import { train } from '../lib/train/trainer';

describe('frugal-optim train options', () => {
  it('defaults to the CPU-sized FRUGAL run', () => {
    const o = parseTrainArgs([]) as TrainOptions;
    expect(o.optimizer).toBe('frugal');
    expect(o.preset).toBe('tiny');
    expect(o.tokenizer).toBe('byte');
    expect(o.steps).toBe(DEFAULT_OPTIONS.steps);
  });

  it('parses flags, values and --opt settings', () => {
    const o = parseTrainArgs([
      '--optimizer', 'grass', '--lr=0.02', '--steps', '50', '--opt', 'sampling=norm', '--opt', 'replacement=true',
      '--sparse-backward', '--per-layer', '--dtype', 'bf16', '--compare', 'adamw,grass',
    ]) as TrainOptions;
    expect(o).toMatchObject({ optimizer: 'grass', lr: 0.02, steps: 50, sparseBackward: true, perLayer: true, dtype: 'bf16' });
    expect(o.optimizerOptions).toEqual({ sampling: 'norm', replacement: true });
    expect(o.compare).toEqual(['adamw', 'grass']);
    expect(parseTrainArgs(['--help'])).toBeNull();
  });

  it.each([
    [['--preset', 'huge'], /--preset: unknown preset 'huge'; expected one of tiny, 60m/],
    [['--batch', '0'], /--batch: expected an integer >= 1, got 0/],
    [['--batch', 'two'], /--batch: expected an integer, got 'two'/],
    [['--steps', '-5'], /--steps: expected an integer >= 1/],
    [['--optimizer', 'rmsprop'], /--optimizer: unknown optimizer 'rmsprop'/],
    [['--lr', '0'], /--lr: expected a number > 0/],
    [['--dtype', 'fp8'], /--dtype: expected 'fp32' or 'bf16'/],
    [['--tokenizer', 'chars'], /--tokenizer: expected 'byte' or 'bpe'/],
    [['--frobnicate'], /unknown option --frobnicate/],
    [['--steps'], /--steps: expected a value/],
    [['--resume'], /--resume: needs --checkpoint-dir/],
    [['--sparse-backward'], /--sparse-backward: needs --optimizer grass/],
    [['--optimizer', 'badam', '--per-layer'], /--per-layer: not available with badam/],
    [['--compare', 'adamw,nope'], /--compare: unknown optimizer 'nope'/],
    [['--opt', 'density'], /--opt: expected NAME=VALUE/],
    [['--threads', '0'], /--threads: expected an integer >= 1, got 0/],
    [['--threads', '257'], /--threads: expected at most 256 \(the CPU thread pool's limit\), got 257/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseTrainArgs(argv as string[])).toThrow(message);
  });

  it('refuses a sequence longer than the validation split', () => {
    const o = { ...DEFAULT_OPTIONS, optimizerOptions: {}, seqLen: 1_000_000, quiet: true, device: 'cpu' };
    expect(() => train(o)).toThrow(/seq-len: 1000000 is longer than the validation split \(\d+ tokens\)/);
  });

  it('refuses an option the optimizer does not have', () => {
    const o = { ...DEFAULT_OPTIONS, optimizerOptions: {}, optimizer: 'adamw' as const, density: 0.5, quiet: true, device: 'cpu' };
    expect(() => train(o)).toThrow(/--density: not an option of adamw/);
  });

  it('refuses a device that does not exist', () => {
    const o = { ...DEFAULT_OPTIONS, optimizerOptions: {}, device: 'cuda:7', quiet: true };
    expect(() => train(o)).toThrow(/cuda:7/);
  });

  it('the dispatcher prints usage and rejects unknown commands', async () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['bogus'])).toBe(1);
      expect(await main(['--help'])).toBe(0);
      expect(await main(['train', '--help'])).toBe(0);
      expect(String(out.mock.calls.map((c) => c[0]).join(''))).toMatch(/frugal-optim train \[options\]/);
    } finally {
      write.mockRestore();
      out.mockRestore();
    }
  });
});
