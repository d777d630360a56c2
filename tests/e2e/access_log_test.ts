import assert from "node:assert/strict";
import { parseAccessLogLine, targetPath } from "./_access_log.ts";

Deno.test("parseAccessLogLine() reads a Combined Log Format line", () => {
  const entry = parseAccessLogLine(
    `127.0.0.1 - - [27/Nov/2026:12:00:00 +0000] "GET /a%20b.png?x=1 HTTP/1.1" 200 1234 "http://127.0.0.1:8080/p.html" "Mozilla/5.0 (X11)"`,
  );
  assert.deepEqual(entry, {
    remote: "127.0.0.1",
    time: "27/Nov/2026:12:00:00 +0000",
    method: "GET",
    target: "/a%20b.png?x=1",
    protocol: "HTTP/1.1",
    status: 200,
    bytes: 1234,
    referer: "http://127.0.0.1:8080/p.html",
    userAgent: "Mozilla/5.0 (X11)",
  });
});

Deno.test("parseAccessLogLine() accepts a dash size and escaped quotes", () => {
  const entry = parseAccessLogLine(
    String
      .raw`::1 - - [01/Jan/2026:00:00:00 +0000] "HEAD / HTTP/1.0" 304 - "-" "say \"hi\""`,
  );
  assert.equal(entry?.bytes, undefined);
  assert.equal(entry?.status, 304);
  assert.equal(entry?.userAgent, String.raw`say \"hi\"`);
});

Deno.test("parseAccessLogLine() returns undefined for other output", () => {
  assert.equal(
    parseAccessLogLine("httpd.ts: listening on http://127.0.0.1:1"),
    undefined,
  );
  assert.equal(parseAccessLogLine(""), undefined);
  // A request field that is not three tokens (e.g. garbage) is not an entry.
  assert.equal(
    parseAccessLogLine(`1.2.3.4 - - [t] "garbage" 400 0 "-" "-"`),
    undefined,
  );
});

Deno.test("targetPath() drops the query and percent-decodes", () => {
  assert.equal(targetPath("/a%20b.png?x=1"), "/a b.png");
  assert.equal(targetPath("/bad%zz"), "/bad%zz");
});
