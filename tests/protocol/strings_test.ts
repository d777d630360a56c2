import assert from "node:assert/strict";
import { byLength, intern, latin1, reuse } from "../../protocol/_strings.ts";

const encoder = new TextEncoder();

Deno.test("byLength() groups words by their length", () => {
  const table = byLength(["get", "put", "head", "a"]);
  assert.deepEqual(table[3], ["get", "put"]);
  assert.deepEqual(table[4], ["head"]);
  assert.deepEqual(table[1], ["a"]);
  assert.equal(table[2], undefined);
});

Deno.test("intern() answers the table's own string for the bytes between start and end", () => {
  const table = byLength(["host", "accept", "range"]);
  const buf = encoder.encode("xxhost:range");
  const host = intern(buf, 2, 6, table, false);
  assert.equal(host, "host");
  assert.equal(intern(buf, 7, 12, table, false), "range");
  // A word of the right length that is not in the table, and a length
  // the table has no word of.
  assert.equal(intern(encoder.encode("hast"), 0, 4, table, false), undefined);
  assert.equal(intern(buf, 0, 3, table, false), undefined);
  // Words that share a length are each found, not only the first.
  const same = byLength(["abc", "abd"]);
  assert.equal(intern(encoder.encode("abd"), 0, 3, same, false), "abd");
});

Deno.test("intern() ignores ASCII case only when asked, and only for letters", () => {
  const table = byLength(["content-length"]);
  const mixed = encoder.encode("Content-Length");
  assert.equal(intern(mixed, 0, mixed.length, table, true), "content-length");
  assert.equal(intern(mixed, 0, mixed.length, table, false), undefined);
  const alphabet = byLength(["abcdefghijklmnopqrstuvwxyz"]);
  const upper = encoder.encode("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  assert.equal(intern(upper, 0, 26, alphabet, true), alphabet[26][0]);
  // Only A-Z fold: folding by setting bit 0x20 would match CR (0x0d) to
  // "-" (0x2d), "[" to "{" and "@" to "`".
  const dash = encoder.encode("content\rlength");
  assert.equal(intern(dash, 0, dash.length, table, true), undefined);
  const brace = byLength(["{"]);
  assert.equal(intern(encoder.encode("["), 0, 1, brace, true), undefined);
  const at = byLength(["`"]);
  assert.equal(intern(encoder.encode("@"), 0, 1, at, true), undefined);
});

Deno.test("reuse() gives back the string when the bytes spell it exactly", () => {
  const buf = encoder.encode("GET /index.html HTTP/1.1");
  const previous = "/index.html";
  assert.equal(reuse(previous, buf, 4, 15), previous);
  assert.equal(reuse(previous, buf, 4, 14), undefined, "shorter");
  assert.equal(reuse(previous, buf, 3, 15), undefined, "longer");
  assert.equal(reuse("/index.htmL", buf, 4, 15), undefined, "last byte");
  assert.equal(reuse(undefined, buf, 4, 15), undefined);
  assert.equal(reuse("", buf, 4, 4), "");
});

Deno.test("latin1() maps each byte to one character", () => {
  const buf = new Uint8Array([0x41, 0x00, 0x7f, 0x80, 0xe9, 0xff, 0x42]);
  assert.equal(latin1(buf, 1, 6), "\x00\x7f\x80\xe9\xff");
  assert.equal(latin1(buf, 0, 0), "");
  assert.equal(latin1(buf, 6, 7), "B");
});

Deno.test("latin1() converts more bytes than one call can take as arguments", () => {
  // Far past the ~100,000 arguments at which String.fromCharCode overflows.
  const buf = new Uint8Array(300_001).map((_, i) => i % 256);
  const text = latin1(buf, 1, buf.length);
  assert.equal(text.length, 300_000);
  for (const at of [0, 8191, 8192, 8193, 299_999]) {
    assert.equal(text.charCodeAt(at), (at + 1) % 256, `character ${at}`);
  }
});
