/**
 * The connection's request pipeline: bytes from a source in, request heads
 * out, as an async iterator. Bodies are skipped so that they are never read
 * as the next request.
 *
 * @module
 */

import { RequestError } from "./errors.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./limits.ts";
import {
  getField,
  parseRequestHead,
  type RequestHead,
} from "./request_head.ts";

/** Anything that reads bytes like a `Deno.Conn` does. */
export interface ByteSource {
  /** Reads into `buffer`; the number of bytes read, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode readRequests}. */
export interface ReadRequestsOptions {
  /** Head size limits. @default {DEFAULT_HEAD_LIMITS} */
  limits?: HeadLimits;
  /**
   * The largest Content-Length body that is read and thrown away to keep the
   * connection; a larger or chunked body ends the connection after its
   * answer instead.
   * @default {65536}
   */
  maxDiscardedBody?: number;
  /** Called when the first byte of a new head arrives (to start its deadline). */
  onHeadStart?: () => void;
  /** Called when the reader waits for the next request with nothing buffered. */
  onIdle?: () => void;
}

/** The first read buffer size; it grows up to the head limit when needed. */
const INITIAL_BUFFER = 4096;

/**
 * Yields each request head read from `source`, in order, from any
 * segmentation: several pipelined requests in one read or one request over
 * many reads. Ends when the source ends between requests, or after a request
 * whose body cannot be skipped (its `keepAlive` is then `false`). Throws a
 * `RequestError` for a malformed head; I/O errors of the source pass through.
 *
 * @example
 * ```ts
 * import { readRequests } from "./request_reader.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode(
 *   "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
 * );
 * let offset = 0;
 * const source = {
 *   read(buffer: Uint8Array) { // one byte at a time
 *     if (offset === bytes.length) return Promise.resolve(null);
 *     buffer[0] = bytes[offset++];
 *     return Promise.resolve(1);
 *   },
 * };
 * const targets = [];
 * for await (const head of readRequests(source)) targets.push(head.target);
 * assert.deepEqual(targets, ["/a", "/b"]);
 * ```
 */
export async function* readRequests(
  source: ByteSource,
  options?: ReadRequestsOptions,
): AsyncGenerator<RequestHead, void, undefined> {
  const limits = options?.limits ?? DEFAULT_HEAD_LIMITS;
  const maxDiscarded = options?.maxDiscardedBody ?? 65536;
  // One byte more than the head limit, so an oversized head is seen as such.
  const maxBuffer = limits.maxHeadSize + 1;
  let buf = new Uint8Array(Math.min(INITIAL_BUFFER, maxBuffer));
  let start = 0; // first unconsumed byte
  let end = 0; // one past the last byte read
  let scanned = 0; // bytes after `start` the parser has already seen
  let newHead = true;

  while (true) {
    if (start === end) {
      start = end = scanned = 0;
      options?.onIdle?.();
      const n = await source.read(buf);
      if (n === null) return;
      end = n;
    }
    if (newHead) {
      newHead = false;
      options?.onHeadStart?.();
    }
    const parsed = parseRequestHead(buf.subarray(start, end), {
      scanFrom: scanned,
      limits,
    });
    if (parsed === undefined) {
      scanned = end - start;
      if (end === buf.length) {
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        } else {
          const bigger = new Uint8Array(Math.min(buf.length * 2, maxBuffer));
          bigger.set(buf);
          buf = bigger;
        }
      }
      if (end === buf.length) {
        // Unreachable while the parser enforces the head limit; a read into
        // no room would return 0 forever, so fail loudly instead of spinning.
        throw new RequestError(
          "HeaderSectionTooLarge",
          `Cannot parse header: head larger than ${limits.maxHeadSize} bytes`,
        );
      }
      const n = await source.read(buf.subarray(end));
      if (n === null) return; // the client left mid-head: nobody to answer
      end += n;
      continue;
    }

    const { head, consumed } = parsed;
    start += consumed;
    scanned = 0;
    newHead = true;
    // A client that sent Expect: 100-continue may never send its body now
    // that it gets a final answer instead: waiting for it would stall.
    const skippable = !head.chunked && head.contentLength <= maxDiscarded &&
      (head.contentLength === 0 || getField(head, "expect") === undefined);
    if (!skippable) {
      yield { ...head, keepAlive: false };
      return;
    }
    yield head;
    if (!head.keepAlive) return;

    let body = head.contentLength;
    const buffered = Math.min(body, end - start);
    start += buffered;
    body -= buffered;
    while (body > 0) {
      start = end = 0;
      const n = await source.read(buf.subarray(0, Math.min(buf.length, body)));
      if (n === null) return;
      body -= n;
    }
  }
}
