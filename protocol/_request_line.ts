/**
 * The request line (RFC 9112 §3) for the head parser in request_head.ts:
 * parsed whole once its line break is there, checked while it is still
 * arriving so that bytes no request line can begin with are refused at
 * once, and read in part (its method, the line as sent) for the answer to
 * and the log of a request refused before its head was complete.
 *
 * @module
 */

import { bareCr } from "./_bare_cr.ts";
import { CR, isDigit, LF, SP, TARGET, TOKEN } from "./chars.ts";
import { RequestError } from "./errors.ts";
import type { HeadLimits } from "./limits.ts";
import { byLength, intern, latin1 } from "./_strings.ts";

/** A parsed request line; the target is left as bytes for the caller to read. */
export interface RequestLine {
  method: string;
  /** Where the request-target's bytes start and end. */
  targetStart: number;
  targetEnd: number;
  minorVersion: 0 | 1;
}

/**
 * Parses the request line from `buf[start]` to the LF at `lf` (a CR before
 * it is the line break's), or throws the {@linkcode RequestError} for the
 * first thing wrong with it.
 *
 * request-line = method SP request-target SP HTTP-version
 */
export function parseRequestLine(
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
export function checkLinePrefix(
  buf: Uint8Array,
  start: number,
  seen: number,
): void {
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

/**
 * The error for a request line from `start` that is longer than the limit
 * before `end`: the error its first `maxRequestLine + 1` bytes already
 * show, if any, as they would have had they come a few at a time; else 414
 * for its target, or 501 when its method alone is that long (RFC 9112 §3).
 */
export function lineTooLong(
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
    // Anything else is a bug, not a verdict on the request.
    if (error instanceof RequestError) return error;
    throw error;
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

/**
 * The method of the request line starting at `buf[start]`, once the space
 * after it has arrived (before `end`); `undefined` before then, or when
 * the bytes are no method.
 *
 * @example
 * ```ts
 * import { requestMethod } from "./_request_line.ts";
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
 * import { firstLine } from "./_request_line.ts";
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

/**
 * The methods nearly every request uses, by length, so that the parser can
 * return a constant instead of building a new string.
 */
const METHODS = byLength(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]);

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
