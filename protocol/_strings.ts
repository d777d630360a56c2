/**
 * Strings from request bytes, built only when they must be: a word every
 * request carries is answered with one constant string, and a value that
 * repeats the previous request's with that request's string.
 *
 * @module
 */

/** Words grouped by length, the table {@linkcode intern} looks words up in. */
export function byLength(words: readonly string[]): (readonly string[])[] {
  const table: string[][] = [];
  for (const word of words) (table[word.length] ??= []).push(word);
  return table;
}

/** Maps A–Z to a–z and every other byte to itself. */
const LOWER = new Uint8Array(256).map((_, b) =>
  b >= 0x41 && b <= 0x5a ? b + 0x20 : b
);

/**
 * The word of `table` the bytes spell (ignoring ASCII case when asked), or
 * `undefined` when they spell none.
 */
export function intern(
  buf: Uint8Array,
  start: number,
  end: number,
  table: readonly (readonly string[])[],
  ignoreCase: boolean,
): string | undefined {
  const words = table[end - start];
  if (words === undefined) return undefined;
  for (const word of words) {
    let i = 0;
    while (
      i < word.length &&
      (ignoreCase ? LOWER[buf[start + i]] : buf[start + i]) ===
        word.charCodeAt(i)
    ) i++;
    if (i === word.length) return word;
  }
  return undefined;
}

/** `text` if the bytes spell it, one character per byte; else `undefined`. */
export function reuse(
  text: string | undefined,
  buf: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  if (text === undefined || text.length !== end - start) return undefined;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== buf[start + i]) return undefined;
  }
  return text;
}

/**
 * Bytes per `String.fromCharCode` call: each byte is one argument, and V8
 * overflows its stack somewhere past 100,000 of them.
 */
const LATIN1_SLICE = 8192;

/** Bytes to a string, one character per byte. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= LATIN1_SLICE) return fromBytes(buf, start, end);
  let text = "";
  for (let at = start; at < end; at += LATIN1_SLICE) {
    text += fromBytes(buf, at, Math.min(at + LATIN1_SLICE, end));
  }
  return text;
}

function fromBytes(buf: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(
    null,
    buf.subarray(start, end) as unknown as number[],
  );
}
