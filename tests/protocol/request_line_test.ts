import assert from "node:assert/strict";
import { firstLine, requestMethod } from "../../protocol/_request_line.ts";

// The request line is parsed through parseRequestHead() and tested in
// request_head_test.ts; these are the parts the request reader reads of a
// request refused before its head was complete.

Deno.test("requestMethod() gives the method once the space after it has arrived", () => {
  const cases: [string, number, number, string | undefined][] = [
    // [buffer, start, end, expected]
    ["GET / HTTP/1.1\r\n", 0, 16, "GET"],
    ["\r\nHEAD /", 2, 8, "HEAD"],
    ["BREW /pot", 0, 9, "BREW"], // any token, not only the methods we know
    ["GET", 0, 3, undefined], // no space yet
    ["GET /", 0, 3, undefined], // the space is past `end`
    [" / HTTP/1.1", 0, 11, undefined], // an empty method
    ["G@T / HTTP/1.1", 0, 14, undefined], // not a token
    ["GET\t/ HTTP/1.1", 0, 14, undefined], // HTAB is not SP
  ];
  for (const [text, start, end, expected] of cases) {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    assert.equal(
      requestMethod(bytes, start, end),
      expected,
      JSON.stringify(text),
    );
  }
});

Deno.test("firstLine() gives the line before the first LF or CRLF, once it is complete", () => {
  const cases: [string, number, number, string | undefined][] = [
    // [buffer, start, maxLength, expected]
    ["GET / HTTP/1.1\r\nHost: a\r\n", 0, 8192, "GET / HTTP/1.1"],
    ["GET / HTTP/1.1\nHost: a\n", 0, 8192, "GET / HTTP/1.1"],
    ["\r\nGET /x HTTP/1.1\r\n", 2, 8192, "GET /x HTTP/1.1"],
    ["GET / HTTP/1.1", 0, 8192, undefined], // no line break yet
    ["GET / HTTP/1.1\r", 0, 8192, undefined],
    ["\r\n", 0, 8192, ""],
    ["a\rb\r\n", 0, 8192, "a\rb"], // a bare CR is part of the line
    ["\xe9t\xe9\r\n", 0, 8192, "\xe9t\xe9"], // bytes as Latin-1
    // A line break further than the longest line (plus CRLF) is not looked for.
    ["abcd\r\n", 0, 4, "abcd"],
    ["abcde\r\n", 0, 4, undefined],
    ["abcde\n", 0, 4, undefined], // one over, with a bare LF as with CRLF
  ];
  for (const [text, start, maxLength, expected] of cases) {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    assert.equal(
      firstLine(bytes, start, bytes.length, maxLength),
      expected,
      JSON.stringify(text),
    );
  }
});
