import assert from "node:assert/strict";
import { createMultipartByteranges } from "../../protocol/multipart.ts";
import { parseRange } from "../../protocol/range.ts";
import {
  createBoundary,
  ShortFileError,
  writeMultipartRanges,
  writeRange,
} from "../../server/range_body.ts";
import { parseMultipart } from "../fixtures/semantics/parse_multipart.ts";

const FIXTURE = new URL("../fixtures/semantics/bytes.bin", import.meta.url);
const FILE = Deno.readFileSync(FIXTURE);

/** A sink that copies every chunk (they are views into a reused buffer). */
function collector() {
  const chunks: Uint8Array[] = [];
  const sink = (chunk: Uint8Array) => {
    chunks.push(chunk.slice());
    return Promise.resolve();
  };
  const bytes = () => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  return { sink, chunks, bytes };
}

/** [name, start, end, buffer size]. */
const RANGE_ROWS: [string, number, number, number][] = [
  ["one byte", 0, 0, 64],
  ["the last byte", 4095, 4095, 64],
  ["a range inside one buffer", 100, 163, 64],
  ["a range spanning many buffer fills", 1, 4094, 7],
  ["a range exactly one buffer long", 64, 127, 64],
  ["the whole file with the default buffer", 0, 4095, 0],
];

Deno.test("writeRange() writes exactly the range's bytes", async (t) => {
  using file = await Deno.open(FIXTURE);
  for (const [name, start, end, bufferSize] of RANGE_ROWS) {
    await t.step(`writeRange(): ${name}`, async () => {
      const out = collector();
      const options = bufferSize === 0
        ? {}
        : { buffer: new Uint8Array(bufferSize) };
      await writeRange(file, { start, end }, out.sink, options);
      assert.deepEqual(out.bytes(), FILE.slice(start, end + 1));
      if (bufferSize > 0) {
        assert.ok(
          out.chunks.every((c) => c.length > 0 && c.length <= bufferSize),
        );
      }
    });
  }
});

Deno.test("writeRange() hands out views of the caller's reusable buffer", async () => {
  using file = await Deno.open(FIXTURE);
  const buffer = new Uint8Array(16);
  const seen: ArrayBufferLike[] = [];
  await writeRange(file, { start: 10, end: 99 }, (chunk) => {
    seen.push(chunk.buffer);
    return Promise.resolve();
  }, { buffer });
  assert.ok(seen.length >= 6);
  assert.ok(seen.every((b) => b === buffer.buffer));
});

Deno.test("writeRange() throws ShortFileError when the file shrank", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 100));
    using file = await Deno.open(path);
    await Deno.truncate(path, 50); // after the caller's stat said 100
    const out = collector();
    await assert.rejects(
      () =>
        writeRange(file, { start: 40, end: 79 }, out.sink, {
          buffer: new Uint8Array(4),
        }),
      ShortFileError,
    );
    // What did get written is exactly what the file still had.
    assert.deepEqual(out.bytes(), FILE.slice(40, 50));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("ShortFileError says where the file ended", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 10));
    using file = await Deno.open(path);
    let caught: unknown;
    try {
      await writeRange(file, { start: 5, end: 19 }, () => Promise.resolve());
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ShortFileError);
    assert.equal(caught.code, "SHORT_FILE");
    assert.equal(caught.expectedEnd, 20);
    assert.equal(caught.actualEnd, 10);
    assert.equal(
      caught.message,
      "Cannot send range: file ended at byte 10, expected 20",
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeRange() never writes past the range when the file grew", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 10));
    using file = await Deno.open(path);
    await Deno.writeFile(path, FILE.subarray(10, 50), { append: true });
    const out = collector();
    await writeRange(file, { start: 0, end: 9 }, out.sink);
    assert.deepEqual(out.bytes(), FILE.slice(0, 10));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeMultipartRanges() streams contentLength bytes that parse back to the file's slices", async (t) => {
  using file = await Deno.open(FIXTURE);
  const headers = [
    "bytes=0-0,-1",
    "bytes=0-99,200-299,4000-",
    "bytes=990-1030,3000-3001,5-5",
  ];
  for (const header of headers) {
    await t.step(header, async () => {
      const result = parseRange(header, FILE.length);
      assert.equal(result.kind, "satisfiable");
      if (result.kind !== "satisfiable") return;
      const boundary = createBoundary();
      const multipart = createMultipartByteranges({
        boundary,
        contentType: "application/octet-stream",
        ranges: result.ranges,
        size: FILE.length,
      });
      const out = collector();
      await writeMultipartRanges(file, multipart, out.sink, {
        buffer: new Uint8Array(32),
      });
      const body = out.bytes();
      assert.equal(body.length, multipart.contentLength);
      const parts = parseMultipart(body, boundary);
      assert.equal(parts.length, result.ranges.length);
      parts.forEach((part, i) => {
        const { start, end } = result.ranges[i];
        assert.equal(
          part.headers["content-range"],
          `bytes ${start}-${end}/${FILE.length}`,
        );
        assert.equal(part.headers["content-type"], "application/octet-stream");
        assert.deepEqual(part.data, FILE.slice(start, end + 1));
      });
    });
  }
});

Deno.test("writeMultipartRanges() throws ShortFileError when a later part's range is gone", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 100));
    using file = await Deno.open(path);
    const multipart = createMultipartByteranges({
      boundary: createBoundary(),
      contentType: "text/plain",
      ranges: [{ start: 0, end: 9 }, { start: 90, end: 99 }],
      size: 100,
    });
    await Deno.truncate(path, 50);
    const out = collector();
    await assert.rejects(
      () => writeMultipartRanges(file, multipart, out.sink),
      ShortFileError,
    );
    assert.ok(out.bytes().length < multipart.contentLength);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("createBoundary() gives distinct 32-hex-digit tokens", () => {
  const boundaries = new Set(Array.from({ length: 100 }, createBoundary));
  assert.equal(boundaries.size, 100);
  for (const boundary of boundaries) assert.match(boundary, /^[0-9a-f]{32}$/);
});
