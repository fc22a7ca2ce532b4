// Argument checks shared by the API and the command lines, so each refusal reads the same way.
import { describeValue } from './dtype';

/**
 * An options argument: undefined (no options) or an object with known keys only. A string
 * ('cuda:0' for {device}), null or a misspelled key ({dtpye}) is refused by name instead of being
 * ignored or failing inside destructuring.
 */
export function checkOptionsObject<T extends object>(options: unknown, keys: readonly string[], what: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object {${keys.join(', ')}} or omitted, got ${describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw new TypeError(`${what}: unknown option '${k}' (expected ${keys.join(', ')})`);
  }
  return options as T;
}

/** A number in decimal notation: Number() alone would also take '0x10', '0b11', ' 7 ' or '' (as 0). */
export const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
