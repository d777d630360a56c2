/**
 * Serialises a response head (RFC 9112 §4, §5).
 *
 * @module
 */

import { STATUS_TEXT, type StatusCode } from "./status.ts";

/**
 * Formats a status line and header fields, closed by the empty line.
 * `fields` alternates names and values; values must already be free of CR
 * and LF (this server builds them all itself).
 *
 * @example
 * ```ts
 * import { formatResponseHead } from "./response_head.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatResponseHead(404, ["Content-Length", "0"]),
 *   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
 * );
 * ```
 */
export function formatResponseHead(
  status: StatusCode,
  fields: readonly string[],
): string {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n`;
  for (let i = 0; i < fields.length; i += 2) {
    head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  }
  return head + "\r\n";
}
