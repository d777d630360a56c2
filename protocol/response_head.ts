/**
 * Serialises a response head (RFC 9112 §4, §5).
 *
 * @module
 */

import { STATUS_TEXT, type StatusCode } from "./status.ts";

const STATUS_LINES = new Map<StatusCode, string>();

/** The status line, CRLF included. */
function formatStatusLine(status: StatusCode): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

/**
 * Formats a whole head: status line, the given field lines
 * (`"Name: value\r\n"` each, values free of CR and LF) and the empty line.
 *
 * @example
 * ```ts
 * import { formatResponseHead } from "./response_head.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatResponseHead(404, "Content-Length: 0\r\n"),
 *   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
 * );
 * ```
 */
export function formatResponseHead(status: StatusCode, fields: string): string {
  return `${formatStatusLine(status)}${fields}\r\n`;
}
