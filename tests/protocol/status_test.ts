import assert from "node:assert/strict";
import { STATUS, STATUS_TEXT } from "../../protocol/status.ts";

/** Each status this server sends, with the name RFC 9110 §15 gives it. */
const RFC_9110_NAMES: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  412: "Precondition Failed",
  414: "URI Too Long",
  416: "Range Not Satisfiable",
  // RFC 6585 §5, not RFC 9110.
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

Deno.test("STATUS_TEXT gives every status the server sends its standard reason phrase", () => {
  const codes = Object.values(STATUS);
  // Every status the server can send is in the list above, and no other.
  assert.deepEqual(
    codes.toSorted((a, b) => a - b),
    Object.keys(RFC_9110_NAMES).map(Number),
  );
  assert.deepEqual(
    codes.map((code) => [code, STATUS_TEXT[code]]),
    codes.map((code) => [code, RFC_9110_NAMES[code]]),
  );
});
