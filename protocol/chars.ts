/**
 * Byte-class tables for the RFC 9110/9112 grammar, one 256-entry lookup each,
 * so the parser tests a byte with one array load instead of a chain of
 * comparisons.
 *
 * @module
 */

function table(accepts: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0;
  return t;
}

const DELIMITERS = '"(),/:;<=>?@[\\]{}';

/**
 * tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 §5.6.2)
 *
 * That is every visible ASCII byte except the delimiters.
 */
export const TOKEN: Uint8Array = table((b) =>
  b > 0x20 && b < 0x7f && !DELIMITERS.includes(String.fromCharCode(b))
);

/**
 * field-vchar = VCHAR / obs-text; field-value also allows SP and HTAB
 * between them (RFC 9110 §5.5). CR, LF, NUL and the other controls are out.
 */
export const FIELD_VALUE: Uint8Array = table((b) =>
  b === 0x09 || (b >= 0x20 && b !== 0x7f)
);

/**
 * Bytes allowed in a request-target (RFC 9112 §3.2, RFC 3986 §2): visible
 * ASCII. Bytes from 0x80 up are accepted as obs-text because real clients
 * (curl given a UTF-8 path) send them raw; they are decoded as UTF-8 later.
 * Controls, SP and DEL are never allowed.
 */
export const TARGET: Uint8Array = table((b) => b > 0x20 && b !== 0x7f);

/** ASCII upper case to lower case, every other byte unchanged. */
export const LOWER: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
