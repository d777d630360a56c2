import assert from "node:assert/strict";
import { RequestError } from "../../protocol/errors.ts";
import {
  formatLocation,
  parseRequestPath,
} from "../../protocol/request_path.ts";

const INSIDE: [string, string[], boolean, string][] = [
  ["/", [], true, ""],
  ["/index.html", ["index.html"], false, ""],
  ["/dir/", ["dir"], true, ""],
  ["/a/b/c.txt", ["a", "b", "c.txt"], false, ""],
  ["/space%20in%20name.txt", ["space in name.txt"], false, ""],
  ["/%70%61%67%65%2e%68%74%6d%6c", ["page.html"], false, ""],
  ["/f%C3%BCnke.txt", ["fünke.txt"], false, ""],
  ["/f\xc3\xbcnke.txt", ["fünke.txt"], false, ""],
  ["/100%25.txt", ["100%.txt"], false, ""],
  ["/%2541.txt", ["%41.txt"], false, ""], // decoded once, not twice
  // A byte-order mark is a character of the name like any other: it
  // neither vanishes nor makes a dot-segment.
  ["/%EF%BB%BFindex.html", ["\uFEFFindex.html"], false, ""],
  ["/\xef\xbb\xbfindex.html", ["\uFEFFindex.html"], false, ""],
  ["/a/%EF%BB%BF..", ["a", "\uFEFF.."], false, ""],
  ["/%30%39%29%3a%3A.txt", ["09)::.txt"], false, ""], // hex digits 0, 9, a and A
  ["/text..txt", ["text..txt"], false, ""],
  ["/a/./b", ["a", "b"], false, ""],
  ["/a/../b", ["b"], false, ""],
  ["/a/%2e%2e/b", ["b"], false, ""],
  ["/a/%2E./b", ["b"], false, ""],
  ["/a/b/..", ["a"], true, ""],
  ["/a/.", ["a"], true, ""],
  ["/a/%2e", ["a"], true, ""],
  ["/a/b/%2e%2e", ["a"], true, ""],
  ["//a//b", ["a", "b"], false, ""],
  ["/page.html/", ["page.html"], true, ""],
  ["/q?x=1&y=/../../", ["q"], false, "?x=1&y=/../../"],
  ["/dir?", ["dir"], false, "?"],
  ["/frag#x/../..", ["frag"], false, ""],
  ["http://example.com/abs/path?q", ["abs", "path"], false, "?q"],
  ["HTTP://example.com", [], true, ""],
  ["https://example.com:8443/x", ["x"], false, ""],
  // The fragment ends the authority: no path, whatever follows it.
  ["http://x#/secret.txt", [], true, ""],
];

Deno.test("parseRequestPath() decodes and normalises paths under the root", async (t) => {
  for (const [target, segments, directory, query] of INSIDE) {
    await t.step(JSON.stringify(target), () => {
      assert.deepEqual(parseRequestPath(target), {
        kind: "inside",
        segments,
        directory,
        query,
      });
    });
  }
});

const OUTSIDE = [
  "/..",
  "/../etc/passwd",
  "/httptest/../../../../../../../../../../../../../etc/passwd",
  "/a/../../b",
  "/%2e%2e/etc/passwd",
  "/%2E%2E/%2E%2E/etc/passwd",
  "/a%2f..%2f..%2fetc/passwd",
  "/a%2Fb",
  "/..%2fetc/passwd",
  "/a%5cb",
  "/..\\..\\etc\\passwd",
  "/a\\b",
  "http://example.com/../x",
];

Deno.test("parseRequestPath() reports paths that leave the root or hide a separator", async (t) => {
  for (const target of OUTSIDE) {
    await t.step(JSON.stringify(target), () => {
      assert.deepEqual(parseRequestPath(target), { kind: "outside" });
    });
  }
});

const MALFORMED = [
  "*",
  "example.com:443",
  "relative/path",
  "ftp://example.com/x",
  "/%",
  "/%4",
  "/%zz",
  "/a%g1",
  "/%00",
  "/a%00.txt",
  "/%0a",
  "/%7f",
  "/%c3",
  "/%ff%fe",
  "/\xff",
  "/\x80",
];

Deno.test("parseRequestPath() refuses targets that are not decodable paths", async (t) => {
  for (const target of MALFORMED) {
    await t.step(JSON.stringify(target), () => {
      assert.throws(
        () => parseRequestPath(target),
        (error) => error instanceof RequestError && error.status === 400,
      );
    });
  }
});

Deno.test("parseRequestPath() keeps a double-encoded dot-dot as a literal name", () => {
  assert.deepEqual(parseRequestPath("/%252e%252e/x"), {
    kind: "inside",
    segments: ["%2e%2e", "x"],
    directory: false,
    query: "",
  });
});

Deno.test("formatLocation() escapes a percent sign that begins no escape", () => {
  // RFC 3986 2.1: "%" only as pct-encoded = "%" HEXDIG HEXDIG.
  assert.equal(formatLocation(["dir"], "?%zz%&x"), "/dir/?%25zz%25&x");
  assert.equal(formatLocation(["a"], "?q=%4"), "/a/?q=%254");
  assert.equal(formatLocation(["a"], "?q=%"), "/a/?q=%25");
  assert.equal(formatLocation(["a"], "?q=%2g%2F%aa"), "/a/?q=%252g%2F%aa");
});

Deno.test("formatLocation() leaves a query's percent escapes as they came", () => {
  // Escaped once by the client: escaping its % again would change the query.
  assert.equal(formatLocation(["a"], "?q=a%20b&r=%2F"), "/a/?q=a%20b&r=%2F");
  assert.equal(formatLocation(["a"], "?q=a b"), "/a/?q=a%20b");
});

Deno.test("formatLocation() escapes every delimiter a segment's name may hold", () => {
  // Decoded from %3F, %23 and %3B: raw, they would end the path early.
  assert.equal(
    formatLocation(["a?b#c", "d;e"], "?q"),
    "/a%3Fb%23c/d%3Be/?q",
  );
});
