import assert from "node:assert/strict";
import {
  readRepresentation,
  type Representation,
  restat,
} from "../../server/representation.ts";
import { tempDir } from "./_harness.ts";

/** Reads `path` as the cache would, with `previous` as its last description. */
function read(
  path: string,
  options: { maxFileSize: number; headRoom: number },
  previous?: Representation,
): Representation {
  using file = Deno.openSync(path);
  const info = file.statSync();
  return readRepresentation(file, path, info, undefined, previous, options);
}

Deno.test("readRepresentation holds a small file's bytes, in a frame when asked for head room", () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "hello");
  const plain = read(path, { maxFileSize: 5, headRoom: 0 });
  assert.equal(new TextDecoder().decode(plain.bytes), "hello");
  assert.equal(plain.frame, undefined);
  assert.equal(plain.bytes!.buffer.byteLength, 5);
  const framed = read(path, { maxFileSize: 5, headRoom: 64 });
  assert.equal(new TextDecoder().decode(framed.bytes), "hello");
  assert.equal(framed.frame?.body, framed.bytes);
  assert.equal(framed.bytes!.byteOffset, 64);
});

Deno.test("readRepresentation describes a file over the size limit without reading it", () => {
  using dir = tempDir();
  const path = `${dir.path}/big.txt`;
  Deno.writeTextFileSync(path, "123456");
  const big = read(path, { maxFileSize: 5, headRoom: 64 });
  assert.equal(big.bytes, undefined);
  assert.equal(big.frame, undefined);
  assert.equal(big.size, 6);
  // Never racy: with no bytes held there is nothing a stat could miss.
  assert.equal(big.racy, false);
});

Deno.test("readRepresentation keeps the previous description of an unchanged file, not a changed one", () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "hello");
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  const options = { maxFileSize: 100, headRoom: 0 };
  const first = read(path, options);
  assert.equal(read(path, options, first), first);
  Deno.writeTextFileSync(path, "hello, world");
  const second = read(path, options, first);
  assert.notEqual(second, first);
  assert.equal(new TextDecoder().decode(second.bytes), "hello, world");
  assert.notEqual(second.etag, first.etag);
});

Deno.test("restat keeps a description its stat still matches, and renews size and ETag otherwise", () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "123456");
  const described = read(path, { maxFileSize: 0, headRoom: 0 });
  assert.equal(restat(described, Deno.statSync(path)), described);
  Deno.writeTextFileSync(path, "1234567");
  const info = Deno.statSync(path);
  const renewed = restat(described, info);
  assert.equal(renewed.size, 7);
  assert.equal(renewed.mtimeMs, info.mtime?.getTime());
  assert.notEqual(renewed.etag, described.etag);
  assert.equal(renewed.path, described.path);
});
