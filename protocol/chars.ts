/**
 * Byte classes of the RFC 9110/9112 and RFC 3986 grammars, one 256-entry
 * lookup each, so the parser tests a byte with one array load instead of a
 * chain of comparisons; and the two string helpers the field-value parsers
 * share, {@linkcode isToken} and {@linkcode trimOws}.
 *
 * @module
 */

function table(accepts: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0;
  return t;
}

function isAlphaNumeric(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a);
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

/**
 * unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 * sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
 * reg-name   = *( unreserved / pct-encoded / sub-delims )  (RFC 3986 §3.2.2)
 *
 * The bytes a reg-name may hold outside its pct-encoded triplets ("%" HEXDIG
 * HEXDIG), which the caller checks on its own. An IPv4address is made of
 * these bytes too.
 */
export const REG_NAME: Uint8Array = table((b) =>
  isAlphaNumeric(b) || "-._~!$&'()*+,;=".includes(String.fromCharCode(b))
);

/** HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F", either case (RFC 5234). */
export const HEXDIG: Uint8Array = table((b) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) ||
  (b >= 0x61 && b <= 0x66)
);

/**
 * Whether `text` is a token (RFC 9110 §5.6.2): one or more tchar. Range
 * units, content codings and unquoted parameter values are tokens.
 *
 * @example
 * ```ts
 * import { isToken } from "./chars.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isToken("gzip"), true);
 * assert.equal(isToken("gz ip"), false);
 * assert.equal(isToken(""), false);
 * ```
 */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || !TOKEN[c]) return false;
  }
  return true;
}

/**
 * Strips OWS (RFC 9110 §5.6.3: SP and HTAB) from both ends of `text`. Other
 * white space is not OWS and stays, so that it makes the element invalid.
 *
 * @example
 * ```ts
 * import { trimOws } from "./chars.ts";
 * import assert from "node:assert/strict";
 * assert.equal(trimOws(" \tbytes=0-9 \t"), "bytes=0-9");
 * assert.equal(trimOws("\u00a0x\n"), "\u00a0x\n");
 * ```
 */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/**
 * Whether the byte or char code `c` is a DIGIT (RFC 5234: "0" to "9"; no
 * other script's digits).
 *
 * @example
 * ```ts
 * import { isDigit } from "./chars.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isDigit("7".charCodeAt(0)), true);
 * assert.equal(isDigit("\u0667".charCodeAt(0)), false); // ARABIC-INDIC SEVEN
 * ```
 */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
