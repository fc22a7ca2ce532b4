// One command-line parser for every frugal-optim command (train, plan, the step bench, compare).
// node:util parseArgs splits the arguments (--name value, --name=value, switches, repeats, `--`);
// a flag table says what each flag takes and turns its text into a typed value. Every refusal is
// a UsageError naming the flag (and, for a near miss, the flag or value meant); the commands exit 2
// on it. --help / -h and --version are every command's.
import { parseArgs } from 'node:util';
import { DECIMAL_NUMBER, didYouMean } from '../arg-checks';
import { PACKAGE_VERSION } from '../optim/schema.generated';

/** Bad command-line input: the command prints the message and exits with `exitCode` (2). */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag that takes a value: `parse` turns its text into the value or throws a UsageError. */
export interface ValueFlag<T> {
  readonly takes: 'value';
  readonly repeat?: false;
  parse(text: string, flag: string): T;
}
/** A flag that may be given several times; its values in order. */
export interface RepeatedFlag<T> {
  readonly takes: 'value';
  readonly repeat: true;
  parse(text: string, flag: string): T;
}
/** A flag that takes no value. */
export interface Switch {
  readonly takes: 'nothing';
}
export type Flag = ValueFlag<unknown> | RepeatedFlag<unknown> | Switch;
export type FlagTable = Record<string, Flag>;

/** The values given, by flag name; a flag not given is absent. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K] extends Switch ? true : T[K] extends RepeatedFlag<infer V> ? V[] : T[K] extends ValueFlag<infer V> ? V : never;
};

export interface CommandLine<T extends FlagTable> {
  flags: FlagValues<T>;
  /** Arguments that are not flags (only when the command takes them), and everything after `--`. */
  positionals: string[];
  /** --help or -h was given: the command prints its usage and nothing else is checked. */
  help: boolean;
  /** --version was given: the command prints the package version. */
  version: boolean;
}

/** The version `--version` prints: package.json's, as generated into the library. */
export function versionText(): string {
  return `${PACKAGE_VERSION}\n`;
}

const BUILT_IN = ['help', 'version'];

/**
 * Parses `argv` against `table`. With `positionals` the command takes bare arguments (returned in
 * order); otherwise one is refused. --help and --version win over everything else given.
 */
export function parseCommandLine<T extends FlagTable>(
  argv: readonly string[],
  table: T,
  options: { positionals?: boolean } = {},
): CommandLine<T> {
  for (const name of BUILT_IN) if (name in table) throw new Error(`parseCommandLine: --${name} is built in`);
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const [name, f] of Object.entries(table)) {
    config[name] = f.takes === 'nothing' ? { type: 'boolean' } : { type: 'string', multiple: f.repeat === true };
  }
  // strict: false keeps parseArgs from refusing anything itself: its messages do not follow ours,
  // and it would refuse a value that starts with '-' ('--lr -1' is a bad number, said as such).
  // Each token is checked below instead.
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const out: CommandLine<T> = { flags: {}, positionals: [], help: false, version: false };
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { ...out, help: true };
  if (tokens.some((t) => t.kind === 'option' && t.name === 'version')) return { ...out, version: true };
  const values = out.flags as Record<string, unknown>;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (!options.positionals) throw new UsageError(`unexpected argument '${token.value}' (options start with --; see --help)`);
      out.positionals.push(token.value);
      continue;
    }
    const spec = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    if (!spec) {
      const hint = didYouMean(token.name, [...Object.keys(table), ...BUILT_IN], (s) => `--${s}`);
      throw new UsageError(`unknown option ${token.rawName}${hint} (see --help)`);
    }
    const flag = token.name;
    if (spec.takes === 'nothing') {
      if (token.value !== undefined) throw new UsageError(`--${flag}: takes no value, got '${token.value}'`);
      values[flag] = true;
      continue;
    }
    if (token.value === undefined) throw new UsageError(`--${flag}: expected a value`);
    const value = spec.parse(token.value, flag);
    if (spec.repeat) values[flag] = [...((values[flag] as unknown[] | undefined) ?? []), value];
    else values[flag] = value;
  }
  return out;
}

// ---- flag kinds ----

function number(text: string, flag: string): number {
  const v = Number(text);
  if (!DECIMAL_NUMBER.test(text) || !Number.isFinite(v)) throw new UsageError(`--${flag}: expected a number, got '${text}'`);
  return v;
}

/** An integer; with bounds, the message states them. */
function integer(text: string, flag: string, min?: number, max?: number): number {
  const v = Number(text);
  const wanted =
    min === undefined ? 'an integer' : max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  if (!DECIMAL_NUMBER.test(text) || !Number.isSafeInteger(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
    throw new UsageError(`--${flag}: expected ${wanted}, got '${text}'`);
  }
  return v;
}

function choice<C extends string>(text: string, flag: string, choices: readonly C[], aliases: Readonly<Record<string, C>>): C {
  const v = Object.hasOwn(aliases, text) ? aliases[text] : text;
  if (!(choices as readonly string[]).includes(v)) {
    const hint = didYouMean(text, [...choices, ...Object.keys(aliases)]);
    throw new UsageError(`--${flag}: expected one of ${choices.join(', ')}, got '${text}'${hint}`);
  }
  return v as C;
}

/** Comma-separated items, trimmed, empty ones dropped. */
function items(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Builders for flag table entries. */
export const flag = {
  switch: (): Switch => ({ takes: 'nothing' }),
  string: (): ValueFlag<string> => ({ takes: 'value', parse: (text) => text }),
  /** A finite number in decimal notation (Number() alone would take '0x10' or ''). */
  number: (): ValueFlag<number> => ({ takes: 'value', parse: number }),
  /** A safe integer, within [min, max] when given. */
  integer: (range: { min?: number; max?: number } = {}): ValueFlag<number> => ({
    takes: 'value',
    parse: (text, name) => integer(text, name, range.min, range.max),
  }),
  /** One of `choices`; `aliases` maps other accepted spellings onto them (bf16 -> bfloat16). */
  oneOf: <C extends string>(choices: readonly C[], aliases: Readonly<Record<string, C>> = {}): ValueFlag<C> => ({
    takes: 'value',
    parse: (text, name) => choice(text, name, choices, aliases),
  }),
  /** A comma-separated list; with `choices`, each item must be one of them. */
  list: <C extends string = string>(choices?: readonly C[], aliases: Readonly<Record<string, C>> = {}): ValueFlag<C[]> => ({
    takes: 'value',
    parse: (text, name) => items(text).map((item) => (choices ? choice(item, name, choices, aliases) : (item as C))),
  }),
  /** A value through `parse`, which throws a UsageError naming the flag. */
  custom: <T>(parse: (text: string, flag: string) => T): ValueFlag<T> => ({ takes: 'value', parse }),
  /** May be given several times; each value through `parse`. */
  repeated: <T>(parse: (text: string, flag: string) => T): RepeatedFlag<T> => ({ takes: 'value', repeat: true, parse }),
};
