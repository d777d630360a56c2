import assert from "node:assert/strict";
import {
  createMultipartByteranges,
  joinMultipartByteranges,
} from "../../protocol/multipart.ts";
import { type ByteRange, parseRange } from "../../protocol/range.ts";
import { parseMultipart } from "../fixtures/semantics/parse_multipart.ts";

const FILE = Deno.readFileSync(
  new URL("../fixtures/semantics/bytes.bin", import.meta.url),
);

const RANGE_HEADERS = [
  "bytes=0-0,-1",
  "bytes=0-99,200-299,4000-",
  "bytes=990-1030,3000-3001", // the first part holds a fake delimiter line
  "bytes=4095-4095,0-4094", // out of order, together the whole file
  `bytes=${
    Array.from({ length: 16 }, (_, i) => `${i * 256}-${i * 256 + 9}`).join(",")
  }`,
];

Deno.test("createMultipartByteranges() frames a body that parses back byte for byte", async (t) => {
  for (const header of RANGE_HEADERS) {
    await t.step(header.slice(0, 40), () => {
      const result = parseRange(header, FILE.length);
      assert.equal(result.kind, "satisfiable");
      if (result.kind !== "satisfiable") return;
      const boundary = "3d6b6a416f9b5fd9e1a7b4b2c4d1e8f0";
      const multipart = createMultipartByteranges({
        boundary,
        contentType: "application/octet-stream",
        ranges: result.ranges,
        size: FILE.length,
      });
      const body = joinMultipartByteranges(multipart, FILE);
      assert.equal(multipart.contentLength, body.length);
      assert.equal(
        multipart.contentType,
        `multipart/byteranges; boundary=${boundary}`,
      );

      const parts = parseMultipart(body, boundary);
      assert.equal(parts.length, result.ranges.length);
      parts.forEach((part, i) => {
        const { start, end } = result.ranges[i];
        assert.equal(part.headers["content-type"], "application/octet-stream");
        assert.equal(
          part.headers["content-range"],
          `bytes ${start}-${end}/${FILE.length}`,
        );
        assert.deepEqual(part.data, FILE.slice(start, end + 1));
      });
    });
  }
});

Deno.test("createMultipartByteranges() puts exactly the RFC 2046 delimiters around parts", () => {
  const multipart = createMultipartByteranges({
    boundary: "SEP",
    contentType: "text/plain; charset=utf-8",
    ranges: [{ start: 0, end: 2 }, { start: 7, end: 9 }],
    size: 10,
  });
  const text = new TextDecoder().decode(
    joinMultipartByteranges(multipart, FILE),
  );
  const expected = "--SEP\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "Content-Range: bytes 0-2/10\r\n" +
    "\r\n" +
    new TextDecoder().decode(FILE.subarray(0, 3)) +
    "\r\n--SEP\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "Content-Range: bytes 7-9/10\r\n" +
    "\r\n" +
    new TextDecoder().decode(FILE.subarray(7, 10)) +
    "\r\n--SEP--\r\n";
  assert.equal(text, expected);
});

Deno.test("createMultipartByteranges() quotes a boundary that is not a token", () => {
  const rows: [string, string][] = [
    ["abc123", "boundary=abc123"],
    ["ok'+_-.", "boundary=ok'+_-."],
    ["a:b", 'boundary="a:b"'],
    ["with space", 'boundary="with space"'],
    ["(x)=?,/", 'boundary="(x)=?,/"'],
  ];
  const ranges: ByteRange[] = [{ start: 0, end: 0 }];
  for (const [boundary, parameter] of rows) {
    const { contentType } = createMultipartByteranges({
      boundary,
      contentType: "text/plain",
      ranges,
      size: 1,
    });
    assert.equal(contentType, `multipart/byteranges; ${parameter}`);
  }
});

Deno.test("createMultipartByteranges() rejects invalid boundaries and content types", () => {
  const ranges: ByteRange[] = [{ start: 0, end: 0 }];
  const bad: [string, string, readonly ByteRange[]][] = [
    ["", "text/plain", ranges],
    ["x".repeat(71), "text/plain", ranges],
    ["ends with space ", "text/plain", ranges],
    ["semi;colon", "text/plain", ranges],
    ['quo"te', "text/plain", ranges],
    ["fine", "text/plain\r\nX-Injected: 1", ranges],
    ["fine", "text/plain\nX-Injected: 1", ranges],
    ["fine", "text/plain\0x", ranges],
    ["fine", "text/plain", []],
  ];
  for (const [boundary, contentType, r] of bad) {
    assert.throws(
      () =>
        createMultipartByteranges({
          boundary,
          contentType,
          ranges: r,
          size: 1,
        }),
      TypeError,
      JSON.stringify([boundary, contentType, r.length]),
    );
  }
  // The longest allowed boundary is 70 characters.
  createMultipartByteranges({
    boundary: "x".repeat(70),
    contentType: "a/b",
    ranges,
    size: 1,
  });
});

Deno.test("createMultipartByteranges() counts a non-ASCII content type in bytes", () => {
  const multipart = createMultipartByteranges({
    boundary: "B",
    contentType: "text/plain; title=\u00e9",
    ranges: [{ start: 0, end: 4 }, { start: 6, end: 6 }],
    size: 10,
  });
  assert.equal(
    multipart.contentLength,
    joinMultipartByteranges(multipart, FILE).length,
  );
});

Deno.test("joinMultipartByteranges() frames each range's bytes in order, in contentLength bytes", () => {
  const bytes = new TextEncoder().encode("0123456789");
  const multipart = createMultipartByteranges({
    boundary: "THIS_STRING_SEPARATES",
    contentType: "text/plain",
    ranges: [{ start: 7, end: 9 }, { start: 0, end: 0 }, { start: 3, end: 4 }],
    size: bytes.length,
  });
  const body = joinMultipartByteranges(multipart, bytes);
  assert.equal(body.length, multipart.contentLength);
  const text = new TextDecoder().decode(body);
  const parts = text.split("--THIS_STRING_SEPARATES");
  assert.deepEqual(
    parts.slice(1, -1).map((part) =>
      part.split("\r\n\r\n")[1].replace(/\r\n$/, "")
    ),
    ["789", "0", "34"],
  );
  assert.equal(parts.at(-1), "--\r\n");
});
