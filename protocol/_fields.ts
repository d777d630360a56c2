/**
 * The header fields of a request head (RFC 9112 §5, RFC 9110 §5): each
 * field line checked against the grammar and collected, name in lower
 * case, for the head parser in request_head.ts.
 *
 * @module
 */

import { bareCr } from "./_bare_cr.ts";
import { COLON, CR, FIELD_VALUE, HTAB, LF, SP, TOKEN } from "./chars.ts";
import { RequestError } from "./errors.ts";
import type { HeadLimits } from "./limits.ts";
import { byLength, intern, latin1, reuse } from "./_strings.ts";

/**
 * The field lines from `buf[from]` up to the empty line that ends at
 * `headEnd`, as names (lower case) and values alternating, in arrival
 * order; throws the {@linkcode RequestError} for the first bad line, or
 * for more than `limits.maxHeaderFields` of them. `previous` is the
 * previous head's fields, whose values are reused where they repeat.
 *
 * field-line = field-name ":" OWS field-value OWS
 */
export function parseFields(
  buf: Uint8Array,
  from: number,
  headEnd: number,
  limits: HeadLimits,
  previous: readonly string[] | undefined,
): string[] {
  const fields: string[] = [];
  let lineStart = from;
  while (true) {
    const lf = buf.indexOf(LF, lineStart);
    let end = lf;
    if (end > lineStart && buf[end - 1] === CR) end--;
    if (end === lineStart) break; // the empty line that closes the head
    if (lf > headEnd) break;
    if (fields.length >= limits.maxHeaderFields * 2) {
      throw new RequestError(
        "TooManyHeaderFields",
        `Cannot parse header: more than ${limits.maxHeaderFields} fields`,
      );
    }
    parseField(buf, lineStart, end, fields, previous);
    lineStart = lf + 1;
  }
  return fields;
}

function parseField(
  buf: Uint8Array,
  start: number,
  end: number,
  out: string[],
  previous: readonly string[] | undefined,
): void {
  const first = buf[start];
  if (first === SP || first === HTAB) {
    throw new RequestError(
      "ObsoleteLineFolding",
      "Cannot parse header: obsolete line folding",
    );
  }
  let i = start;
  while (i < end && TOKEN[buf[i]]) i++;
  if (i === end || buf[i] !== COLON || i === start) {
    if (buf.subarray(start, end).includes(CR)) throw bareCr();
    const why = i === start
      ? "empty or invalid field name"
      : i < end && (buf[i] === SP || buf[i] === HTAB)
      ? "whitespace before colon"
      : i === end
      ? "missing colon"
      : "invalid byte in field name";
    throw new RequestError("InvalidHeader", `Cannot parse header: ${why}`);
  }
  const name = intern(buf, start, i, FIELD_NAMES, true) ??
    latin1(buf, start, i).toLowerCase();
  i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  let valueEnd = end;
  while (
    valueEnd > i && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)
  ) {
    valueEnd--;
  }
  for (let j = i; j < valueEnd; j++) {
    if (!FIELD_VALUE[buf[j]]) {
      if (buf[j] === CR) throw bareCr();
      throw new RequestError(
        "InvalidHeader",
        "Cannot parse header: invalid byte in field value",
      );
    }
  }
  // The same field at the same place in the previous head: maybe the same value.
  const repeated = previous !== undefined && previous[out.length] === name
    ? reuse(previous[out.length + 1], buf, i, valueEnd)
    : undefined;
  out.push(name, repeated ?? latin1(buf, i, valueEnd));
}

/**
 * The field names nearly every request carries, by length, so that the
 * parser can return a constant instead of building (and lower-casing) a new
 * string.
 */
const FIELD_NAMES = byLength([
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "connection",
  "content-length",
  "content-type",
  "transfer-encoding",
  "cookie",
  "referer",
  "range",
  "if-range",
  "if-none-match",
  "if-modified-since",
  "cache-control",
  "pragma",
  "priority",
  "upgrade-insecure-requests",
  "sec-fetch-dest",
  "sec-fetch-mode",
  "sec-fetch-site",
  "sec-fetch-user",
]);
