// Command-line options of `frugal-optim train`: defaults, parsing, and clear errors for bad
// values (unknown preset, batch 0, a sequence longer than the corpus split, ...).
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../lib/cli/args';
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
    expect(parseTrainArgs(['--help'])).toBe('help');
    expect(parseTrainArgs(['-h'])).toBe('help');
    expect(parseTrainArgs(['--steps', '5', '--version'])).toBe('version');
    // --help wins over anything else given, bad flags included
    expect(parseTrainArgs(['--frobnicate', '--help'])).toBe('help');
  });

  it.each([
    [['--preset', 'huge'], /--preset: unknown preset 'huge'; expected one of tiny, 60m/],
    [['--batch', '0'], /--batch: expected an integer >= 1, got 0/],
    [['--batch', 'two'], /--batch: expected an integer, got 'two'/],
    [['--steps', '-5'], /--steps: expected an integer >= 1/],
    [['--optimizer', 'rmsprop'], /--optimizer: unknown optimizer 'rmsprop'/],
    [['--lr', '0'], /--lr: expected a number > 0/],
    [['--dtype', 'fp8'], /--dtype: expected 'fp32' or 'bf16'/],
    [['--tokenizer', 'chars'], /--tokenizer: expected 'byte', 'bpe', 'llama', got 'chars'/],
    [['--frobnicate'], /unknown option --frobnicate \(see --help\)/],
    [['--lr-rate', '1'], /^unknown option --lr-rate; did you mean --lr\? \(see --help\)$/],
    [['--stpes', '5'], /unknown option --stpes; did you mean --steps\?/],
    [['--optimizer', 'frugl'], /--optimizer: unknown optimizer 'frugl'; expected one of .*; did you mean 'frugal'\?$/],
    [['--schedule', 'cosin'], /--schedule: .*got 'cosin'; did you mean 'cosine'\?$/],
    [['--resume=yes'], /--resume: takes no value, got 'yes'/],
    [['train'], /unexpected argument 'train'/],
    [['--device', 'gpu'], /--device: expected auto, cpu, cuda or cuda:N, got 'gpu'/],
    [['--optimizer', 'adamw', '--density', '0.5'], /--density: not an option of adamw/],
    [['--optimizer', 'grass', '--opt', 'samplng=norm'], /--opt samplng: not an option of grass .*; did you mean 'sampling'\?$/],
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
    // every refusal of the command line is a usage error: the command exits 2 on it
    expect(() => parseTrainArgs(argv as string[])).toThrow(UsageError);
  });

  it('an unrelated unknown flag gets no suggestion', () => {
    expect(() => parseTrainArgs(['--xyz'])).toThrow(/^unknown option --xyz \(see --help\)$/);
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

  // What main() prints on stdout and stderr, and the exit code it returns.
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await main(argv);
      const text = (spy: jest.SpyInstance) => spy.mock.calls.map((c) => String(c[0])).join('');
      return { code, out: text(out), err: text(err) };
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  }

  it('the dispatcher prints usage and rejects unknown commands with exit code 2', async () => {
    expect(await run(['bogus'])).toMatchObject({ code: 2, err: expect.stringMatching(/^frugal-optim: unknown command 'bogus'\n/) });
    expect(await run(['trian'])).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'trian'; did you mean 'train'?") });
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringContaining('Usage: frugal-optim <command>') });
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('Usage: frugal-optim <command>') });
    expect(await run(['train', '--help'])).toMatchObject({ code: 0, out: expect.stringMatching(/frugal-optim train \[options\]/) });
  });

  it('--version prints package.json\'s version, on the command and on each subcommand', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    for (const argv of [['--version'], ['train', '--version'], ['plan', '--version']]) {
      expect(await run(argv)).toEqual({ code: 0, out: `${version}\n`, err: '' });
    }
  });

  it('bad flags and values exit 2 naming the flag; nothing is trained', async () => {
    expect(await run(['train', '--lr-rate', '1e-3'])).toEqual({
      code: 2, out: '', err: 'frugal-optim train: unknown option --lr-rate; did you mean --lr? (see --help)\n',
    });
    expect(await run(['train', '--batch', '0'])).toEqual({
      code: 2, out: '', err: 'frugal-optim train: --batch: expected an integer >= 1, got 0\n',
    });
    expect(await run(['train', '--steps'])).toEqual({ code: 2, out: '', err: 'frugal-optim train: --steps: expected a value\n' });
  });
});
