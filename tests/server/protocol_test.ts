/**
 * HTTP/1.1 framing over real TCP: pipelining, segmentation, keep-alive,
 * every refusal of the issue's list, request bodies, clients that vanish,
 * and streaming a large file in bounded memory.
 */

import assert from "node:assert/strict";
import { STATUS_TEXT, type StatusCode } from "../../protocol/status.ts";
import {
  FIXTURE_ROOT,
  get,
  header,
  latin1,
  RawClient,
  type RawResponse,
  residentBytes,
  startCli,
  startServer,
  SUITE_ROOT,
  tempDir,
  text,
} from "./_harness.ts";
import { sleep } from "./_waits.ts";

const HOST = "Host: test\r\n";

Deno.test("pipelined requests in one write are answered in order", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  await client.send(
    "GET /with%20space.txt HTTP/1.1\r\nHost: test\r\n\r\n" +
      "HEAD /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n" +
      "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n" +
      "GET /text..txt HTTP/1.1\r\nHost: test\r\n\r\n" +
      "GET /dir/page.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
  );
  const first = await client.readResponse();
  assert.equal(text(first), "with space\n");
  assert.equal(header(first, "connection"), "keep-alive");
  const second = await client.readResponse({ head: true });
  assert.equal(second.status, 200);
  assert.equal(header(second, "content-length"), "9");
  assert.equal((await client.readResponse()).status, 404);
  assert.equal(text(await client.readResponse()), "text dot dot\n");
  const last = await client.readResponse();
  assert.equal(text(last), "dir page\n");
  assert.equal(header(last, "connection"), "close");
  assert.equal(await client.serverClosed(), true);
  assert.deepEqual(server.reports, []);
});

Deno.test("a request split byte by byte is answered", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  const request = "GET /with%20space.txt HTTP/1.1\r\nHost: test\r\n" +
    "User-Agent: one byte at a time\r\n\r\n";
  await client.send(request, 1);
  const response = await client.readResponse();
  assert.equal(response.status, 200);
  assert.equal(text(response), "with space\n");
  // And a second one on the same connection, in pieces of three.
  await client.send(get("/dir/page.txt"), 3);
  assert.equal(text(await client.readResponse()), "dir page\n");
});

Deno.test("a pipeline split at awkward places is answered in order", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  const one = "GET /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n";
  await client.send(one + one + one.slice(0, 5));
  await client.send(one.slice(5, 30));
  await client.send(one.slice(30) + get("/text..txt").slice(0, 17));
  await client.send(get("/text..txt").slice(17));
  for (let i = 0; i < 3; i++) {
    assert.equal(text(await client.readResponse()), "dir page\n");
  }
  assert.equal(text(await client.readResponse()), "text dot dot\n");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("HTTP/1.1 keeps the connection alive by default", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  for (let i = 0; i < 3; i++) {
    await client.send(`GET /dir/page.txt HTTP/1.1\r\n${HOST}\r\n`);
    const response = await client.readResponse();
    assert.equal(response.status, 200);
    assert.equal(header(response, "connection"), "keep-alive");
  }
});

Deno.test("HTTP/1.0 closes by default and answers HTTP/1.1", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  await client.send("GET /dir/page.txt HTTP/1.0\r\n\r\n");
  const response = await client.readResponse();
  assert.equal(response.version, "HTTP/1.1");
  assert.equal(response.status, 200);
  assert.equal(header(response, "connection"), "close");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("HTTP/1.0 with Connection: keep-alive stays open and echoes it", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  for (let i = 0; i < 2; i++) {
    await client.send(
      "GET /dir/page.txt HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    );
    const response = await client.readResponse();
    assert.equal(response.status, 200);
    assert.equal(header(response, "connection"), "keep-alive");
  }
  await client.send("GET /dir/page.txt HTTP/1.0\r\n\r\n");
  assert.equal(header(await client.readResponse(), "connection"), "close");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("Connection: close is honoured and echoed", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  const variants = [
    "Connection: close",
    "Connection: CLOSE",
    "Connection: keep-alive, close",
    "Connection: Upgrade\r\nConnection: close",
  ];
  for (const line of variants) {
    await t.step(JSON.stringify(line), async () => {
      using client = await RawClient.connect(server.port);
      await client.send(`GET /dir/page.txt HTTP/1.1\r\n${HOST}${line}\r\n\r\n`);
      const response = await client.readResponse();
      assert.equal(response.status, 200);
      assert.equal(header(response, "connection"), "close");
      assert.equal(await client.serverClosed(), true);
    });
  }
});

/** Requests the server must refuse, with the status, before closing. */
const REFUSALS: [string, string, number][] = [
  ["malformed request line: one word", "GET\r\n\r\n", 400],
  ["malformed request line: no version", "GET /\r\nHost: test\r\n\r\n", 400],
  [
    "malformed request line: two spaces",
    "GET  / HTTP/1.1\r\nHost: test\r\n\r\n",
    400,
  ],
  [
    "malformed request line: leading space",
    " GET / HTTP/1.1\r\nHost: test\r\n\r\n",
    400,
  ],
  [
    "malformed request line: trailing word",
    "GET / HTTP/1.1 x\r\nHost: test\r\n\r\n",
    400,
  ],
  [
    "malformed request line: tab separator",
    "GET\t/ HTTP/1.1\r\nHost: test\r\n\r\n",
    400,
  ],
  [
    "malformed request line: bad method byte",
    "G(T / HTTP/1.1\r\nHost: test\r\n\r\n",
    400,
  ],
  [
    "malformed request line: binary",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    400,
  ],
  ["header without colon", `GET / HTTP/1.1\r\n${HOST}X-No-Colon\r\n\r\n`, 400],
  [
    "whitespace before colon",
    `GET / HTTP/1.1\r\n${HOST}X-Space : a\r\n\r\n`,
    400,
  ],
  ["tab before colon", `GET / HTTP/1.1\r\n${HOST}X-Tab\t: a\r\n\r\n`, 400],
  [
    "Host with whitespace before colon",
    "GET / HTTP/1.1\r\nHost : test\r\n\r\n",
    400,
  ],
  ["empty field name", `GET / HTTP/1.1\r\n${HOST}: a\r\n\r\n`, 400],
  [
    "obs-fold with a space",
    `GET / HTTP/1.1\r\n${HOST}X-A: a\r\n b\r\n\r\n`,
    400,
  ],
  [
    "obs-fold with a tab",
    `GET / HTTP/1.1\r\n${HOST}X-A: a\r\n\tb\r\n\r\n`,
    400,
  ],
  [
    "obs-fold right after the request line",
    `GET / HTTP/1.1\r\n ${HOST}\r\n`,
    400,
  ],
  ["control byte in the target", `GET /a\x01b HTTP/1.1\r\n${HOST}\r\n`, 400],
  ["NUL in the target", `GET /a\x00b HTTP/1.1\r\n${HOST}\r\n`, 400],
  ["DEL in the target", `GET /a\x7fb HTTP/1.1\r\n${HOST}\r\n`, 400],
  ["tab in the target", `GET /a\tb HTTP/1.1\r\n${HOST}\r\n`, 400],
  ["NUL in a field value", `GET / HTTP/1.1\r\n${HOST}X-A: a\x00b\r\n\r\n`, 400],
  ["bare CR in the request line", `GET / HTTP/1.1\r${HOST}\r\n`, 400],
  ["bare CR in the target", `GET /a\rb HTTP/1.1\r\n${HOST}\r\n`, 400],
  [
    "bare CR in a field value",
    `GET / HTTP/1.1\r\n${HOST}X-A: a\rb\r\n\r\n`,
    400,
  ],
  ["bare CR before the head", `\rGET / HTTP/1.1\r\n${HOST}\r\n`, 400],
  ["bare CR as the empty line", `GET / HTTP/1.1\r\n${HOST}\r\r\n`, 400],
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400],
  [
    "HTTP/1.1 with two Host fields",
    `GET / HTTP/1.1\r\n${HOST}Host: other\r\n\r\n`,
    400,
  ],
  [
    "HTTP/1.0 with two Host fields",
    `GET / HTTP/1.0\r\n${HOST}${HOST}\r\n`,
    400,
  ],
  [
    "absolute-form target with two ports",
    `GET http://x:80:80/ HTTP/1.1\r\n${HOST}\r\n`,
    400,
  ],
  [
    "absolute-form target with an empty host",
    `GET http:///index.html HTTP/1.1\r\n${HOST}\r\n`,
    400,
  ],
  [
    "absolute-form target with userinfo",
    `GET http://user@x/ HTTP/1.1\r\n${HOST}\r\n`,
    400,
  ],
  ["version HTTP/2.0", `GET / HTTP/2.0\r\n${HOST}\r\n`, 505],
  ["version HTTP/0.9", `GET / HTTP/0.9\r\n${HOST}\r\n`, 505],
  ["version HTTP/3.0", `GET / HTTP/3.0\r\n${HOST}\r\n`, 505],
  ["version HTTP/1.10", `GET / HTTP/1.10\r\n${HOST}\r\n`, 400],
  ["version HTTP/x", `GET / HTTP/x\r\n${HOST}\r\n`, 400],
  ["version http/1.1", `GET / http/1.1\r\n${HOST}\r\n`, 400],
  ["version HTTP/1", `GET / HTTP/1\r\n${HOST}\r\n`, 400],
  ["version HTTP/11.1", `GET / HTTP/11.1\r\n${HOST}\r\n`, 400],
  [
    "Content-Length with Transfer-Encoding",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
  ],
  [
    "Transfer-Encoding with Content-Length",
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    400,
  ],
  [
    "duplicate Content-Length",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    400,
  ],
  [
    "Content-Length list",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 3, 3\r\n\r\nabc`,
    400,
  ],
  [
    "Content-Length not a number",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: abc\r\n\r\n`,
    400,
  ],
  [
    "Content-Length negative",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: -1\r\n\r\n`,
    400,
  ],
  [
    "Content-Length with a sign",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: +3\r\n\r\nabc`,
    400,
  ],
  [
    "Content-Length fractional",
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 1.5\r\n\r\n`,
    400,
  ],
  [
    "Content-Length empty",
    `POST / HTTP/1.1\r\n${HOST}Content-Length:\r\n\r\n`,
    400,
  ],
  [
    "Content-Length on a GET, duplicated",
    `GET / HTTP/1.1\r\n${HOST}Content-Length: 0\r\nContent-Length: 1\r\n\r\n`,
    400,
  ],
  [
    "Transfer-Encoding gzip",
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip\r\n\r\n`,
    400,
  ],
  [
    "Transfer-Encoding gzip, chunked",
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    501,
  ],
  [
    "Transfer-Encoding identity",
    `GET / HTTP/1.1\r\n${HOST}Transfer-Encoding: identity\r\n\r\n`,
    400,
  ],
  [
    "request line over 8 KiB",
    `GET /${"a".repeat(8300)} HTTP/1.1\r\n${HOST}\r\n`,
    414,
  ],
  [
    "request line of 64 KiB",
    `GET /${"a".repeat(65536)} HTTP/1.1\r\n${HOST}\r\n`,
    414,
  ],
  ["request line over 8 KiB without its end", `GET /${"a".repeat(9000)}`, 414],
  // RFC 9112 §3: longer than any method implemented.
  ["a method over 8 KiB", `${"M".repeat(9000)} / HTTP/1.1\r\n${HOST}\r\n`, 501],
  ["a method over 8 KiB without its end", "M".repeat(9000), 501],
  [
    "head over 32 KiB",
    `GET / HTTP/1.1\r\n${HOST}${
      `X-Filler: ${"v".repeat(1000)}\r\n`.repeat(34)
    }\r\n`,
    431,
  ],
  [
    "one field over 32 KiB",
    `GET / HTTP/1.1\r\n${HOST}X-Big: ${"v".repeat(33000)}\r\n\r\n`,
    431,
  ],
  [
    "head over 32 KiB without its end",
    `GET / HTTP/1.1\r\n${HOST}X-Big: ${"v".repeat(40000)}`,
    431,
  ],
  [
    "101 header fields",
    `GET / HTTP/1.1\r\n${HOST}${"X-F: v\r\n".repeat(100)}\r\n`,
    431,
  ],
];

Deno.test("each malformed request gets its status, Connection: close, then a close", async (t) => {
  // A short head deadline, so a request wrongly taken as unfinished shows up
  // as a 408 rather than as this harness's own read timeout.
  await using server = startServer({ root: FIXTURE_ROOT, headerTimeout: 2 });
  for (const [name, request, status] of REFUSALS) {
    await t.step(`${name} -> ${status}`, async () => {
      using client = await RawClient.connect(server.port);
      await client.send(request);
      const response = await client.readResponse();
      assert.equal(response.status, status, response.head);
      assert.equal(header(response, "connection"), "close");
      assert.match(text(response), new RegExp(`^${status} `));
      assert.equal(await client.serverClosed(), true);
    });
  }
  // The server is unharmed.
  const response = await fetchOnce(server.port, get("/dir/page.txt"));
  assert.equal(response.status, 200);
  assert.deepEqual(server.reports, []);
});

/** Refused HEAD requests: [name, request, status]. */
const HEAD_REFUSALS: [string, string, number][] = [
  ["without Host", "HEAD / HTTP/1.1\r\n\r\n", 400],
  ["HTTP/2.0", `HEAD / HTTP/2.0\r\n${HOST}\r\n`, 505],
  ["a request line over 8 KiB", `HEAD /${"a".repeat(9000)} HTTP/1.1\r\n`, 414],
  ["a head that never ends", `HEAD / HTTP/1.1\r\n${HOST}`, 408],
];

Deno.test("a refused HEAD gets its status without a body (RFC 9110 9.3.2)", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT, headerTimeout: 1 });
  for (const [name, request, status] of HEAD_REFUSALS) {
    await t.step(`${name} -> ${status}`, async () => {
      using client = await RawClient.connect(server.port);
      await client.send(request);
      const response = await client.readResponse({ head: true });
      assert.equal(response.status, status, response.head);
      assert.equal(header(response, "connection"), "close");
      // The length of the GET's body ("400 Bad Request\n"), not of none.
      const reason = STATUS_TEXT[status as StatusCode];
      assert.equal(
        header(response, "content-length"),
        String(`${status} ${reason}\n`.length),
      );
      assert.equal(await client.serverClosed(), true, "no body, then a close");
    });
  }
  assert.deepEqual(server.reports, []);
});

Deno.test("a head completed after its 408 is dropped, and the client read on rather than reset", async (t) => {
  // Closing at once would make the client's later bytes draw a reset,
  // which can destroy a 408 it has not read yet (RFC 9112 9.6). Whether
  // the head turns out valid or not, it is not answered.
  await using server = startServer({ root: FIXTURE_ROOT, headerTimeout: 1 });
  const endings: [string, string][] = [
    ["valid", "X-Late: 1\r\n\r\n"],
    ["malformed", "no colon here\r\n\r\n"],
    ["too large", `X-Big: ${"v".repeat(40_000)}\r\n\r\n`],
  ];
  for (const [name, ending] of endings) {
    await t.step(name, async () => {
      using client = await RawClient.connect(server.port);
      await client.send(`GET / HTTP/1.1\r\n${HOST}`);
      const response = await client.readResponse();
      assert.equal(response.status, 408, response.head);
      await client.send(ending);
      // Were the socket closed, the first of these would draw the reset
      // and the second fail on it.
      for (const more of ["queued before the 408 was read\r\n", "more\r\n"]) {
        await sleep(300);
        await client.send(more);
      }
      assert.equal(await client.serverClosed(), true, "the 408, then an end");
    });
  }
  assert.deepEqual(server.reports, []);
});

/**
 * Requests just inside a limit, or allowed oddities, that must be served:
 * [name, request, status]. All but the first ask for `/`, which exists.
 */
const ACCEPTED: [string, string, number][] = [
  [
    "request line just under 8 KiB",
    `GET /${"a".repeat(8000)} HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
    404, // parsed whole: a file of that name does not exist
  ],
  [
    "exactly 100 header fields",
    `GET / HTTP/1.1\r\n${HOST}Connection: close\r\n${
      "X-F: v\r\n".repeat(98)
    }\r\n`,
    200,
  ],
  [
    "head just under 32 KiB",
    `GET / HTTP/1.1\r\n${HOST}Connection: close\r\n${
      `X-Filler: ${"v".repeat(1000)}\r\n`.repeat(31)
    }\r\n`,
    200,
  ],
  ["HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 200],
  [
    "bare LF line endings",
    "GET / HTTP/1.1\nHost: test\nConnection: close\n\n",
    200,
  ],
  [
    "empty lines before the request line",
    `\r\n\r\nGET / HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
    200,
  ],
  [
    "HTTP/1.2 is answered as 1.1",
    `GET / HTTP/1.2\r\n${HOST}Connection: close\r\n\r\n`,
    200,
  ],
  [
    "field value with obs-text and tabs",
    `GET / HTTP/1.1\r\n${HOST}Connection: close\r\nX-A: \t caf\xe9 \t\r\n\r\n`,
    200,
  ],
  [
    "empty field value",
    `GET / HTTP/1.1\r\n${HOST}Connection: close\r\nX-Empty:\r\n\r\n`,
    200,
  ],
  [
    "lower-case host field name",
    `GET / HTTP/1.1\r\nhOsT: test\r\nConnection: close\r\n\r\n`,
    200,
  ],
  [
    "Transfer-Encoding chunked on a GET",
    `GET / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    200,
  ],
];

Deno.test("requests at the limits or with allowed oddities are served", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  for (const [name, request, status] of ACCEPTED) {
    await t.step(name, async () => {
      using client = await RawClient.connect(server.port);
      await client.send(request);
      const response = await client.readResponse();
      assert.equal(response.status, status, response.head);
      assert.equal(await client.serverClosed(), true);
    });
  }
});

Deno.test("a request line of exactly 8 KiB is served, one byte more is 414", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  // request-line = method SP request-target SP HTTP-version, without CRLF.
  const line = (length: number) => {
    const target = `/${"a".repeat(length - "GET / HTTP/1.1".length)}`;
    return `GET ${target} HTTP/1.1`;
  };
  const cases: [string, string, number][] = [
    [
      "8192 bytes, CRLF",
      `${line(8192)}\r\n${HOST}Connection: close\r\n\r\n`,
      404,
    ],
    ["8192 bytes, LF", `${line(8192)}\n${HOST}Connection: close\r\n\r\n`, 404],
    [
      "8193 bytes, CRLF",
      `${line(8193)}\r\n${HOST}Connection: close\r\n\r\n`,
      414,
    ],
    ["8193 bytes, LF", `${line(8193)}\n${HOST}Connection: close\r\n\r\n`, 414],
  ];
  for (const [name, request, status] of cases) {
    await t.step(`${name} -> ${status}`, async () => {
      assert.equal(line(8192).length, 8192);
      const response = await fetchOnce(server.port, request);
      assert.equal(response.status, status);
    });
  }
});

Deno.test("requests pipelined after Connection: close are not answered", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  await client.send(get("/dir/page.txt") + get("/text..txt"));
  assert.equal(text(await client.readResponse()), "dir page\n");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("more than 32 KiB of empty lines before a request is refused", async (t) => {
  // Run in a child: a server that spins on this input would starve this
  // process's own timers, and the deadline could never fire.
  await using cli = await startCli({
    args: ["-r", FIXTURE_ROOT, "--quiet", "--header-timeout", "2"],
  });
  const cases: [string, string][] = [
    ["CRLF only", "\r\n".repeat(20000)],
    [
      "CRLFs then an unfinished head",
      `${"\r\n".repeat(15000)}GET / HTTP/1.1\r\n${HOST}${
        "X-F: v\r\n".repeat(400)
      }`,
    ],
  ];
  // One empty line, then a head without its end that fills the head buffer
  // (32 KiB + 1) exactly.
  const unfinished = `\r\nGET / HTTP/1.1\r\n${HOST}X-Big: `;
  cases.push([
    "one CRLF then an unfinished head of exactly the buffer",
    unfinished + "v".repeat(32769 - unfinished.length),
  ]);
  for (const [name, request] of cases) {
    await t.step(name, async () => {
      using client = await RawClient.connect(cli.port, 5000);
      await client.send(request);
      const response = await client.readResponse();
      // The empty lines count towards the head.
      assert.equal(response.status, 431, response.head);
      assert.equal(await client.serverClosed(), true);
    });
  }
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

Deno.test("an error after good pipelined requests answers those first", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  await client.send(
    `GET /dir/page.txt HTTP/1.1\r\n${HOST}\r\n` +
      `GET /text..txt HTTP/1.1\r\n${HOST}\r\n` +
      `GET / HTTP/1.1\r\nBad Header\r\n\r\n` +
      `GET /with%20space.txt HTTP/1.1\r\n${HOST}\r\n`,
  );
  assert.equal(text(await client.readResponse()), "dir page\n");
  assert.equal(text(await client.readResponse()), "text dot dot\n");
  const refused = await client.readResponse();
  assert.equal(refused.status, 400);
  assert.equal(header(refused, "connection"), "close");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("a POST body is skipped, never parsed as the next request", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  const smuggled = `GET /text..txt HTTP/1.1\r\n${HOST}\r\n`;
  await client.send(
    `POST /dir/page.txt HTTP/1.1\r\n${HOST}Content-Length: ${smuggled.length}\r\n\r\n` +
      smuggled +
      get("/with%20space.txt"),
  );
  const refused = await client.readResponse();
  assert.equal(refused.status, 405);
  assert.equal(header(refused, "allow"), "GET, HEAD");
  const next = await client.readResponse();
  assert.equal(next.status, 200);
  assert.equal(text(next), "with space\n");
  assert.equal(await client.serverClosed(), true);
});

Deno.test("a POST body arriving in pieces after its head is skipped", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  using client = await RawClient.connect(server.port);
  const body = `GET /text..txt HTTP/1.1\r\n${HOST}\r\n`.repeat(50);
  await client.send(
    `PUT /x HTTP/1.1\r\n${HOST}Content-Length: ${body.length}\r\n\r\n`,
  );
  const refused = await client.readResponse();
  assert.equal(refused.status, 405);
  await client.send(body, 97);
  await client.send(get("/with%20space.txt"));
  const next = await client.readResponse();
  assert.equal(next.status, 200);
  assert.equal(text(next), "with space\n");
});

Deno.test("a large or chunked POST body closes the connection after the answer", async (t) => {
  await using server = startServer({ root: FIXTURE_ROOT });
  const cases: [string, string][] = [
    [
      "chunked",
      `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n` +
      `${(28).toString(16)}\r\n${
        `GET /text..txt HTTP/1.1\r\n\r\n`.slice(0, 28)
      }\r\n0\r\n\r\n` +
      get("/text..txt"),
    ],
    [
      "1 MiB",
      `POST / HTTP/1.1\r\n${HOST}Content-Length: 1048576\r\n\r\n` +
      "x".repeat(4096),
    ],
    [
      // A valid length (RFC 9110 §8.6) that no number holds exactly.
      "20 digits",
      `POST / HTTP/1.1\r\n${HOST}Content-Length: 99999999999999999999\r\n\r\n` +
      get("/text..txt"),
    ],
  ];
  for (const [name, request] of cases) {
    await t.step(name, async () => {
      using client = await RawClient.connect(server.port);
      await client.send(request);
      const response = await client.readResponse();
      assert.equal(response.status, 405);
      assert.equal(header(response, "connection"), "close");
      // Whatever followed the body was not answered.
      assert.equal(await client.serverClosed(), true);
    });
  }
});

Deno.test("a bare LF then a close gets no answer and harms nothing", async () => {
  await using server = startServer({ root: FIXTURE_ROOT });
  {
    using client = await RawClient.connect(server.port);
    await client.send("\n");
    await client.closeWrite();
    assert.equal((await client.readToEnd()).length, 0);
  }
  {
    using client = await RawClient.connect(server.port);
    await client.send("\r\n\r\n\n");
    await client.closeWrite();
    assert.equal((await client.readToEnd()).length, 0);
  }
  const response = await fetchOnce(server.port, get("/dir/page.txt"));
  assert.equal(response.status, 200);
  assert.deepEqual(server.reports, []);
});

Deno.test("clients that vanish mid-head or mid-file never hurt the server", async () => {
  await using server = startServer({ root: SUITE_ROOT });
  const page = "/httptest/wikipedia_russia.html";
  for (let round = 0; round < 5; round++) {
    {
      // Mid-head, politely and by reset-like abrupt close.
      using client = await RawClient.connect(server.port);
      await client.send(`GET ${page} HTTP/1.1\r\nHo`);
    }
    {
      using client = await RawClient.connect(server.port);
      await client.send(`GET ${page} HTTP/1.1\r\n${HOST}`);
      await client.closeWrite();
      assert.equal((await client.readToEnd()).length, 0);
    }
    {
      // Mid-file: read a few bytes of the 954824, then go.
      using client = await RawClient.connect(server.port);
      await client.send(`GET ${page} HTTP/1.1\r\n${HOST}\r\n`);
      await client.discard(200 + round * 5000);
    }
    {
      // Gone before reading anything of a pipeline.
      using client = await RawClient.connect(server.port);
      await client.send(`GET ${page} HTTP/1.1\r\n${HOST}\r\n`.repeat(4));
    }
  }
  const response = await fetchOnce(server.port, get(page));
  assert.equal(response.status, 200);
  assert.equal(response.body.length, 954824);
  await server.close();
  assert.deepEqual(server.reports, []);
});

Deno.test("a 1 GB file streams without the server's memory growing", async () => {
  using dir = tempDir();
  const file = `${dir.path}/big.bin`;
  Deno.writeFileSync(file, new Uint8Array(0));
  Deno.truncateSync(file, 1 << 30);
  Deno.writeTextFileSync(`${dir.path}/small.txt`, "small\n");
  await using cli = await startCli({ args: ["-r", dir.path, "--quiet"] });
  const before = residentBytes(cli.pid);
  const descriptors = openDescriptors(cli.pid);

  using client = await RawClient.connect(cli.port);
  await client.send(`HEAD /big.bin HTTP/1.1\r\n${HOST}\r\n`);
  const head = await client.readResponse({ head: true });
  assert.equal(header(head, "content-length"), String(1 << 30));

  await client.send(`GET /big.bin HTTP/1.1\r\n${HOST}\r\n`);
  // Read the head only, then 50 MiB of the body, sampling the server's RSS.
  const response = await client.readResponse({ head: true });
  assert.equal(response.status, 200);
  assert.equal(header(response, "content-length"), String(1 << 30));
  let peak = before;
  let nextSample = 0;
  await client.discard(50 * 1024 * 1024, (read) => {
    if (read >= nextSample) {
      nextSample += 5 * 1024 * 1024;
      peak = Math.max(peak, residentBytes(cli.pid));
    }
  });
  client.close();
  peak = Math.max(peak, residentBytes(cli.pid));
  // The file and the socket are released once the server sees the close.
  let open = openDescriptors(cli.pid);
  for (let i = 0; i < 100 && open > descriptors; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    open = openDescriptors(cli.pid);
  }
  assert.ok(
    open <= descriptors,
    `${open} descriptors open, ${descriptors} before`,
  );
  assert.ok(
    peak < 200 * 1024 * 1024,
    `resident ${peak >> 20} MiB (started at ${before >> 20} MiB)`,
  );
  const small = await fetchOnce(cli.port, get("/small.txt"));
  assert.equal(text(small), "small\n");
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

function openDescriptors(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

async function fetchOnce(port: number, request: string): Promise<RawResponse> {
  using client = await RawClient.connect(port);
  await client.send(latin1(request));
  return await client.readResponse();
}

Deno.test("a CRLF after a request leaves the connection idle, not in a head", async (t) => {
  // RFC 9112 2.2: a client may send a CRLF after a request or its body.
  const requests: [string, number][] = [
    [`GET /dir/page.txt HTTP/1.1\r\n${HOST}\r\n\r\n`, 200],
    [
      `POST /dir/page.txt HTTP/1.1\r\n${HOST}Content-Length: 3\r\n\r\nabc\r\n`,
      405,
    ],
  ];
  for (const [request, status] of requests) {
    await t.step(request.slice(0, 4).trim(), async () => {
      // A grace far longer than the test: a connection taken for one in
      // the middle of a head would hold the shutdown.
      await using server = startServer({
        root: FIXTURE_ROOT,
        headerTimeout: 1,
        shutdownGraceMs: 60_000,
      });
      using client = await RawClient.connect(server.port);
      await client.send(request);
      assert.equal((await client.readResponse()).status, status);
      // Past the header timeout: no 408 for a head nobody started.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const stopped = server.close();
      assert.equal(await client.serverClosed(), true, "closed, nothing sent");
      await stopped;
    });
  }
});

Deno.test("empty lines sent while idle do not keep a connection open", async () => {
  await using server = startServer({ root: FIXTURE_ROOT, idleTimeout: 2 });
  using client = await RawClient.connect(server.port);
  await client.send(`GET /dir/page.txt HTTP/1.1\r\n${HOST}\r\n`);
  assert.equal((await client.readResponse()).status, 200);
  const since = Date.now();
  let closed = false;
  // Bounded: at most 15 empty lines, 400 ms apart. Closed about 2 s on
  // (2.4 s quiet); were they taken for activity, not before 8 s.
  for (let i = 0; i < 15 && !closed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    closed = await client.send("\r\n").then(() => false, () => true);
  }
  assert.equal(await client.serverClosed(), true, "closed, nothing sent");
  const elapsed = Date.now() - since;
  assert.ok(elapsed < 5_000, `still open after ${elapsed} ms`);
});

Deno.test("bytes that cannot begin a request get a 400 at once, not a 408 later", async (t) => {
  // RFC 9112 2.2: the client is not slow, it does not speak HTTP/1.1.
  await using server = startServer({ root: FIXTURE_ROOT, headerTimeout: 60 });
  const cases: [string, string][] = [
    ["a TLS ClientHello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"],
    ["a bare CR in the request line", "GET /dir/page.txt HTTP/1.1\rHost: t"],
    ["a bare CR before any request", "\r\r"],
    ["a bare CR after an empty line", "\r\n\r\r"],
  ];
  for (const [name, request] of cases) {
    await t.step(name, async () => {
      // Each read must progress within 5 s: far below the header timeout.
      using client = await RawClient.connect(server.port, 5_000);
      await client.send(request);
      const response = await client.readResponse();
      assert.equal(response.status, 400, response.head);
      assert.equal(header(response, "connection"), "close");
    });
  }
});
