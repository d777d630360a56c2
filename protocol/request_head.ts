/**
 * The request head parser (RFC 9112 §2–§5): where the head starts and
 * ends, and the limits on it. The request line is parsed by
 * _request_line.ts, the header fields by _fields.ts; the framing and
 * connection semantics the fields imply are settled by
 * {@linkcode settleFraming} in framing.ts.
 *
 * @module
 */

import { bareCr } from "./_bare_cr.ts";
import { CR, LF } from "./chars.ts";
import { RequestError } from "./errors.ts";
import { parseFields } from "./_fields.ts";
import { settleFraming } from "./framing.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./limits.ts";
import {
  checkLinePrefix,
  lineTooLong,
  parseRequestLine,
} from "./_request_line.ts";
import { latin1, reuse } from "./_strings.ts";

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
  /**
   * Body length from Content-Length; 0 when there is none, `Infinity` when
   * it has more than 15 digits (past any body a server would read).
   */
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
   *
   * @default {0}
   */
  scanFrom?: number;
  /**
   * Size limits.
   *
   * @default {DEFAULT_HEAD_LIMITS}
   */
  limits?: HeadLimits;
  /**
   * The previous head of the same connection. A target or field value that
   * repeats it byte for byte, at the same place, reuses its string instead
   * of building a new one: a client sends the same Host, User-Agent,
   * Accept... with every request of a connection. The result is the same.
   * When undefined, every string is built.
   *
   * @default {undefined}
   */
  previous?: RequestHead;
}

/**
 * Parses a request head from the start of `buf`.
 *
 * Returns `undefined` while the head is incomplete and throws a
 * {@linkcode RequestError} for a head that is not valid: as soon as the
 * bytes seen show a bad request line, an overlong line or head, or a bare
 * CR; a bad field line once the head is complete (its empty line seen). The
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

function headTooLarge(limits: HeadLimits): RequestError {
  return new RequestError(
    "HeaderSectionTooLarge",
    `Cannot parse header: head larger than ${limits.maxHeadSize} bytes`,
  );
}
