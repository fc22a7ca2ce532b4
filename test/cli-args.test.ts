// The one command-line parser (lib/cli/args.ts) every command uses, the near-miss suggestions
// of its refusals (lib/arg-checks.ts), and the installed command's exit codes as a shell sees them.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { editDistance, nearMiss } from '../lib/arg-checks';
import { flag, parseCommandLine, UsageError } from '../lib/cli/args';
import { ROOT } from './helpers/child';

const TABLE = {
  steps: flag.integer({ min: 1 }),
  lr: flag.number(),
  name: flag.string(),
  side: flag.oneOf(['left', 'right'] as const, { l: 'left' }),
  dtypes: flag.list(['float32', 'bfloat16'] as const),
  opt: flag.repeated((text) => text.toUpperCase()),
  quiet: flag.switch(),
};

describe('parseCommandLine', () => {
  test('--name value, --name=value, switches, lists, repeats and typed values', () => {
    const line = parseCommandLine(
      ['--steps', '5', '--lr=-1.5e-3', '--name', '--odd', '--side', 'l', '--dtypes', 'float32, bfloat16,', '--opt', 'a', '--opt=b', '--quiet'],
      TABLE,
    );
    expect(line).toEqual({
      flags: { steps: 5, lr: -1.5e-3, name: '--odd', side: 'left', dtypes: ['float32', 'bfloat16'], opt: ['A', 'B'], quiet: true },
      positionals: [],
      help: false,
      version: false,
    });
    // A value that starts with '-' is the flag's value, and is judged as one.
    expect(() => parseCommandLine(['--steps', '-5'], TABLE)).toThrow("--steps: expected an integer >= 1, got '-5'");
    // The last of a repeated plain flag wins.
    expect(parseCommandLine(['--steps', '1', '--steps', '2'], TABLE).flags.steps).toBe(2);
  });

  test.each([
    [['--stesp', '1'], 'unknown option --stesp; did you mean --steps? (see --help)'],
    [['--lr-rate', '1'], 'unknown option --lr-rate; did you mean --lr? (see --help)'],
    [['--QUIET'], 'unknown option --QUIET; did you mean --quiet? (see --help)'],
    [['--versoin'], 'unknown option --versoin; did you mean --version? (see --help)'],
    [['--zzz'], 'unknown option --zzz (see --help)'],
    [['-x'], 'unknown option -x (see --help)'],
    [['--steps'], '--steps: expected a value'],
    [['--steps', '0x10'], "--steps: expected an integer >= 1, got '0x10'"],
    [['--steps', '2.5'], "--steps: expected an integer >= 1, got '2.5'"],
    [['--lr', ''], "--lr: expected a number, got ''"],
    [['--lr', 'Infinity'], "--lr: expected a number, got 'Infinity'"],
    [['--side', 'rigth'], "--side: expected one of left, right, got 'rigth'; did you mean 'right'?"],
    [['--side', 'up'], "--side: expected one of left, right, got 'up'"],
    [['--dtypes', 'float32,fp8'], "--dtypes: expected one of float32, bfloat16, got 'fp8'"],
    [['--quiet=1'], "--quiet: takes no value, got '1'"],
    [['file.json'], "unexpected argument 'file.json' (options start with --; see --help)"],
  ])('%j is a UsageError: %s', (argv, message) => {
    let error: unknown;
    try {
      parseCommandLine(argv, TABLE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message);
    expect((error as UsageError).exitCode).toBe(2);
  });

  test('--help and --version win over everything else given, errors included', () => {
    expect(parseCommandLine(['--zzz', '--help'], TABLE)).toMatchObject({ help: true, flags: {} });
    expect(parseCommandLine(['-h'], TABLE).help).toBe(true);
    expect(parseCommandLine(['--steps', 'x', '--version'], TABLE)).toMatchObject({ version: true, help: false });
  });

  test('positionals only where the command takes them; `--` ends the flags', () => {
    expect(parseCommandLine(['a', '--quiet', 'b', '--', '--steps'], TABLE, { positionals: true })).toMatchObject({
      flags: { quiet: true },
      positionals: ['a', 'b', '--steps'],
    });
    expect(() => parseCommandLine(['--', 'a'], TABLE)).toThrow(UsageError);
  });

  test('a table cannot take --help or --version: they are every command\'s', () => {
    expect(() => parseCommandLine([], { help: flag.switch() })).toThrow(/--help is built in/);
  });
});

describe('near misses', () => {
  // Edit distances worked out by hand: kitten -> sitting is 3 edits (k/s, e/i, +g); a swap of
  // neighbours is one edit; distance is symmetric and 0 only for equal strings.
  test.each([
    ['kitten', 'sitting', 3],
    ['stpes', 'steps', 1],
    ['ab', 'ba', 1],
    ['', 'abc', 3],
    ['lr-rate', 'lr', 5],
    ['same', 'same', 0],
  ])('editDistance(%s, %s) = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  test('close names are suggested; distant or unrelated ones are not', () => {
    const flags = ['lr', 'min-lr-ratio', 'steps', 'seed', 'seq-len', 'checkpoint-dir', 'checkpoint-every', 'optimizer'];
    expect(nearMiss('stpes', flags)).toBe('steps');
    expect(nearMiss('optimiser', flags)).toBe('optimizer');
    expect(nearMiss('lr-rate', flags)).toBe('lr'); // whole words added to a flag
    expect(nearMiss('checkpoint', flags)).toBe('checkpoint-dir'); // whole words missing: the closer one
    expect(nearMiss('seq-length', flags)).toBe('seq-len');
    expect(nearMiss('xy', flags)).toBeUndefined(); // 2 edits from 'lr', but that is all of it
    expect(nearMiss('learning-rate', flags)).toBeUndefined();
    expect(nearMiss('steps', [])).toBeUndefined();
  });
});

describe('the installed command', () => {
  // The bin as a shell runs it: process.exitCode is what the shell sees.
  const bin = (...args: string[]) =>
    spawnSync(process.execPath, ['-r', path.join(ROOT, 'test/children/ts-register.js'), path.join(ROOT, 'lib/cli/main.ts'), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  test('exits 2 on a bad flag, naming it; 0 with the version for --version', () => {
    const bad = bin('train', '--lr-rate', '1e-3');
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([2, '', 'frugal-optim train: unknown option --lr-rate; did you mean --lr? (see --help)\n']);
    const plan = bin('plan', '--optimzer', 'adamw');
    expect([plan.status, plan.stderr]).toEqual([2, 'frugal-optim plan: unknown option --optimzer; did you mean --optimizer? (see --help)\n']);
    const version = bin('--version');
    expect([version.status, version.stdout]).toEqual([0, `${require(path.join(ROOT, 'package.json')).version}\n`]);
  });
});
