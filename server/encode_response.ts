/**
 * Frames a response for the wire: status line, the fields every answer
 * carries, the handler's fields, and the body when it is in memory.
 *
 * @module
 */

import { formatResponseHead } from "../protocol/response_head.ts";
import { currentHttpDate } from "./clock.ts";
import type { Response } from "./response.ts";
import { SERVER_NAME } from "./version.ts";

const encoder = new TextEncoder();

/**
 * A response's head, and its body when that is in memory (unless told
 * otherwise), as one buffer.
 * Every field value is built ASCII, so one character is one byte; anything
 * else is a bug and throws rather than corrupt the framing.
 *
 * @example
 * ```ts
 * import { encodeResponse } from "./encode_response.ts";
 * import { errorResponse } from "./response.ts";
 * import assert from "node:assert/strict";
 * const text = new TextDecoder().decode(encodeResponse(errorResponse(404, "GET"), false));
 * assert.match(text, /^HTTP\/1\.1 404 Not Found\r\nServer: httpd\.ts\/[\d.]+\r\nDate: /);
 * assert.ok(text.endsWith("Content-Length: 14\r\nConnection: close\r\n\r\n404 Not Found\n"));
 * ```
 */
export function encodeResponse(
  response: Response,
  keepAlive: boolean,
  withBody = true,
): Uint8Array {
  const text = formatHead(response, keepAlive);
  const body = withBody && response.body instanceof Uint8Array
    ? response.body
    : undefined;
  const bytes = new Uint8Array(text.length + (body?.length ?? 0));
  encodeHead(text, bytes);
  if (body !== undefined) bytes.set(body, text.length);
  return bytes;
}

/**
 * A response's head as text: status line, Server, Date, the handler's
 * fields, Content-Length, Connection and the empty line.
 */
export function formatHead(response: Response, keepAlive: boolean): string {
  const length = response.contentLength;
  return formatResponseHead(
    response.status,
    `Server: ${SERVER_NAME}\r\nDate: ${currentHttpDate()}\r\n${response.fields}${
      length === undefined ? "" : `Content-Length: ${length}\r\n`
    }${keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"}`,
  );
}

/**
 * Writes `head`, from {@linkcode formatHead}, at the start of `into`; throws
 * rather than corrupt the framing if a character is not ASCII (one byte).
 */
export function encodeHead(head: string, into: Uint8Array): void {
  const { read, written } = encoder.encodeInto(head, into);
  if (read !== head.length || written !== head.length) {
    throw new TypeError("Cannot send head: non-ASCII field value");
  }
}
