/**
 * A response as one buffer, head and body together, for a single write (one
 * segment for a small answer); and, after a write that stopped short, how
 * much of the body went out.
 *
 * @module
 */

import { currentSecond } from "./clock.ts";
import { encodeResponse } from "./encode_response.ts";
import { type Response, SINGLE_WRITE_LIMIT } from "./response.ts";

/**
 * `response` complete in one buffer, or `undefined` for one that is not
 * sent that way (a body from a file, or one over `SINGLE_WRITE_LIMIT` with
 * no room for its head in front). Framed in place, at any size, when the
 * body sits in a {@linkcode Frame} with room for its head (whoever writes
 * the bytes holds the frame meanwhile); else built, and kept in the
 * response's {@linkcode Wire}, when it has one, for the rest of the second.
 *
 * @example
 * ```ts
 * import { wholeResponse } from "./whole_response.ts";
 * import { createWire } from "./response.ts";
 * import assert from "node:assert/strict";
 * const body = new TextEncoder().encode("hi\n");
 * const response = { status: 200, fields: "", contentLength: 3, body, wire: createWire() } as const;
 * const bytes = wholeResponse(response, true)!;
 * assert.match(new TextDecoder().decode(bytes), /\r\nConnection: keep-alive\r\n\r\nhi\n$/);
 * // Built once for the second: the same buffer again, no formatting.
 * assert.equal(wholeResponse(response, true), bytes);
 * ```
 */
export function wholeResponse(
  response: Response,
  keepAlive: boolean,
): Uint8Array | undefined {
  const body = response.body;
  if (body !== undefined && !(body instanceof Uint8Array)) return undefined;
  const framed = response.frame?.whole(response, keepAlive);
  if (framed !== undefined) return framed;
  if (body !== undefined && body.length > SINGLE_WRITE_LIMIT) return undefined;
  const wire = response.wire;
  if (wire === undefined) return encodeResponse(response, keepAlive);
  const second = currentSecond();
  if (wire.second !== second) {
    wire.second = second;
    wire.keepAlive = wire.close = undefined;
  }
  let bytes = keepAlive ? wire.keepAlive : wire.close;
  if (bytes === undefined) {
    bytes = encodeResponse(response, keepAlive);
    if (keepAlive) wire.keepAlive = bytes;
    else wire.close = bytes;
  }
  return bytes;
}

/**
 * How many body bytes of `response` are among the first `written` bytes
 * of `whole`, its head and in-memory body as one buffer: what the access
 * log counts when the client left halfway through.
 *
 * @example
 * ```ts
 * import { bodyBytesIn } from "./whole_response.ts";
 * import assert from "node:assert/strict";
 * const body = new Uint8Array(10);
 * const whole = new Uint8Array(40); // a 30-byte head, then the body
 * const response = { status: 200, fields: "", contentLength: 10, body } as const;
 * assert.equal(bodyBytesIn(response, whole, 25), 0);
 * assert.equal(bodyBytesIn(response, whole, 34), 4);
 * assert.equal(bodyBytesIn(response, whole, 40), 10);
 * ```
 */
export function bodyBytesIn(
  response: Response,
  whole: Uint8Array,
  written: number,
): number {
  const body = response.body;
  const length = body instanceof Uint8Array ? body.length : 0;
  return Math.min(length, Math.max(0, written - (whole.length - length)));
}
