import assert from "node:assert/strict";
import {
  createRepresentation,
  isSameFile,
  isUnchanged,
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
  return createRepresentation(file, path, info, undefined, previous, options);
}

Deno.test("createRepresentation holds a small file's bytes, in a frame when asked for head room", () => {
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

/** Runs `fn` with `Date.now()` `aheadMs` ahead of the real clock. */
function later<T>(aheadMs: number, fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => realNow() + aheadMs;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

Deno.test("createRepresentation describes a file over the size limit without reading it", () => {
  using dir = tempDir();
  const path = `${dir.path}/big.txt`;
  Deno.writeTextFileSync(path, "123456");
  const options = { maxFileSize: 5, headRoom: 64 };
  const big = read(path, options);
  assert.equal(big.bytes, undefined);
  assert.equal(big.frame, undefined);
  assert.equal(big.size, 6);
  // Just written: with no bytes to hash, no ETag until the stat can tell.
  assert.equal(big.racy, true);
  assert.equal(big.etag, undefined);
  const settled = later(2_000, () => read(path, options, big));
  assert.equal(settled.racy, false);
  assert.match(settled.etag ?? "", /^"[0-9a-z]+(-[0-9a-z]+){3}"$/);
  assert.equal(later(2_000, () => read(path, options, settled)), settled);
});

Deno.test("createRepresentation dates a small file's last change by its ctime, not a future mtime", () => {
  // touch -d 2100-01-01: the ctime says when that happened, the mtime not.
  using dir = tempDir();
  const path = `${dir.path}/future.txt`;
  Deno.writeTextFileSync(path, "hello");
  const future = new Date("2100-01-01T00:00:00Z");
  Deno.utimeSync(path, future, future);
  const options = { maxFileSize: 5, headRoom: 0 };
  const fresh = read(path, options);
  assert.equal(fresh.racy, true, "just changed");
  assert.match(fresh.etag ?? "", /^"[0-9a-z]+(-[0-9a-z]+){4}"$/, "hashed");
  const settled = later(2_000, () => read(path, options, fresh));
  assert.equal(settled.racy, false, "settled two seconds on");
  assert.match(settled.etag ?? "", /^"[0-9a-z]+(-[0-9a-z]+){3}"$/);
  assert.equal(later(2_000, () => read(path, options, settled)), settled);
});

Deno.test("createRepresentation keeps the previous description of an unchanged file, not a changed one", () => {
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
  const described = later(
    2_000,
    () => read(path, { maxFileSize: 0, headRoom: 0 }),
  );
  assert.equal(restat(described, Deno.statSync(path)), described);
  Deno.writeTextFileSync(path, "1234567");
  const info = Deno.statSync(path);
  // Changed just now: no ETag yet, since none could be told from the next.
  const renewed = restat(described, info);
  assert.equal(renewed.size, 7);
  assert.equal(renewed.mtimeMs, info.mtime?.getTime());
  assert.equal(renewed.racy, true);
  assert.equal(renewed.etag, undefined);
  assert.equal(renewed.path, described.path);
  // Settled: an ETag of its own.
  const settled = later(2_000, () => restat(described, info));
  assert.equal(settled.racy, false);
  assert.notEqual(settled.etag, undefined);
  assert.notEqual(settled.etag, described.etag);
});

Deno.test("isUnchanged and isSameFile tell a file from another with the same stat", () => {
  using dir = tempDir();
  const path = `${dir.path}/a.bin`;
  const when = new Date(Date.now() - 60_000);
  Deno.writeFileSync(path, new Uint8Array(100).fill(1));
  Deno.utimeSync(path, when, when);
  const described = read(path, { maxFileSize: 0, headRoom: 0 });
  const info = Deno.statSync(path);
  assert.ok(isUnchanged(described, info));
  assert.ok(isSameFile(described, info));
  // The same size, times and device, another inode: what a rename within
  // the second leaves, which only the inode tells apart.
  const renamed = { ...info, ino: (info.ino ?? 0) + 1 };
  assert.equal(isUnchanged(described, renamed), false);
  assert.equal(isSameFile(described, renamed), false);
  const moved = { ...info, dev: info.dev + 1 };
  assert.equal(isUnchanged(described, moved), false);
  assert.equal(isSameFile(described, moved), false);
  // The same file, changed: still the same file, no longer unchanged.
  const grown = { ...info, size: info.size + 1 };
  assert.equal(isUnchanged(described, grown), false);
  assert.ok(isSameFile(described, grown));
  // A directory (or FIFO) in its place is never the file.
  assert.equal(isSameFile(described, { ...info, isFile: false }), false);
});
