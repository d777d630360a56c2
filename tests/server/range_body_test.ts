import assert from "node:assert/strict";
import { createMultipartByteranges } from "../../protocol/multipart.ts";
import { parseRange } from "../../protocol/range.ts";
import { readFileRange } from "../../server/file_stream.ts";
import {
  createBoundary,
  writeMultipartRanges,
} from "../../server/range_body.ts";
import { parseMultipart } from "../fixtures/semantics/parse_multipart.ts";

const FIXTURE = new URL("../fixtures/semantics/bytes.bin", import.meta.url);
const FILE = Deno.readFileSync(FIXTURE);

/** A sink that copies every chunk (they may be views into a reused buffer). */
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

/** A one-part body for `range` of a `size`-byte file, boundary "B". */
function onePart(start: number, end: number, size = FILE.length) {
  return createMultipartByteranges({
    boundary: "B",
    contentType: "application/octet-stream",
    ranges: [{ start, end }],
    size,
  });
}

/** [name, start, end, chunk size for readFileRange(), 0 for the default]. */
const RANGE_ROWS: [string, number, number, number][] = [
  ["one byte", 0, 0, 64],
  ["the last byte", 4095, 4095, 64],
  ["a range inside one chunk", 100, 163, 64],
  ["a range spanning many chunks", 1, 4094, 7],
  ["a range exactly one chunk long", 64, 127, 64],
  ["the whole file with the default chunk size", 0, 4095, 0],
];

Deno.test("writeMultipartRanges() writes exactly a part's bytes", async (t) => {
  for (const [name, start, end] of RANGE_ROWS) {
    await t.step(`writeMultipartRanges(): ${name}`, async () => {
      using file = await Deno.open(FIXTURE);
      const multipart = onePart(start, end);
      const out = collector();
      await writeMultipartRanges(file, multipart, out.sink);
      const body = out.bytes();
      assert.equal(body.length, multipart.contentLength);
      const parts = parseMultipart(body, "B");
      assert.equal(parts.length, 1);
      assert.deepEqual(parts[0].data, FILE.slice(start, end + 1));
    });
  }
});

Deno.test("readFileRange() reads exactly the range in chunks of at most chunkSize", async (t) => {
  for (const [name, start, end, chunkSize] of RANGE_ROWS) {
    await t.step(`readFileRange(): ${name}`, async () => {
      // A file of its own: readFileRange() trusts a new file to be at 0.
      using file = await Deno.open(FIXTURE);
      const options = chunkSize === 0 ? {} : { chunkSize };
      const out = collector();
      for await (
        const chunk of readFileRange(file, start, end - start + 1, options)
      ) {
        await out.sink(chunk);
      }
      assert.deepEqual(out.bytes(), FILE.slice(start, end + 1));
      if (chunkSize > 0) {
        assert.ok(
          out.chunks.every((c) => c.length > 0 && c.length <= chunkSize),
        );
      }
    });
  }
});

Deno.test("readFileRange() hands out views of one reused buffer", async () => {
  using file = await Deno.open(FIXTURE);
  const seen: ArrayBufferLike[] = [];
  for await (const chunk of readFileRange(file, 10, 90, { chunkSize: 16 })) {
    seen.push(chunk.buffer);
  }
  assert.ok(seen.length >= 6);
  assert.ok(seen.every((b) => b === seen[0]));
});

Deno.test("readFileRange() keeps at most 32 buffers for later streams", async () => {
  // Each stream holds one 256 KiB buffer while it is read; a burst of big
  // downloads must not leave all of theirs behind for good.
  using file = await Deno.open(FIXTURE);
  const firstChunks = async (count: number) => {
    const streams = Array.from(
      { length: count },
      () => readFileRange(file, 0, 1).getReader(),
    );
    const buffers: ArrayBufferLike[] = [];
    for (const reader of streams) {
      const { value } = await reader.read();
      buffers.push(value!.buffer);
    }
    return {
      buffers,
      cancel: () => Promise.all(streams.map((r) => r.cancel())),
    };
  };
  // 64 streams at once take every spare buffer, and new ones beside them.
  const burst = await firstChunks(64);
  assert.equal(new Set(burst.buffers).size, 64);
  await burst.cancel();
  const next = await firstChunks(64);
  const reused = next.buffers.filter((b) => burst.buffers.includes(b));
  assert.equal(reused.length, 32);
  await next.cancel();
});

Deno.test("readFileRange() never lends a buffer of another size to a later stream", async () => {
  // A stream with its own chunk size must not leave its buffer to the
  // default streams, which would then read in chunks of that size.
  using file = await Deno.open(FIXTURE);
  for await (const _ of readFileRange(file, 0, 100, { chunkSize: 16 })) {
    // Read to the end, so that its buffer is released.
  }
  const reader = readFileRange(file, 0, 1).getReader();
  const { value } = await reader.read();
  assert.equal(value!.buffer.byteLength, 262144);
  await reader.cancel();
});

Deno.test("writeMultipartRanges() reads every part through one reused buffer", async () => {
  using file = await Deno.open(FIXTURE);
  const multipart = createMultipartByteranges({
    boundary: "B",
    contentType: "application/octet-stream",
    ranges: [{ start: 10, end: 99 }, { start: 200, end: 299 }, {
      start: 1000,
      end: 3999,
    }],
    size: FILE.length,
  });
  const heads = new Set<ArrayBufferLike>(
    [...multipart.parts.map((p) => p.head.buffer), multipart.tail.buffer],
  );
  const seen: ArrayBufferLike[] = [];
  await writeMultipartRanges(file, multipart, (chunk) => {
    if (!heads.has(chunk.buffer)) seen.push(chunk.buffer);
    return Promise.resolve();
  });
  assert.ok(seen.length >= 3);
  assert.ok(seen.every((b) => b === seen[0]));
});

Deno.test("writeMultipartRanges() reads a part at offset 0 after another part", async () => {
  using file = await Deno.open(FIXTURE);
  const multipart = createMultipartByteranges({
    boundary: "B",
    contentType: "application/octet-stream",
    ranges: [{ start: 100, end: 199 }, { start: 0, end: 9 }],
    size: FILE.length,
  });
  const out = collector();
  await writeMultipartRanges(file, multipart, out.sink);
  const parts = parseMultipart(out.bytes(), "B");
  assert.deepEqual(parts[0].data, FILE.slice(100, 200));
  assert.deepEqual(parts[1].data, FILE.slice(0, 10));
});

Deno.test("writeMultipartRanges() stops where the file ended when it shrank, and says so", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 100));
    using file = await Deno.open(path);
    const multipart = onePart(40, 79, 100);
    await Deno.truncate(path, 50); // after the caller's stat said 100
    const out = collector();
    assert.equal(await writeMultipartRanges(file, multipart, out.sink), false);
    // What did get written is exactly the head and what the file still had.
    const head = multipart.parts[0].head;
    assert.deepEqual(out.bytes().subarray(0, head.length), head);
    assert.deepEqual(out.bytes().subarray(head.length), FILE.slice(40, 50));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeMultipartRanges() never writes past a range when the file grew", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 10));
    using file = await Deno.open(path);
    await Deno.writeFile(path, FILE.subarray(10, 50), { append: true });
    const multipart = onePart(0, 9, 10);
    const out = collector();
    assert.equal(await writeMultipartRanges(file, multipart, out.sink), true);
    assert.equal(out.bytes().length, multipart.contentLength);
    const parts = parseMultipart(out.bytes(), "B");
    assert.deepEqual(parts[0].data, FILE.slice(0, 10));
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
      await writeMultipartRanges(file, multipart, out.sink);
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

Deno.test("writeMultipartRanges() stops in a later part whose range is gone, before the tail", async () => {
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
    assert.equal(await writeMultipartRanges(file, multipart, out.sink), false);
    // The first part whole, the second's head, none of its range (the file
    // now ends before it), and no closing delimiter.
    const [first, second] = multipart.parts;
    assert.equal(
      out.bytes().length,
      first.head.length + 10 + second.head.length,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("createBoundary() gives distinct 32-hex-digit tokens", () => {
  const boundaries = new Set(Array.from({ length: 100 }, createBoundary));
  assert.equal(boundaries.size, 100);
  for (const boundary of boundaries) assert.match(boundary, /^[0-9a-f]{32}$/);
});

Deno.test("writeMultipartRanges() says so when a range's last byte is gone", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, FILE.subarray(0, 100));
    using file = await Deno.open(path);
    const multipart = onePart(40, 79, 100);
    await Deno.truncate(path, 79); // one byte short of the range
    const out = collector();
    assert.equal(await writeMultipartRanges(file, multipart, out.sink), false);
    assert.equal(out.bytes().length, multipart.parts[0].head.length + 39);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeMultipartRanges() writes a part longer than one read chunk", async () => {
  // 256 KiB is readFileRange()'s default chunk: these parts take 2 and 3 reads.
  const size = 700 * 1024;
  const content = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, content);
    using file = await Deno.open(path);
    const ranges = [{ start: 0, end: 300_000 }, { start: 100, end: size - 1 }];
    const multipart = createMultipartByteranges({
      boundary: "B",
      contentType: "application/octet-stream",
      ranges,
      size,
    });
    const out = collector();
    await writeMultipartRanges(file, multipart, out.sink);
    assert.equal(out.bytes().length, multipart.contentLength);
    const parts = parseMultipart(out.bytes(), "B");
    ranges.forEach(({ start, end }, i) => {
      assert.deepEqual(parts[i].data, content.slice(start, end + 1));
    });
  } finally {
    await Deno.remove(path);
  }
});
