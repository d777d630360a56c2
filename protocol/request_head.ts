/**
 * The request head parser (RFC 9112 §2–§5): request line and header fields.
 * The framing and connection semantics the fields imply are settled by
 * {@linkcode settleFraming} in framing.ts.
 *
 * @module
 */

import {
  COLON,
  CR,
  FIELD_VALUE,
  HTAB,
  isDigit,
  LF,
  SP,
  TARGET,
  TOKEN,
} from "./chars.ts";
import { byLength, intern, latin1, reuse } from "./_strings.ts";
import { RequestError } from "./errors.ts";
import { settleFraming } from "./framing.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./limits.ts";

/** A parsed, validated request head. */
export interface RequestHead {
  /** The method, case-sensitive as sent (`GET`). */
  readonly method: string;
  /** The request-target as sent, bytes as Latin-1 characters. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x, which read as 1.1). */
  readonly minorVersion: 0 | 1;
  /** Field names (lower case) and values, alternating, in arrival order. */
  readonly fields: readonly string[];
  /** Whether the client allows the connection to stay open after this exchange. */
  readonly keepAlive: boolean;
  /** Body length from Content-Length; 0 when there is none. */
  readonly contentLength: number;
  /** Whether the body is chunked (Transfer-Encoding: chunked). */
  readonly chunked: boolean;
}

/** A complete head and how many bytes of the buffer it took. */
export interface ParsedRequestHead {
  /** The head, validated and with its framing settled. */
  head: RequestHead;
  /** Bytes consumed, including any empty lines before the request line. */
  consumed: number;
}

/** Options for {@linkcode parseRequestHead}. */
export interface ParseRequestHeadOptions {
  /**
   * Where the bytes not yet seen by an earlier call start, so that a head
   * arriving in pieces is scanned once, not once per piece.
   * @default {0}
   */
  scanFrom?: number;
  /** Size limits. @default {DEFAULT_HEAD_LIMITS} */
  limits?: HeadLimits;
  /**
   * The previous head of the same connection. A target or field value that
   * repeats it byte for byte, at the same place, reuses its string instead
   * of building a new one: a client sends the same Host, User-Agent,
   * Accept... with every request of a connection. The result is the same.
   */
  previous?: RequestHead;
}

/**
 * Parses a request head from the start of `buf`.
 *
 * Returns `undefined` while the head is incomplete and throws a
 * {@linkcode RequestError} as soon as the bytes seen cannot become a valid
 * head (a bad request line, an overlong line or head, a bad field). The
 * head and its fields are frozen, so that it can be shared.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./request_head.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
 * assert.equal(parseRequestHead(bytes.subarray(0, 10)), undefined);
 * const parsed = parseRequestHead(bytes)!;
 * assert.equal(parsed.head.target, "/a");
 * assert.equal(parsed.consumed, bytes.length);
 * ```
 */
export function parseRequestHead(
  buf: Uint8Array,
  options?: ParseRequestHeadOptions,
): ParsedRequestHead | undefined {
  const limits = options?.limits ?? DEFAULT_HEAD_LIMITS;
  const length = buf.length;

  // RFC 9112 §2.2: ignore empty lines received before the request line.
  let start = 0;
  while (start < length) {
    if (buf[start] === LF) start++;
    else if (buf[start] === CR) {
      if (start + 1 === length) return undefined;
      if (buf[start + 1] !== LF) throw bareCr();
      start += 2;
    } else break;
  }
  if (start === length) {
    // Only empty lines so far: they count towards the head limit, so that
    // they cannot fill memory. Once a request line starts, the limits are
    // measured from it (the request reader takes the empty lines it drops
    // off the limit).
    if (length > limits.maxHeadSize) throw headTooLarge(limits);
    return undefined;
  }

  const lineEnd = buf.indexOf(LF, start);
  const scanFrom = Math.max(start, options?.scanFrom ?? 0);
  // The limit is on the line's content; its CRLF does not count.
  if (lineEnd < 0) {
    if (length - start > limits.maxRequestLine + 1) {
      throw lineTooLong(buf, start, scanFrom, length, limits);
    }
    if (length - start > limits.maxHeadSize) throw headTooLarge(limits);
    checkLinePrefix(buf, start, scanFrom);
    return undefined;
  }
  const lineLength = lineEnd - start - (buf[lineEnd - 1] === CR ? 1 : 0);
  if (lineLength > limits.maxRequestLine) {
    throw lineTooLong(buf, start, scanFrom, lineEnd, limits);
  }
  // Answer a bad request line at once rather than after a head that may never come.
  const line = lineEnd >= scanFrom
    ? parseRequestLine(buf, start, lineEnd)
    : undefined;

  const fieldsFrom = Math.max(scanFrom, lineEnd + 1);
  const headEnd = findHeadEnd(buf, fieldsFrom, start);
  if (headEnd < 0) {
    if (length - start > limits.maxHeadSize) throw headTooLarge(limits);
    // A CR that is not part of a CRLF can hide the head's end ("\r\r\n"):
    // refuse it as soon as it arrives rather than wait for a deadline.
    if (hasBareCr(buf, Math.max(lineEnd + 1, fieldsFrom - 1))) throw bareCr();
    return undefined;
  }
  if (headEnd + 1 - start > limits.maxHeadSize) throw headTooLarge(limits);

  const { method, targetStart, targetEnd, minorVersion } = line ??
    parseRequestLine(buf, start, lineEnd);
  const previous = options?.previous;
  const target = reuse(previous?.target, buf, targetStart, targetEnd) ??
    latin1(buf, targetStart, targetEnd);
  const fields = parseFields(
    buf,
    lineEnd + 1,
    headEnd,
    limits,
    previous?.fields,
  );
  // Frozen: a reader hands the same head out again for a repeated request.
  Object.freeze(fields);
  return {
    head: Object.freeze(settleFraming(method, target, minorVersion, fields)),
    consumed: headEnd + 1,
  };
}

/**
 * The method of the request line starting at `buf[start]`, once the space
 * after it has arrived (before `end`); `undefined` before then, or when
 * the bytes are no method.
 *
 * @example
 * ```ts
 * import { requestMethod } from "./request_head.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("HEAD /a");
 * assert.equal(requestMethod(bytes, 0, bytes.length), "HEAD");
 * assert.equal(requestMethod(bytes, 0, 4), undefined);
 * ```
 */
export function requestMethod(
  buf: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  const i = tokenEnd(buf, start, end);
  return i > start && i < end && buf[i] === SP
    ? latin1(buf, start, i)
    : undefined;
}

/**
 * The first line of `buf[start..end)` as Latin-1, without its LF or CRLF,
 * once its line break is there (within `maxLength` bytes); `undefined`
 * otherwise. The line need not be a valid request line: a refused request
 * is logged as it was sent.
 *
 * @example
 * ```ts
 * import { firstLine } from "./request_head.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost");
 * assert.equal(firstLine(bytes, 0, bytes.length, 8192), "GET / HTTP/1.1");
 * assert.equal(firstLine(bytes, 0, 10, 8192), undefined);
 * ```
 */
export function firstLine(
  buf: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
): string | undefined {
  const lf = buf.subarray(start, Math.min(end, start + maxLength + 2))
    .indexOf(LF);
  if (lf === -1) return undefined;
  const length = lf > 0 && buf[start + lf - 1] === CR ? lf - 1 : lf;
  return length > maxLength ? undefined : latin1(buf, start, start + length);
}

/** Where the run of token bytes from `buf[from]` ends, at most at `to`. */
function tokenEnd(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to && TOKEN[buf[i]] === 1) i++;
  return i;
}

/**
 * Joins every value of a field (case-insensitive name) with ", ", the way
 * RFC 9110 §5.3 lets a list-based field be combined; `undefined` if absent.
 *
 * @example
 * ```ts
 * import { getField } from "./request_head.ts";
 * import assert from "node:assert/strict";
 * const head = { fields: ["accept", "a", "host", "x", "accept", "b"] };
 * assert.equal(getField(head, "Accept"), "a, b");
 * assert.equal(getField(head, "range"), undefined);
 * ```
 */
export function getField(
  head: Pick<RequestHead, "fields">,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  const fields = head.fields;
  let value: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === wanted) {
      value = value === undefined
        ? fields[i + 1]
        : `${value}, ${fields[i + 1]}`;
    }
  }
  return value;
}

/** Index of the LF that ends the empty line closing the head, or -1. */
function findHeadEnd(buf: Uint8Array, from: number, start: number): number {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    // The line ending here is empty if the previous line ended right before it.
    if (buf[i - 1] === LF && i - 1 >= start) return i;
    if (buf[i - 1] === CR && buf[i - 2] === LF && i - 2 >= start) return i;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

/** Whether a CR from `from` on is followed by something other than LF. */
function hasBareCr(buf: Uint8Array, from: number): boolean {
  let i = buf.indexOf(CR, from);
  while (i >= 0 && i + 1 < buf.length) {
    if (buf[i + 1] !== LF) return true;
    i = buf.indexOf(CR, i + 1);
  }
  return false;
}

interface RequestLine {
  method: string;
  /** Where the request-target's bytes start and end. */
  targetStart: number;
  targetEnd: number;
  minorVersion: 0 | 1;
}

// request-line = method SP request-target SP HTTP-version
function parseRequestLine(
  buf: Uint8Array,
  start: number,
  lf: number,
): RequestLine {
  let end = lf;
  if (end > start && buf[end - 1] === CR) end--;
  let i = start;
  while (i < end && TOKEN[buf[i]]) i++;
  if (i === start || i === end || buf[i] !== SP) throw invalidMethod();
  const method = intern(buf, start, i, METHODS, false) ?? latin1(buf, start, i);
  const targetStart = ++i;
  while (i < end && TARGET[buf[i]]) i++;
  if (i === targetStart) throw missingTarget();
  if (i === end || buf[i] !== SP) {
    if (i < end && buf[i] === CR) throw bareCr();
    if (i < end) throw invalidTarget();
    throw new RequestError(
      "InvalidRequestLine",
      "Cannot parse request line: missing HTTP version",
    );
  }
  return {
    method,
    targetStart,
    targetEnd: i,
    minorVersion: parseVersion(buf, i + 1, end),
  };
}

/**
 * Refuses an unfinished request line that no bytes to come could make
 * valid (a TLS handshake, a bare CR, a control byte), as RFC 9112 §2.2
 * asks, rather than wait for the head deadline and blame a slow client.
 * Bytes before `seen` passed this check on an earlier call; only the
 * request line's two spaces are looked for again, with `indexOf`.
 */
function checkLinePrefix(buf: Uint8Array, start: number, seen: number): void {
  const length = buf.length;
  // A CR that ended the bytes seen is judged by the byte that follows it.
  const from = seen > start && buf[seen - 1] === CR ? seen - 1 : seen;
  const methodEnd = buf.indexOf(SP, start);
  for (let i = from; i < (methodEnd < 0 ? length : methodEnd); i++) {
    if (!TOKEN[buf[i]]) throw invalidMethod();
  }
  if (methodEnd < 0) return;
  if (methodEnd === start) throw invalidMethod();
  const targetEnd = buf.indexOf(SP, methodEnd + 1);
  const lastTarget = targetEnd < 0 ? length : targetEnd;
  for (let i = Math.max(from, methodEnd + 1); i < lastTarget; i++) {
    if (TARGET[buf[i]]) continue;
    if (buf[i] !== CR) throw invalidTarget();
    if (i + 1 < length) throw bareCr(); // a CR before the line's end
  }
  if (targetEnd < 0) return;
  if (targetEnd === methodEnd + 1) throw missingTarget();
  for (let i = Math.max(from, targetEnd + 1); i < length; i++) {
    const at = i - targetEnd - 1;
    if (at < VERSION_SHAPE.length) {
      if (!fitsVersion(at, buf[i])) throw invalidVersion();
    } else if (buf[i] !== CR || at > VERSION_SHAPE.length) {
      throw invalidVersion();
    } else if (i + 1 < length) throw bareCr();
  }
}

/** `HTTP-version`'s shape: `D` stands for any digit. */
const VERSION_SHAPE = "HTTP/D.D";

/** Whether `byte` may be byte `at` of an HTTP-version. */
function fitsVersion(at: number, byte: number): boolean {
  const shape = VERSION_SHAPE.charCodeAt(at);
  return shape === 0x44 ? isDigit(byte) : byte === shape;
}

// HTTP-version = "HTTP/" DIGIT "." DIGIT
function parseVersion(buf: Uint8Array, start: number, end: number): 0 | 1 {
  const ok = end - start === 8 && buf[start] === 0x48 &&
    buf[start + 1] === 0x54 && buf[start + 2] === 0x54 &&
    buf[start + 3] === 0x50 && buf[start + 4] === 0x2f &&
    isDigit(buf[start + 5]) && buf[start + 6] === 0x2e &&
    isDigit(buf[start + 7]);
  if (!ok) {
    if (buf.subarray(start, end).includes(CR)) throw bareCr();
    throw invalidVersion();
  }
  if (buf[start + 5] !== 0x31) {
    throw new RequestError(
      "UnsupportedVersion",
      "Cannot serve request: only HTTP/1.x is supported",
    );
  }
  // RFC 9110 §2.5: a later 1.x minor version is answered as 1.1.
  return buf[start + 7] === 0x30 ? 0 : 1;
}

// field-line = field-name ":" OWS field-value OWS
function parseFields(
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
 * Strings that arrive in nearly every request, by length, so that the parser
 * can return a constant instead of building (and lower-casing) a new string.
 */
const METHODS = byLength(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]);
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

function invalidMethod(): RequestError {
  return new RequestError(
    "InvalidRequestLine",
    "Cannot parse request line: invalid method",
  );
}

function missingTarget(): RequestError {
  return new RequestError(
    "InvalidRequestLine",
    "Cannot parse request line: missing request target",
  );
}

function invalidTarget(): RequestError {
  return new RequestError(
    "InvalidTarget",
    "Cannot parse request line: invalid byte in request target",
  );
}

function invalidVersion(): RequestError {
  return new RequestError(
    "InvalidVersion",
    "Cannot parse request line: invalid HTTP version",
  );
}

function bareCr(): RequestError {
  return new RequestError(
    "BareCarriageReturn",
    "Cannot parse request: bare CR",
  );
}

/**
 * The error for a request line from `start` that runs past the limit before
 * `end`: 414 for its target, or 501 when its method alone does (RFC 9112 §3).
 */
/**
 * The error for a request line longer than the limit: the error its first
 * `maxRequestLine + 1` bytes already show, if any, as they would have had
 * they come a few at a time; else 414 (501 for a method that long).
 */
function lineTooLong(
  buf: Uint8Array,
  start: number,
  scanFrom: number,
  end: number,
  limits: HeadLimits,
): RequestError {
  const seen = Math.min(end, start + limits.maxRequestLine + 1);
  try {
    checkLinePrefix(buf.subarray(0, seen), start, Math.min(scanFrom, seen));
  } catch (error) {
    return error as RequestError;
  }
  // Token bytes all the way past the limit: a method, longer than any.
  if (tokenEnd(buf, start, seen) - start > limits.maxRequestLine) {
    return new RequestError(
      "MethodTooLong",
      `Cannot parse request line: method longer than ${limits.maxRequestLine} bytes`,
    );
  }
  return new RequestError(
    "RequestLineTooLong",
    `Cannot parse request line: longer than ${limits.maxRequestLine} bytes`,
  );
}

function headTooLarge(limits: HeadLimits): RequestError {
  return new RequestError(
    "HeaderSectionTooLarge",
    `Cannot parse header: head larger than ${limits.maxHeadSize} bytes`,
  );
}
