/**
 * A small file's bytes kept with free room in front of them, where the head
 * of a response that carries them is written: head and body then go out in
 * one write, and a new head (each second, for Date) costs a few hundred
 * bytes written in place instead of a copy of the whole file.
 *
 * @module
 */

import { currentSecond } from "./clock.ts";
import { encodeHead, formatHead } from "./encode_response.ts";
import type { Response } from "./response.ts";

/**
 * Room for a head before a body, filled in place. Shared by every response
 * that carries the body, so a head is only replaced while no write of the
 * complete response is under way (see {@linkcode Frame.hold}): a socket
 * write that the kernel does not take at once goes on reading the buffer
 * later.
 *
 * @example
 * ```ts
 * import { Frame } from "./frame.ts";
 * import assert from "node:assert/strict";
 * const frame = new Frame(512, 5);
 * frame.body.set(new TextEncoder().encode("hello"));
 * const response = { status: 200, fields: "", contentLength: 5, body: frame.body } as const;
 * const whole = frame.whole(response, true)!;
 * assert.match(new TextDecoder().decode(whole), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello$/);
 * // The same head for the rest of the second: the same bytes, no copy.
 * assert.equal(frame.whole(response, true), whole);
 * assert.equal(whole.buffer, frame.body.buffer);
 * ```
 */
export class Frame {
  /** The content, after the room; filled by its owner before first use. */
  readonly body: Uint8Array;
  /** The complete response in the buffer now, if any, and what it answers. */
  #whole: Uint8Array | undefined;
  #status = 0;
  #fields = "";
  #keepAlive = false;
  #second = -1;
  /** Writes of a response carrying the body that have not settled. */
  #sending = 0;

  /** A buffer of `room` free bytes followed by a body of `size` bytes. */
  constructor(room: number, size: number) {
    this.body = new Uint8Array(room + size).subarray(room);
  }

  /** The bytes held: room and body. */
  get byteLength(): number {
    return this.body.buffer.byteLength;
  }

  /**
   * `response`, whose body must be this frame's body, complete: its head
   * (for the clock's current second) in the room right before the body.
   * `undefined` when the response does not carry the whole body, when the
   * head does not fit in the room, or when the head in place is another
   * one and a write of it has not settled; the caller then builds the
   * response elsewhere.
   */
  whole(response: Response, keepAlive: boolean): Uint8Array | undefined {
    const body = this.body;
    if (response.body !== body || response.contentLength !== body.length) {
      return undefined;
    }
    const second = currentSecond();
    if (
      this.#whole !== undefined && this.#second === second &&
      this.#keepAlive === keepAlive && this.#status === response.status &&
      this.#fields === response.fields
    ) return this.#whole;
    if (this.#sending > 0) return undefined;
    const head = formatHead(response, keepAlive);
    const start = body.byteOffset - head.length;
    if (start < 0) return undefined;
    this.#whole = undefined;
    encodeHead(head, new Uint8Array(body.buffer, start, head.length));
    this.#whole = new Uint8Array(body.buffer, start, head.length + body.length);
    this.#status = response.status;
    this.#fields = response.fields;
    this.#keepAlive = keepAlive;
    this.#second = second;
    return this.#whole;
  }

  /**
   * Marks a write of a response carrying the body as begun: the head in
   * place stays until as many {@linkcode Frame.release} calls as holds.
   */
  hold(): void {
    this.#sending++;
  }

  /** Marks a write begun with {@linkcode Frame.hold} as settled. */
  release(): void {
    this.#sending--;
  }
}
