/**
 * `multipart/byteranges` framing (RFC 9110 §14.6, RFC 2046 §5.1): the bytes
 * that go around each range, computed up front so that the exact
 * `Content-Length` is known before the first body byte is written.
 *
 * @module
 */

import { isToken } from "./chars.ts";
import { type ByteRange, formatContentRange } from "./range.ts";

/** What `createMultipartByteranges()` needs. */
export interface MultipartByterangesInit {
  /**
   * The boundary: 1 to 70 characters of RFC 2046 `bchars`, not ending in a
   * space. It must not occur in the content; a long random one (see
   * `createBoundary()` in server/range_body.ts) makes that a non-issue.
   */
  boundary: string;
  /** The representation's `Content-Type`, repeated in every part. */
  contentType: string;
  /** The ranges to send, in order, as `parseRange()` returned them. */
  ranges: readonly ByteRange[];
  /** The complete length of the representation. */
  size: number;
}

/** One part: its head bytes, then the range's bytes from the file. */
export interface MultipartPart {
  /** Delimiter line, `Content-Type`, `Content-Range` and the blank line. */
  head: Uint8Array;
  /** The bytes of the representation that follow the head. */
  range: ByteRange;
}

/** The framing of a `multipart/byteranges` body, ready to stream. */
export interface MultipartByteranges {
  /** The response's `Content-Type` field value, boundary parameter included. */
  contentType: string;
  /** The exact body length: heads, ranges and the closing delimiter. */
  contentLength: number;
  /** The parts, in order. */
  parts: MultipartPart[];
  /** The closing delimiter, written after the last range. */
  tail: Uint8Array;
}

// bcharsnospace and bchars of RFC 2046 §5.1.1.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const encoder = new TextEncoder();

/**
 * Builds the framing of a `multipart/byteranges` body:
 *
 * ```text
 * --BOUNDARY CRLF Content-Type: T CRLF Content-Range: bytes a-b/size CRLF CRLF
 * <bytes a..b> CRLF --BOUNDARY CRLF ... <last range> CRLF --BOUNDARY-- CRLF
 * ```
 *
 * The CRLF before each delimiter belongs to the delimiter (RFC 2046), so it
 * is carried by the next head or by the tail, never by the data. Throws a
 * `TypeError` for an invalid boundary, a content type with a line break, or
 * no range at all.
 *
 * @example
 * ```ts
 * import { createMultipartByteranges } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * const body = createMultipartByteranges({
 *   boundary: "B",
 *   contentType: "text/plain",
 *   ranges: [{ start: 0, end: 1 }, { start: 5, end: 5 }],
 *   size: 10,
 * });
 * assert.equal(body.contentType, "multipart/byteranges; boundary=B");
 * const text = new TextDecoder();
 * assert.equal(
 *   text.decode(body.parts[1].head),
 *   "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-5/10\r\n\r\n",
 * );
 * assert.equal(text.decode(body.tail), "\r\n--B--\r\n");
 * assert.equal(
 *   body.contentLength,
 *   body.parts.reduce((n, p) => n + p.head.length + p.range.end - p.range.start + 1, 0) +
 *     body.tail.length,
 * );
 * ```
 */
export function createMultipartByteranges(
  init: MultipartByterangesInit,
): MultipartByteranges {
  const { boundary, contentType, size } = init;
  if (!BOUNDARY.test(boundary)) {
    throw new TypeError(
      `Cannot frame multipart/byteranges: invalid boundary ${
        JSON.stringify(boundary)
      }`,
    );
  }
  if (/[\r\n\0]/.test(contentType)) {
    throw new TypeError(
      "Cannot frame multipart/byteranges: line break in content type",
    );
  }
  if (init.ranges.length === 0) {
    throw new TypeError("Cannot frame multipart/byteranges: no range");
  }
  let contentLength = 0;
  const parts = init.ranges.map((range, i): MultipartPart => {
    // The first delimiter has no preceding CRLF: there is no preamble.
    const head = encoder.encode(
      `${i === 0 ? "" : "\r\n"}--${boundary}\r\n` +
        `Content-Type: ${contentType}\r\n` +
        `Content-Range: ${formatContentRange(size, range)}\r\n\r\n`,
    );
    contentLength += head.length + (range.end - range.start + 1);
    return { head, range };
  });
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  contentLength += tail.length;
  const parameter = isToken(boundary) ? boundary : `"${boundary}"`;
  return {
    contentType: `multipart/byteranges; boundary=${parameter}`,
    contentLength,
    parts,
    tail,
  };
}

/**
 * The whole body of `multipart`, each part's bytes sliced from `bytes`, the
 * complete representation it frames: for a representation held in memory.
 *
 * @example
 * ```ts
 * import {
 *   createMultipartByteranges,
 *   joinMultipartByteranges,
 * } from "./multipart.ts";
 * import assert from "node:assert/strict";
 * const multipart = createMultipartByteranges({
 *   boundary: "B",
 *   contentType: "text/plain",
 *   ranges: [{ start: 0, end: 1 }, { start: 5, end: 5 }],
 *   size: 6,
 * });
 * const body = joinMultipartByteranges(
 *   multipart,
 *   new TextEncoder().encode("abcdef"),
 * );
 * assert.equal(body.length, multipart.contentLength);
 * assert.equal(
 *   new TextDecoder().decode(body),
 *   "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/6\r\n\r\nab" +
 *     "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-5/6\r\n\r\nf" +
 *     "\r\n--B--\r\n",
 * );
 * ```
 */
export function joinMultipartByteranges(
  multipart: MultipartByteranges,
  bytes: Uint8Array,
): Uint8Array {
  const joined = new Uint8Array(multipart.contentLength);
  let offset = 0;
  for (const part of multipart.parts) {
    joined.set(part.head, offset);
    offset += part.head.length;
    const slice = bytes.subarray(part.range.start, part.range.end + 1);
    joined.set(slice, offset);
    offset += slice.length;
  }
  joined.set(multipart.tail, offset);
  return joined;
}
