import assert from "node:assert/strict";
import { RequestError, type RequestErrorCode } from "../../protocol/errors.ts";
import { getField, parseRequestHead } from "../../protocol/request_head.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

const VALID = [
  "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
  "GET /httptest/dir2/page.html HTTP/1.0\r\n\r\n",
  "HEAD /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n",
  "\r\n\nGET /after-empty-lines HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /lf-only HTTP/1.1\nHost: x\n\n",
  "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n",
  "GET /tab HTTP/1.1\r\nHost: x\r\nX-Value:\t a  b \t\r\n\r\n",
  "GET http://example.com/abs HTTP/1.1\r\nHost: example.com\r\n\r\n",
  "GET /obs-text HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n",
];

function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

Deno.test("parseRequestHead() reports every proper prefix of a valid head as partial", () => {
  for (const text of VALID) {
    const input = latin1Bytes(text);
    for (let n = 0; n < input.length; n++) {
      assert.equal(
        parseRequestHead(input.subarray(0, n)),
        undefined,
        JSON.stringify(text.slice(0, n)),
      );
    }
    assert.equal(parseRequestHead(input)?.consumed, input.length);
  }
});

Deno.test("parseRequestHead() gives the same head for every split into two reads", () => {
  for (const text of VALID) {
    const input = latin1Bytes(text);
    const whole = parseRequestHead(input);
    for (let cut = 1; cut < input.length; cut++) {
      assert.equal(parseRequestHead(input.subarray(0, cut)), undefined);
      assert.deepEqual(
        parseRequestHead(input, { scanFrom: cut }),
        whole,
        `${JSON.stringify(text)} cut at ${cut}`,
      );
    }
  }
});

Deno.test("parseRequestHead() finds the head fed one byte at a time, scanning only new bytes", () => {
  for (const text of VALID) {
    const input = latin1Bytes(text);
    let result;
    for (let n = 1; n <= input.length && result === undefined; n++) {
      result = parseRequestHead(input.subarray(0, n), { scanFrom: n - 1 });
      if (n < input.length) assert.equal(result, undefined);
    }
    assert.deepEqual(result, parseRequestHead(input));
  }
});

Deno.test("parseRequestHead() consumes one head and leaves a pipelined one", () => {
  const first = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";
  const input = bytes(first + "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  const parsed = parseRequestHead(input)!;
  assert.equal(parsed.consumed, first.length);
  assert.equal(parsed.head.target, "/1");
  assert.equal(
    parseRequestHead(input.subarray(parsed.consumed))!.head.target,
    "/2",
  );
});

Deno.test("parseRequestHead() returns method, target, version and fields as sent", () => {
  const { head } = parseRequestHead(latin1Bytes(VALID[2]))!;
  assert.equal(head.method, "HEAD");
  assert.equal(head.target, "/a?b=c");
  assert.equal(head.minorVersion, 1);
  assert.deepEqual(head.fields, [
    "host",
    "x",
    "user-agent",
    "test/1.0",
    "accept",
    "*/*",
  ]);
  assert.equal(getField(head, "User-Agent"), "test/1.0");
  const tab = parseRequestHead(bytes(VALID[6]))!.head;
  assert.equal(
    getField(tab, "x-value"),
    "a  b",
    "OWS around a value is not part of it",
  );
  const obs = parseRequestHead(latin1Bytes(VALID[8]))!.head;
  assert.equal(getField(obs, "x-name"), "caf\xe9");
});

Deno.test("parseRequestHead() keeps an HTAB inside a field value, trimming only the OWS around it", () => {
  const { head } = parseRequestHead(
    bytes("GET / HTTP/1.1\r\nHost: x\r\nX-Value: \ta\tb c\t\r\n\r\n"),
  )!;
  assert.equal(getField(head, "x-value"), "a\tb c");
});

Deno.test("parseRequestHead() lower-cases every field name, common or not, and keeps the method's case", () => {
  const { head } = parseRequestHead(bytes(
    "get / HTTP/1.1\r\nHOST: x\r\nUser-AGENT: u\r\nAccept-Encodinh: e\r\n" +
      "X-Custom-Name: c\r\nCONTENT-length: 0\r\n\r\n",
  ))!;
  assert.equal(head.method, "get", "methods are case-sensitive");
  assert.deepEqual(head.fields, [
    "host",
    "x",
    "user-agent",
    "u",
    "accept-encodinh",
    "e",
    "x-custom-name",
    "c",
    "content-length",
    "0",
  ]);
  for (const method of ["GET", "HEAD", "POST", "GETS", "HEAd", "PATCH"]) {
    const line = `${method} / HTTP/1.1\r\nHost: x\r\n\r\n`;
    assert.equal(parseRequestHead(bytes(line))!.head.method, method);
  }
});

const FRAMING: [
  string,
  { keepAlive: boolean; contentLength: number; chunked: boolean },
][] = [
  ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\nConnection: KEEP-ALIVE\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", {
    keepAlive: false,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.2\r\nHost: x\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  [
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
    {
      keepAlive: false,
      contentLength: 0,
      chunked: false,
    },
  ],
  ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\xa0, x\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999\r\n\r\n", {
    keepAlive: true,
    contentLength: 999999999999999,
    chunked: false,
  }],
  // Longer numerals are valid too (RFC 9110 §8.6), past any exact number.
  ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n", {
    keepAlive: true,
    contentLength: Infinity,
    chunked: false,
  }],
  [
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    {
      keepAlive: true,
      contentLength: Infinity,
      chunked: false,
    },
  ],
  ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n", {
    keepAlive: true,
    contentLength: 42,
    chunked: false,
  }],
  // 1*DIGIT: leading zeros are digits too, however many.
  ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000005\r\n\r\n", {
    keepAlive: true,
    contentLength: 5,
    chunked: false,
  }],
  ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  }],
  ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: true,
  }],
  // Empty list elements are no codings (RFC 9110 §5.6.1).
  ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked,\r\n\r\n", {
    keepAlive: true,
    contentLength: 0,
    chunked: true,
  }],
];

Deno.test("parseRequestHead() settles keep-alive and body framing", () => {
  for (const [text, expected] of FRAMING) {
    const { head } = parseRequestHead(latin1Bytes(text))!;
    assert.deepEqual(
      {
        keepAlive: head.keepAlive,
        contentLength: head.contentLength,
        chunked: head.chunked,
      },
      expected,
      JSON.stringify(text),
    );
  }
});

const longTarget = "/" + "a".repeat(8200);
const ERRORS: [string, string, RequestErrorCode, number][] = [
  ["no version", "GET /\r\n\r\n", "InvalidRequestLine", 400],
  ["no target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", "InvalidRequestLine", 400],
  [
    "two spaces",
    "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidRequestLine",
    400,
  ],
  [
    "method with a delimiter",
    "GE(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidRequestLine",
    400,
  ],
  ["garbage line", "hello\r\n\r\n", "InvalidRequestLine", 400],
  [
    "empty method",
    " / HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidRequestLine",
    400,
  ],
  // Past the request-line limit, the first fault wins, however the bytes
  // came: a bad byte before the limit, else the length.
  [
    "a line past the limit, bad from its first byte",
    `${"(".repeat(9000)}\r\n\r\n`,
    "InvalidRequestLine",
    400,
  ],
  [
    "a line past the limit, a control byte early in its target",
    `GET /a\x01${"b".repeat(9000)} HTTP/1.1\r\n\r\n`,
    "InvalidTarget",
    400,
  ],
  [
    "a method past the limit",
    `${"M".repeat(9000)} / HTTP/1.1\r\n\r\n`,
    "MethodTooLong",
    501,
  ],
  [
    "a target past the limit",
    `GET /${"b".repeat(9000)} HTTP/1.1\r\n\r\n`,
    "RequestLineTooLong",
    414,
  ],
  [
    "control byte in target",
    "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidTarget",
    400,
  ],
  [
    "DEL in target",
    "GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidTarget",
    400,
  ],
  [
    "tab in target",
    "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidTarget",
    400,
  ],
  [
    "space in target",
    "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidVersion",
    400,
  ],
  [
    "lower-case version",
    "GET / http/1.1\r\nHost: x\r\n\r\n",
    "InvalidVersion",
    400,
  ],
  [
    "two-digit minor",
    "GET / HTTP/1.10\r\nHost: x\r\n\r\n",
    "InvalidVersion",
    400,
  ],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "UnsupportedVersion", 505],
  ["HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", "UnsupportedVersion", 505],
  [
    "header without colon",
    "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "whitespace before colon",
    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "empty field name",
    "GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "NUL in value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "obs-fold",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  b\r\n\r\n",
    "ObsoleteLineFolding",
    400,
  ],
  [
    "obs-fold with tab",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n",
    "ObsoleteLineFolding",
    400,
  ],
  [
    "bare CR in value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
    "BareCarriageReturn",
    400,
  ],
  [
    "bare CR in request line",
    "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n",
    "BareCarriageReturn",
    400,
  ],
  [
    "bare CR as the empty line",
    "GET / HTTP/1.1\r\nHost: x\r\n\r\r\n",
    "BareCarriageReturn",
    400,
  ],
  [
    "bare CR before request line",
    "\rGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "BareCarriageReturn",
    400,
  ],
  ["missing Host in 1.1", "GET / HTTP/1.1\r\n\r\n", "MissingHost", 400],
  [
    "two Host fields",
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "DuplicateHost",
    400,
  ],
  [
    "two Host fields in 1.0",
    "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
    "DuplicateHost",
    400,
  ],
  [
    "space in Host",
    "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "slash in Host",
    "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "unclosed IP-literal in Host",
    "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "bytes after IP-literal in Host",
    "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "non-digit port in Host",
    "GET / HTTP/1.1\r\nHost: example.com:8o\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "two ports in Host",
    "GET / HTTP/1.1\r\nHost: example.com:80:80\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "userinfo in Host",
    "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "bad pct-encoding in Host",
    "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "short pct-encoding in Host",
    "GET / HTTP/1.1\r\nHost: a%2\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "obs-text in Host",
    "GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "bare IPv4 in brackets in Host",
    "GET / HTTP/1.1\r\nHost: [127.0.0.1]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "bad IPv6 group in Host",
    "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "two :: in IPv6 Host",
    "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "nine IPv6 groups in Host",
    "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "IPv6 dotted quad out of range in Host",
    "GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.256]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "empty IPvFuture in Host",
    "GET / HTTP/1.1\r\nHost: [v1.]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "invalid Host in 1.0",
    "GET / HTTP/1.0\r\nHost: a b\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "Content-Length and Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    "ConflictingFraming",
    400,
  ],
  [
    "duplicate Content-Length",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
    "InvalidContentLength",
    400,
  ],
  [
    "Content-Length list",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n",
    "InvalidContentLength",
    400,
  ],
  [
    "empty Content-Length",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
    "InvalidContentLength",
    400,
  ],
  [
    "negative Content-Length",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "InvalidContentLength",
    400,
  ],
  [
    "gzip transfer coding",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "InvalidTransferEncoding",
    400,
  ],
  [
    "chunked not last",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    "InvalidTransferEncoding",
    400,
  ],
  [
    "chunked twice",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    "InvalidTransferEncoding",
    400,
  ],
  [
    "no transfer coding at all",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n",
    "InvalidTransferEncoding",
    400,
  ],
  [
    "a coding before chunked",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "UnsupportedTransferEncoding",
    501,
  ],
  [
    "request line over 8 KiB",
    `GET ${longTarget} HTTP/1.1\r\nHost: x\r\n\r\n`,
    "RequestLineTooLong",
    414,
  ],
  [
    "a method over 8 KiB",
    `${"M".repeat(9000)} / HTTP/1.1\r\nHost: x\r\n\r\n`,
    "MethodTooLong",
    501,
  ],
  [
    "head over 32 KiB",
    `GET / HTTP/1.1\r\nHost: x\r\nX: ${"v".repeat(33000)}\r\n\r\n`,
    "HeaderSectionTooLarge",
    431,
  ],
  [
    "101 fields",
    `GET / HTTP/1.1\r\nHost: x\r\n${"X: y\r\n".repeat(100)}\r\n`,
    "TooManyHeaderFields",
    431,
  ],
  [
    "NUL as the last byte of a value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\x00\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "bare CR as the last byte of a value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\r\n\r\n",
    "BareCarriageReturn",
    400,
  ],
  [
    "DEL in value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "unit separator (0x1f) in value",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\x1fb\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "@ in a field name",
    "GET / HTTP/1.1\r\nHost: x\r\nA@B: 1\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "DEL in a field name",
    "GET / HTTP/1.1\r\nHost: x\r\nA\x7fB: 1\r\n\r\n",
    "InvalidHeader",
    400,
  ],
  [
    "@ in the method",
    "G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidRequestLine",
    400,
  ],
  [
    "DEL in the method",
    "GE\x7fT / HTTP/1.1\r\nHost: x\r\n\r\n",
    "InvalidRequestLine",
    400,
  ],
  [
    "non-hex pct-encoding in Host",
    "GET / HTTP/1.1\r\nHost: a%4G\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "upper-case non-hex IPv6 group in Host",
    "GET / HTTP/1.1\r\nHost: [::G]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "nine IPv6 groups with :: in Host",
    "GET / HTTP/1.1\r\nHost: [1:2:3:4::5:6:7:8]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "IPv4 octet with a leading zero in Host",
    "GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.04]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "IPvFuture without a version in Host",
    "GET / HTTP/1.1\r\nHost: [v.abc]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "two :: among eight groups in Host",
    "GET / HTTP/1.1\r\nHost: [1:2:3::4:5:6::7:8]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "five-digit IPv6 group in Host",
    "GET / HTTP/1.1\r\nHost: [::12345]\r\n\r\n",
    "InvalidHost",
    400,
  ],
  [
    "Transfer-Encoding over two fields, chunked last",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
    "UnsupportedTransferEncoding",
    501,
  ],
  [
    "chunked with a no-break space",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\xa0\r\n\r\n",
    "InvalidTransferEncoding",
    400,
  ],
];

/** Host values (RFC 9112 §3.2, RFC 3986 §3.2.2) that must be accepted. */
const VALID_HOSTS = [
  "example.com",
  "example.com:8080",
  "127.0.0.1:80",
  "[::1]:8080",
  "xn--bcher-kva.example",
  "EXAMPLE.com",
  "localhost:",
  "a%2Db.example",
  "sub_domain.example~!$&'()*+,;=",
  "1.2.3.999",
  "[::]",
  "[1:2:3:4:5:6:7:8]",
  "[1:2:3:4:5:6:7::]",
  "[::2:3:4:5:6:7:8]",
  "[2001:DB8::ffff:192.0.2.1]:443",
  "[v1.fe:80]",
  "[::ffff:192.0.2.255]",
  "",
];

Deno.test("parseRequestHead() accepts a Host of uri-host and port, or empty", async (t) => {
  for (const host of VALID_HOSTS) {
    await t.step(JSON.stringify(host), () => {
      const text = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      const parsed = parseRequestHead(bytes(text));
      assert.equal(parsed?.consumed, text.length);
      assert.equal(getField(parsed.head, "host"), host);
    });
  }
});

Deno.test("parseRequestHead() throws one typed error per malformation", async (t) => {
  for (const [name, text, code, status] of ERRORS) {
    await t.step(name, () => {
      const input = latin1Bytes(text);
      assert.throws(
        () => parseRequestHead(input),
        (error) =>
          error instanceof RequestError && error.code === code &&
          error.status === status,
      );
    });
  }
});

Deno.test("parseRequestHead() allows a request line of exactly the limit, CRLF aside", () => {
  const exact = `GET /${"a".repeat(8192 - 14)} HTTP/1.1`;
  assert.equal(exact.length, 8192);
  assert.equal(
    parseRequestHead(bytes(`${exact}\r\nHost: x\r\n\r\n`))?.head.target.length,
    8179,
  );
  const over = `GET /${"a".repeat(8192 - 13)} HTTP/1.1`;
  assert.throws(
    () => parseRequestHead(bytes(`${over}\r\nHost: x\r\n\r\n`)),
    (e) => e instanceof RequestError && e.status === 414,
  );
  // A byte over, but a bad version within the limit: that fault comes
  // first, as it would a byte at a time.
  assert.throws(
    () => parseRequestHead(bytes(`${exact}a\r\nHost: x\r\n\r\n`)),
    (e) => e instanceof RequestError && e.status === 400,
  );
  // The same with a bare LF for line break: no CR to take off.
  assert.equal(
    parseRequestHead(bytes(`${exact}\nHost: x\n\n`))?.head.target.length,
    8179,
  );
  assert.throws(
    () => parseRequestHead(bytes(`${over}\nHost: x\n\n`)),
    (e) => e instanceof RequestError && e.status === 414,
  );
});

Deno.test("parseRequestHead() counts empty lines before the request line towards the head", () => {
  assert.equal(parseRequestHead(bytes("\r\n".repeat(100))), undefined);
  assert.throws(
    () => parseRequestHead(bytes("\r\n".repeat(20000))),
    (e) => e instanceof RequestError && e.status === 431,
  );
});

Deno.test("parseRequestHead() refuses an overlong request line before it ends", () => {
  const input = bytes(`GET ${longTarget}`);
  assert.throws(
    () => parseRequestHead(input),
    (e) => e instanceof RequestError && e.status === 414,
  );
});

Deno.test("parseRequestHead() refuses an overlong method before the line ends", () => {
  assert.throws(
    () => parseRequestHead(bytes("M".repeat(9000))),
    (e) => e instanceof RequestError && e.code === "MethodTooLong",
  );
  // No method at all: bytes that cannot make one are no long method, but
  // what they would have been had they come a few at a time, with or
  // without their line's end.
  for (const text of ["(".repeat(9000), `${"(".repeat(9000)}\r\n\r\n`]) {
    assert.throws(
      () => parseRequestHead(bytes(text)),
      (e) => e instanceof RequestError && e.code === "InvalidRequestLine",
    );
  }
  // The method fits; the target makes the line too long.
  assert.throws(
    () => parseRequestHead(bytes(`${"M".repeat(8000)} /${"a".repeat(1000)}`)),
    (e) => e instanceof RequestError && e.code === "RequestLineTooLong",
  );
});

Deno.test("parseRequestHead() takes a method of exactly the line limit for no overlong method", () => {
  const limits = { maxRequestLine: 16, maxHeadSize: 1024, maxHeaderFields: 8 };
  const code = (text: string, end = "") => {
    try {
      parseRequestHead(bytes(text + end), { limits });
    } catch (error) {
      if (error instanceof RequestError) return error.code;
      throw error;
    }
  };
  for (const end of ["", "\r\nHost: x\r\n\r\n"]) {
    // 16 bytes of method fit the limit: the target is what makes it long.
    assert.equal(code(`${"M".repeat(16)} /a`, end), "RequestLineTooLong");
    assert.equal(code(`${"M".repeat(17)} /a`, end), "MethodTooLong");
  }
});

Deno.test("parseRequestHead() refuses an oversized head before it ends", () => {
  const input = bytes(
    `GET / HTTP/1.1\r\n${"X-Long: abcdefgh\r\n".repeat(2000)}`,
  );
  assert.throws(
    () => parseRequestHead(input),
    (e) => e instanceof RequestError && e.status === 431,
  );
});

Deno.test("parseRequestHead() answers a bad request line as soon as it is complete", () => {
  assert.throws(
    () => parseRequestHead(bytes("BAD LINE\r\nHost: x\r\n")),
    (e) => e instanceof RequestError && e.code === "InvalidRequestLine",
  );
});

Deno.test("parseRequestHead() answers a bad request line when its LF arrives, whatever the read before it", () => {
  // Nothing before the LF shows the line is bad: its version is missing.
  const input = bytes("BAD LINE\r\n");
  for (let cut = 1; cut < input.length; cut++) {
    assert.equal(parseRequestHead(input.subarray(0, cut)), undefined);
    assert.throws(
      () => parseRequestHead(input, { scanFrom: cut }),
      (e) => e instanceof RequestError && e.code === "InvalidRequestLine",
      `cut at ${cut}`,
    );
  }
});

Deno.test("parseRequestHead() honours smaller limits", () => {
  const limits = { maxRequestLine: 16, maxHeadSize: 64, maxHeaderFields: 2 };
  assert.throws(
    () =>
      parseRequestHead(bytes("GET /seventeen-chars HTTP/1.1\r\n\r\n"), {
        limits,
      }),
    (e) => e instanceof RequestError && e.status === 414,
  );
  assert.throws(
    () =>
      parseRequestHead(
        bytes("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n"),
        { limits },
      ),
    (e) => e instanceof RequestError && e.code === "TooManyHeaderFields",
  );
  assert.throws(
    () =>
      parseRequestHead(
        bytes(`GET / HTTP/1.1\r\nHost: x\r\nA: ${"v".repeat(40)}\r\n\r\n`),
        { limits },
      ),
    (e) => e instanceof RequestError && e.code === "HeaderSectionTooLarge",
  );
});

Deno.test("parseRequestHead() gives the same error for every split of a malformed head", () => {
  for (const [name, text, code] of ERRORS) {
    const input = latin1Bytes(text);
    let caught: unknown;
    for (let n = 1; n <= input.length && caught === undefined; n++) {
      try {
        parseRequestHead(input.subarray(0, n), { scanFrom: n - 1 });
      } catch (error) {
        caught = error;
      }
    }
    assert.ok(caught instanceof RequestError, name);
    assert.equal(caught.code, code, name);
  }
});

Deno.test("parseRequestHead() gives the same head whatever previous head it is handed", () => {
  const heads = [
    "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: ua/1\r\nAccept: */*\r\n\r\n",
    // The same request again.
    "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: ua/1\r\nAccept: */*\r\n\r\n",
    // Same lengths, other bytes: target, a value, obs-text in a value.
    "GET /b HTTP/1.1\r\nHost: y\r\nUser-Agent: ua/2\r\nAccept: \xe9/*\r\n\r\n",
    // The same values in another order, and a field fewer.
    "GET /b HTTP/1.1\r\nUser-Agent: ua/2\r\nHost: y\r\n\r\n",
    // A value that only starts like the previous one, and one more field.
    "HEAD /bb HTTP/1.1\r\nUser-Agent: ua/22\r\nHost: y\r\nAccept: */*\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
  ].map(latin1Bytes);
  for (const input of heads) {
    const fresh = parseRequestHead(input)!;
    for (const other of heads) {
      const previous = parseRequestHead(other)!.head;
      assert.deepEqual(parseRequestHead(input, { previous }), fresh);
    }
  }
});

Deno.test("parseRequestHead() draws its size limits at exactly the limit", () => {
  const is431 = (e: unknown) => e instanceof RequestError && e.status === 431;
  const is414 = (e: unknown) => e instanceof RequestError && e.status === 414;
  // A head of exactly 32 KiB, blank line included, parses; one byte more does not.
  const prefix = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
  const headOf = (size: number) =>
    bytes(`${prefix}${"v".repeat(size - prefix.length - 4)}\r\n\r\n`);
  assert.equal(parseRequestHead(headOf(32768))?.consumed, 32768);
  assert.throws(() => parseRequestHead(headOf(32769)), is431);
  // Empty lines alone: 32 KiB of them may still be followed by a request.
  assert.equal(parseRequestHead(new Uint8Array(32768).fill(0x0a)), undefined);
  assert.throws(
    () => parseRequestHead(new Uint8Array(32769).fill(0x0a)),
    is431,
  );
  // An unfinished request line may reach the limit and its CR, not beyond.
  assert.equal(parseRequestHead(bytes(`GET /${"a".repeat(8188)}`)), undefined);
  assert.throws(
    () => parseRequestHead(bytes(`GET /${"a".repeat(8189)}`)),
    is414,
  );
});

Deno.test("parseRequestHead() refuses an unfinished request line no bytes could mend", () => {
  const refused: [string, string, RequestErrorCode][] = [
    ["a TLS ClientHello", "\x16\x03\x01\x00\xa5\x01\x00", "InvalidRequestLine"],
    ["an empty method", " / HTTP/1.1", "InvalidRequestLine"],
    ["a control byte in the target", "GET /a\x01b", "InvalidTarget"],
    ["two spaces", "GET  /", "InvalidRequestLine"],
    [
      "a CR inside the line",
      "GET / HTTP/1.1\rHost: x\r\r",
      "BareCarriageReturn",
    ],
    ["a CR inside the target", "GET /a\rb", "BareCarriageReturn"],
    ["not HTTP", "GET / XTTP", "InvalidVersion"],
    ["a two-digit minor version", "GET / HTTP/1.10", "InvalidVersion"],
    ["a lowercase version", "GET / http/1.1", "InvalidVersion"],
    ["a letter for the major version", "GET / HTTP/x", "InvalidVersion"],
    ["a letter for the minor version", "GET / HTTP/1.x", "InvalidVersion"],
  ];
  for (const [name, text, code] of refused) {
    assert.throws(
      () => parseRequestHead(latin1Bytes(text)),
      (e) => e instanceof RequestError && e.code === code,
      name,
    );
  }
  // Each of these may still become a request (or an error once its LF
  // comes, which the complete line answers).
  for (
    const text of [
      "G",
      "GET",
      "GET ",
      "GET /a",
      "GET /a ",
      "GET /a HTTP/1.",
      "GET /a HTTP/1.1",
      "GET /a HTTP/1.1\r",
      "GET /a\r",
      "hello world",
      "GET /\xe9 HTTP/2.0",
    ]
  ) {
    assert.equal(parseRequestHead(latin1Bytes(text)), undefined, text);
  }
});

Deno.test("parseRequestHead() judges a CR that ended one read by the next byte", () => {
  // In the target, and after the version: whole, each is a bare CR.
  for (const line of ["GET /a\r", "GET /a HTTP/1.1\r"]) {
    assert.equal(parseRequestHead(latin1Bytes(line)), undefined, line);
    assert.throws(
      () =>
        parseRequestHead(latin1Bytes(`${line}x`), { scanFrom: line.length }),
      (e) => e instanceof RequestError && e.code === "BareCarriageReturn",
      line,
    );
  }
});
