/**
 * Command-line flag checks shared by the fuzzer and the soak.
 *
 * @module
 */

/**
 * The integer value of `--name`, or `fallback` when it was not given.
 * Throws a one-line error unless it is a whole number from 1 to `max`.
 */
export function integerFlag(
  name: string,
  text: string | undefined,
  fallback: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`Invalid --${name}: expected an integer from 1 to ${max}`);
  }
  return value;
}
