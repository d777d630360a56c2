/**
 * Waiting for a promise with a deadline, the timer always cleared so that
 * it never holds the process or a test open.
 *
 * @module
 */

/**
 * What `promise` fulfils with within `ms` milliseconds, else `undefined`;
 * rejects if `promise` rejects first.
 *
 * @example
 * ```ts
 * import { within } from "./_within.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await within(Promise.resolve(7), 10), 7);
 * assert.equal(await within(new Promise(() => {}), 10), undefined);
 * ```
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `promise` fulfilled within `ms` milliseconds; rejects if
 * `promise` rejects first.
 *
 * @example
 * ```ts
 * import { settledWithin } from "./_within.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await settledWithin(Promise.resolve(), 10), true);
 * assert.equal(await settledWithin(new Promise(() => {}), 10), false);
 * ```
 */
export async function settledWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return await within(promise.then(() => true), ms) ?? false;
}
