/**
 * A parsed head kept with its bytes, so that the same bytes, when they come
 * again, are recognised by comparison instead of parsed: clients that poll,
 * probes and benchmarks ask the same thing over and over.
 *
 * @module
 */

import type { HeadLimits } from "./limits.ts";
import type { RequestHead } from "./request_head.ts";

/** The largest head whose bytes are kept to recognise it when repeated. */
export const MAX_REPEATED_HEAD = 1024;

/**
 * A head and the bytes it was parsed from, to recognise them when they come
 * again: the parser would return an equal head, and consume as many bytes,
 * for the same bytes under the same limits. Heads are frozen, so one object
 * can be yielded again and again.
 *
 * @example
 * ```ts
 * import { RecentHead } from "./_recent_head.ts";
 * import { parseRequestHead } from "./request_head.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET");
 * const { head, consumed } = parseRequestHead(bytes)!;
 * const recent = new RecentHead();
 * recent.keep(head, bytes, 0, consumed);
 * assert.equal(recent.match(bytes, 0, bytes.length), consumed);
 * assert.equal(recent.match(bytes, 1, bytes.length), 0);
 * ```
 */
export class RecentHead {
  /** The head, whose strings the next one may reuse even when it differs. */
  head: RequestHead | undefined;
  /** Under which limits it was parsed, where that may vary. */
  limits: HeadLimits | undefined;
  /** Allocated with the first head kept, then reused. */
  #bytes: Uint8Array | undefined;
  /** How many of `#bytes` it was parsed from; none kept when 0. */
  #length = 0;

  /**
   * Keeps `head`, parsed from `length` bytes of `buf` at `start`; its bytes
   * only when they are at most `MAX_REPEATED_HEAD` long.
   */
  keep(
    head: RequestHead,
    buf: Uint8Array,
    start: number,
    length: number,
  ): void {
    this.head = head;
    if (length > MAX_REPEATED_HEAD) {
      this.#length = 0;
      return;
    }
    this.#bytes ??= new Uint8Array(MAX_REPEATED_HEAD);
    this.#bytes.set(buf.subarray(start, start + length));
    this.#length = length;
  }

  /**
   * The length of the kept head if the bytes of `buf` from `start` to
   * `end` begin with exactly its bytes, else 0.
   */
  match(buf: Uint8Array, start: number, end: number): number {
    const length = this.#length;
    const bytes = this.#bytes;
    if (bytes === undefined || length === 0 || end - start < length) return 0;
    for (let i = 0; i < length; i++) {
      if (buf[start + i] !== bytes[i]) return 0;
    }
    return length;
  }
}
