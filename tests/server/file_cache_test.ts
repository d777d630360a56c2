import assert from "node:assert/strict";
import { FileCache, type Lookup } from "../../server/file_cache.ts";
import type { FileEntry } from "../../server/representation.ts";
import { MAX_STUCK_OPENS, type OpenFile } from "../../server/timed_open.ts";
import { SINGLE_WRITE_LIMIT } from "../../server/response.ts";
import { fifoAtOpen, tempDir } from "./_harness.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function entryOf(
  cache: FileCache,
  target: string,
  now?: number,
): Promise<FileEntry> {
  const found = await cache.lookup(target, now);
  assert.equal(found.kind, "file", `${target} is a file`);
  return (found as { entry: FileEntry }).entry;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes `text` to `path` with an mtime a minute back, and waits until it
 * is settled: unchanged for 2 s by ctime too, which no call can set back.
 */
async function writeSettled(path: string, text: string): Promise<void> {
  Deno.writeTextFileSync(path, text);
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  await sleep(2_100);
}

Deno.test("FileCache keeps one copy of a file whatever alias names it", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "alias");
  const cache = new FileCache(dir.path);
  const first = await entryOf(cache, "/a.txt");
  for (
    const alias of [
      "/./a.txt",
      "//a.txt",
      "/%61.txt",
      "/x/../a.txt",
      "http://h/a.txt",
    ]
  ) {
    assert.equal(await entryOf(cache, alias), first, alias);
  }
});

Deno.test("FileCache answers a hit without touching the disk, then checks again", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/gone.txt`, "here");
  // Times are given, not read: the window is the cache's, not the host's.
  const cache = new FileCache(dir.path, { maxStaleMs: 200 });
  assert.equal((await cache.lookup("/gone.txt", 1000)).kind, "file");
  const hit = cache.lookup("/gone.txt", 1000);
  assert.ok(!(hit instanceof Promise), "a hit is answered at once");
  Deno.removeSync(`${dir.path}/gone.txt`);
  assert.equal(
    (await cache.lookup("/gone.txt", 1199)).kind,
    "file",
    "trusted within the window",
  );
  assert.equal(
    (await cache.lookup("/gone.txt", 1201)).kind,
    "not-found",
    "checked again after it",
  );
});

Deno.test("FileCache checks an answer again once it is maxStaleMs old, not a moment later", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/gone.txt`, "here");
  const cache = new FileCache(dir.path, { maxStaleMs: 200 });
  assert.equal((await cache.lookup("/gone.txt", 1000)).kind, "file");
  Deno.removeSync(`${dir.path}/gone.txt`);
  assert.equal((await cache.lookup("/gone.txt", 1200)).kind, "not-found");
});

Deno.test("FileCache trusts an answer for 500 ms unless told otherwise", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/gone.txt`, "here");
  const cache = new FileCache(dir.path);
  assert.equal((await cache.lookup("/gone.txt", 1000)).kind, "file");
  Deno.removeSync(`${dir.path}/gone.txt`);
  assert.equal((await cache.lookup("/gone.txt", 1499)).kind, "file");
  assert.equal((await cache.lookup("/gone.txt", 1500)).kind, "not-found");
});

Deno.test("FileCache remembers one answer for a path whatever its query or fragment", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  const cache = new FileCache(dir.path, { maxStaleMs: 200 });
  assert.equal((await cache.lookup("/a.txt", 1000)).kind, "file");
  Deno.removeSync(`${dir.path}/a.txt`);
  // Known, so answered without touching the disk.
  for (const target of ["/a.txt?v=2", "/a.txt#top", "/a.txt?v=2#top"]) {
    assert.equal((await cache.lookup(target, 1100)).kind, "file", target);
  }
});

Deno.test("FileCache remembers a 404 for the window too", async () => {
  using dir = tempDir();
  const cache = new FileCache(dir.path, { maxStaleMs: 200 });
  assert.equal((await cache.lookup("/late.txt", 1000)).kind, "not-found");
  Deno.writeTextFileSync(`${dir.path}/late.txt`, "now");
  assert.equal((await cache.lookup("/late.txt", 1199)).kind, "not-found");
  assert.equal((await cache.lookup("/late.txt", 1201)).kind, "file");
});

Deno.test("FileCache re-reads a racy file whose rewrite left its stat unchanged", async () => {
  using dir = tempDir();
  const path = `${dir.path}/racy.txt`;
  const when = new Date();
  Deno.writeTextFileSync(path, "OLD-CONTENT");
  Deno.utimeSync(path, when, when);
  const cache = new FileCache(dir.path, { maxStaleMs: 100 });
  const before = (await entryOf(cache, "/racy.txt")).original;
  assert.equal(before.racy, true);
  // Same size, same inode, same mtime to the millisecond: the stat cannot tell.
  Deno.writeTextFileSync(path, "NEW-CONTENT");
  Deno.utimeSync(path, when, when);
  await sleep(150);
  const after = (await entryOf(cache, "/racy.txt")).original;
  assert.equal(decoder.decode(after.bytes), "NEW-CONTENT");
  assert.notEqual(after.etag, before.etag, "a new content gets a new ETag");
});

Deno.test("FileCache trusts a settled file's stat, and sees a rewrite that puts its mtime back", async () => {
  using dir = tempDir();
  const path = `${dir.path}/settled.txt`;
  await writeSettled(path, "OLD-CONTENT");
  const cache = new FileCache(dir.path, { maxStaleMs: 0 });
  const before = (await entryOf(cache, "/settled.txt")).original;
  assert.equal(before.racy, false);
  // Inode, size, mtime and ctime: no content hash.
  assert.match(before.etag ?? "", /^"[0-9a-z]+(-[0-9a-z]+){3}"$/);
  assert.equal(
    (await entryOf(cache, "/settled.txt")).original,
    before,
    "reused",
  );
  // `cp -p` or `touch -r`: same size, same inode, the old mtime again.
  Deno.writeTextFileSync(path, "NEW-CONTENT");
  const old = new Date(before.mtimeMs!);
  Deno.utimeSync(path, old, old);
  const after = (await entryOf(cache, "/settled.txt")).original;
  assert.equal(decoder.decode(after.bytes), "NEW-CONTENT");
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.notEqual(after.etag, before.etag, "a new content gets a new ETag");
});

Deno.test("FileCache checks a settled file's precompressed sibling again by its stat alone", async () => {
  using dir = tempDir();
  await Promise.all([
    writeSettled(`${dir.path}/app.js`, "original"),
    writeSettled(`${dir.path}/app.js.gz`, "sibling"),
  ]);
  let opens = 0;
  const cache = new FileCache(dir.path, {
    maxStaleMs: 0,
    open: (file) => {
      opens++;
      return Deno.open(file);
    },
  });
  const first = await entryOf(cache, "/app.js");
  assert.equal(first.encoded.length, 1);
  assert.equal(opens, 2);
  // No open, so a sibling already known is served even while opens hang.
  assert.equal(await entryOf(cache, "/app.js"), first, "reused");
  assert.equal(opens, 2);
});

Deno.test("FileCache gives a big file no ETag while a rewrite under its old mtime could pass unseen", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeTextFileSync(path, "OLD-CONTENT");
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  // Too big to hold: its stat is all the cache knows of it, and Deno's
  // ctime has whole seconds, so a same-size rewrite that puts the mtime
  // back within the second of its last change would not show.
  const cache = new FileCache(dir.path, { maxStaleMs: 0, maxFileSize: 4 });
  const racy = (await entryOf(cache, "/big.bin")).original;
  assert.equal(racy.bytes, undefined);
  assert.equal(racy.etag, undefined, "no ETag within 2 s of the change");
  assert.equal((await entryOf(cache, "/big.bin")).original, racy, "reused");
  await sleep(2_100);
  const before = (await entryOf(cache, "/big.bin")).original;
  assert.match(before.etag ?? "", /^"[0-9a-z]+(-[0-9a-z]+){3}"$/);
  assert.equal((await entryOf(cache, "/big.bin")).original, before, "reused");
  Deno.writeTextFileSync(path, "NEW-CONTENT");
  Deno.utimeSync(path, old, old);
  const after = (await entryOf(cache, "/big.bin")).original;
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.etag, undefined, "changed again: no ETag for now");
  await sleep(2_100);
  const settled = (await entryOf(cache, "/big.bin")).original;
  assert.notEqual(settled.etag, undefined);
  assert.notEqual(settled.etag, before.etag);
});

Deno.test("FileCache sees a precompressed sibling that appears later", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/v.txt`, "plain");
  const cache = new FileCache(dir.path, { maxStaleMs: 100 });
  const before = await entryOf(cache, "/v.txt");
  assert.equal(before.encoded.length, 0);
  Deno.writeFileSync(`${dir.path}/v.txt.gz`, encoder.encode("not really gzip"));
  await sleep(150);
  const after = await entryOf(cache, "/v.txt");
  assert.notEqual(
    after,
    before,
    "a new entry, so fields built on the old one are not reused",
  );
  assert.deepEqual(after.encoded.map((r) => r.coding), ["gzip"]);
});

Deno.test("FileCache keeps within its byte budget", async () => {
  using dir = tempDir();
  const content = new Uint8Array(10_000);
  for (let i = 0; i < 20; i++) {
    Deno.writeFileSync(`${dir.path}/f${i}.bin`, content);
  }
  // Room for three files counted three times each (bytes and two responses).
  const cache = new FileCache(dir.path, { maxBytes: 3 * 3 * 10_000 });
  const entries: FileEntry[] = [];
  for (let i = 0; i < 20; i++) entries.push(await entryOf(cache, `/f${i}.bin`));
  // The last ones stay; the first ones were evicted and come back as new entries.
  assert.equal(await entryOf(cache, "/f19.bin"), entries[19]);
  assert.notEqual(await entryOf(cache, "/f0.bin"), entries[0]);
});

/**
 * An opener that fails with a staged error for the paths in `failing`. A
 * sibling can vanish or turn unreadable between the lstat that lists it and
 * the open that reads it, or be unreadable all along (mode 000 stops the
 * open, not the lstat); tests run as root, whom no mode stops, and no file
 * can be made to go away between two calls of one lookup, so the failure is
 * staged where the kernel would report it.
 */
function stagedOpen(failing: Map<string, Error>): OpenFile {
  return (path) => {
    const error = failing.get(path);
    return error === undefined ? Deno.open(path) : Promise.reject(error);
  };
}

Deno.test("FileCache leaves out a precompressed sibling it cannot open, and keeps the original", async (t) => {
  const errors = [
    new Deno.errors.PermissionDenied("Staged: unreadable"),
    new Deno.errors.NotFound("Staged: removed after its lstat"),
  ];
  for (const error of errors) {
    await t.step(error.name, async () => {
      using dir = tempDir();
      const path = `${dir.path}/a.txt`;
      Deno.writeTextFileSync(path, "original");
      Deno.writeTextFileSync(`${path}.gz`, "not really gzip");
      Deno.writeTextFileSync(`${path}.br`, "not really brotli");
      Deno.writeTextFileSync(`${dir.path}/b.txt`, "only a gzip sibling");
      Deno.writeTextFileSync(`${dir.path}/b.txt.gz`, "not really gzip");
      const failing = new Map<string, Error>();
      const open = stagedOpen(failing);
      const cache = new FileCache(dir.path, { maxStaleMs: 0, open });
      const before = await entryOf(cache, "/a.txt");
      assert.deepEqual(before.encoded.map((r) => r.coding), ["br", "gzip"]);
      failing.set(`${path}.gz`, error);
      failing.set(`${dir.path}/b.txt.gz`, error);
      const after = await entryOf(cache, "/a.txt");
      assert.equal(decoder.decode(after.original.bytes), "original");
      assert.deepEqual(after.encoded.map((r) => r.coding), ["br"]);
      const only = await entryOf(cache, "/b.txt");
      assert.equal(decoder.decode(only.original.bytes), "only a gzip sibling");
      assert.deepEqual(only.encoded, []);
      // Readable again: back in the entry at the next check.
      failing.clear();
      const again = await entryOf(cache, "/a.txt");
      assert.deepEqual(again.encoded.map((r) => r.coding), ["br", "gzip"]);
    });
  }
});

Deno.test("FileCache still answers 403 or 404 when the original cannot be opened", async (t) => {
  const cases = [
    [new Deno.errors.PermissionDenied("Staged: unreadable"), "forbidden"],
    [new Deno.errors.NotFound("Staged: removed after its stat"), "not-found"],
  ] as const;
  for (const [error, kind] of cases) {
    await t.step(error.name, async () => {
      using dir = tempDir();
      const path = `${dir.path}/a.txt`;
      Deno.writeTextFileSync(path, "original");
      Deno.writeTextFileSync(`${path}.gz`, "not really gzip");
      const open = stagedOpen(new Map([[path, error]]));
      const cache = new FileCache(dir.path, { open });
      assert.equal((await cache.lookup("/a.txt")).kind, kind);
    });
  }
});

Deno.test("FileCache opens off the event loop and gives up on an open that hangs", async () => {
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  Deno.writeTextFileSync(path, "a regular file when stat'ed");
  Deno.writeTextFileSync(`${dir.path}/b.txt`, "another file");
  const fifo = fifoAtOpen(path);
  const cache = new FileCache(dir.path, {
    maxStaleMs: 0,
    openTimeoutMs: 200,
    open: fifo.open,
  });
  const stuck = cache.lookup("/a.txt");
  assert.ok(stuck instanceof Promise);
  assert.ok(fifo.swapped, "the open found a FIFO");
  // The event loop runs on: another file is opened and read meanwhile.
  const other = await entryOf(cache, "/b.txt");
  assert.equal(decoder.decode(other.original.bytes), "another file");
  assert.equal((await stuck).kind, "unavailable");
  // Checked afresh, the FIFO is refused by its stat, with no open.
  assert.equal((await cache.lookup("/a.txt")).kind, "forbidden");
  const late = await fifo.release();
  assert.ok(late !== undefined);
  assert.throws(() => late.statSync(), Deno.errors.BadResource, "closed");
});

Deno.test("FileCache opens a file once for the lookups that wait on it", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  const opened: string[] = [];
  const open: OpenFile = (path) => {
    opened.push(path);
    return Deno.open(path);
  };
  const cache = new FileCache(dir.path, { maxStaleMs: 0, open });
  // Two names of one file, asked for before either open is done.
  const lookups = [cache.lookup("/a.txt"), cache.lookup("/./a.txt")];
  const [first, second] = await Promise.all(lookups);
  assert.equal(first, second);
  assert.deepEqual(opened, [`${dir.path}/a.txt`]);
  // Done with, the load is not reused: the next check opens again.
  await cache.lookup("/a.txt");
  assert.equal(opened.length, 2);
});

Deno.test("FileCache bounds the request paths it remembers", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  // One file: room for two remembered paths; and no expiry to hide behind.
  const cache = new FileCache(dir.path, { maxEntries: 1, maxStaleMs: 1e9 });
  assert.equal((await cache.lookup("/a.txt")).kind, "file");
  // Scanners' paths, each a 404 to remember, push the oldest out.
  for (const miss of ["/x1", "/x2"]) {
    assert.equal((await cache.lookup(miss)).kind, "not-found");
  }
  Deno.removeSync(`${dir.path}/a.txt`);
  assert.equal((await cache.lookup("/a.txt")).kind, "not-found", "forgotten");
});

Deno.test("FileCache forgets first the request path checked least recently, not the first remembered", async () => {
  using dir = tempDir();
  // Two files: room for four remembered paths.
  const cache = new FileCache(dir.path, { maxEntries: 2, maxStaleMs: 100 });
  for (const miss of ["/a", "/b", "/c"]) {
    assert.equal((await cache.lookup(miss, 0)).kind, "not-found");
  }
  // "/a" is checked again, which makes "/b" the least recently checked.
  assert.equal((await cache.lookup("/a", 200)).kind, "not-found");
  for (const miss of ["/d", "/e"]) {
    assert.equal((await cache.lookup(miss, 200)).kind, "not-found");
  }
  Deno.writeTextFileSync(`${dir.path}/a`, "a");
  Deno.writeTextFileSync(`${dir.path}/b`, "b");
  assert.equal((await cache.lookup("/a", 250)).kind, "not-found", "remembered");
  assert.equal((await cache.lookup("/b", 250)).kind, "file", "forgotten");
});

/** A sysfs file: it claims 4096 bytes and holds a few. */
const SYSFS_FILE = "/sys/kernel/address_bits";
const hasSysfs = (() => {
  try {
    return Deno.statSync(SYSFS_FILE).size === 4096;
  } catch {
    return false;
  }
})();
if (!hasSysfs) {
  console.warn(
    `SKIPPED: the two short-read tests: no 4096-byte ${SYSFS_FILE} here`,
  );
}

Deno.test({
  name: "FileCache keeps what a file holds when its stat promised more",
  ignore: !hasSysfs,
  async fn() {
    // A file shrunk between the stat and the read looks the same.
    const expected = Deno.readFileSync(SYSFS_FILE);
    assert.ok(expected.length < 4096);
    const cache = new FileCache("/sys/kernel");
    const entry = await entryOf(cache, "/address_bits");
    assert.deepEqual(entry.original.bytes, expected);
    assert.equal(entry.original.size, expected.length);
  },
});

Deno.test({
  name: "FileCache frames no file that held less than its stat promised",
  ignore: !hasSysfs,
  async fn() {
    // The frame was made for the stat's size: the bytes read are less, and
    // a head written in front of them would go out with the rest of it.
    const expected = Deno.readFileSync(SYSFS_FILE);
    const cache = new FileCache("/sys/kernel", { headRoom: 100 });
    const { original } = await entryOf(cache, "/address_bits");
    assert.deepEqual(original.bytes, expected);
    assert.equal(original.frame, undefined);
  },
});

Deno.test("FileCache holds a file of exactly its size limit, and none bigger", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/four.txt`, "1234");
  Deno.writeTextFileSync(`${dir.path}/five.txt`, "12345");
  const cache = new FileCache(dir.path, { maxFileSize: 4 });
  const four = (await entryOf(cache, "/four.txt")).original;
  assert.equal(decoder.decode(four.bytes), "1234");
  const five = (await entryOf(cache, "/five.txt")).original;
  assert.equal(five.bytes, undefined);
  assert.equal(five.size, 5);
});

/**
 * The open timeout where opens are held: a held open outlasts it, and one
 * that is not (which must succeed) has room even on a loaded machine.
 */
const OPEN_TIMEOUT_MS = 500;

/**
 * An opener whose opens of `held` paths wait until the test lets them go
 * (`release`, after which none is held), and which counts every open it is
 * asked for.
 */
function heldOpen(held: (path: string) => boolean) {
  const waiting: { path: string; go: () => void }[] = [];
  const asked: string[] = [];
  const late: Promise<unknown>[] = [];
  let released = false;
  const open: OpenFile = (path) => {
    asked.push(path);
    if (released || !held(path)) return Deno.open(path);
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting.push({ path, go: resolve });
    const opened = promise.then(() => Deno.open(path));
    late.push(opened);
    return opened;
  };
  /** Lets every held open go on (and the files be opened). */
  const release = () => {
    released = true;
    for (const { go } of waiting.splice(0)) go();
  };
  /**
   * Resolves once every held open, let go, has returned or failed, and
   * what waited on it (the cache's timed opener) has run: a timer's turn
   * comes after every promise reaction already due.
   */
  const returned = async () => {
    await Promise.allSettled(late);
    await sleep(0);
  };
  return { open, asked, release, returned, waiting };
}

Deno.test("FileCache starts no open while too many are stuck, and still serves what it knows", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/known.txt`, "known");
  // Settled (unchanged for 2 s), so that its stat is trusted without a read.
  await sleep(2100);
  for (let i = 0; i <= MAX_STUCK_OPENS; i++) {
    Deno.writeTextFileSync(`${dir.path}/new${i}.txt`, "new");
  }
  const opener = heldOpen((path) => path.includes("/new"));
  const cache = new FileCache(dir.path, {
    maxStaleMs: 0,
    openTimeoutMs: OPEN_TIMEOUT_MS,
    open: opener.open,
  });
  assert.equal((await cache.lookup("/known.txt")).kind, "file");
  const stuck = [];
  for (let i = 0; i < MAX_STUCK_OPENS; i++) {
    stuck.push(cache.lookup(`/new${i}.txt`));
  }
  for (const lookup of stuck) assert.equal((await lookup).kind, "unavailable");
  const asked = opener.asked.length;
  const refused = cache.lookup(`/new${MAX_STUCK_OPENS}.txt`);
  assert.equal((await refused).kind, "unavailable");
  assert.equal(opener.asked.length, asked, "no open started");
  // Checked again by its stat: no open needed, served throughout.
  assert.equal((await cache.lookup("/known.txt")).kind, "file");
  assert.equal(opener.asked.length, asked);
  // The stuck opens return (their files closed at once): opens start again.
  opener.release();
  await opener.returned();
  const fresh = await cache.lookup(`/new${MAX_STUCK_OPENS}.txt`);
  assert.equal(fresh.kind, "file");
});

Deno.test("FileCache leaves out a sibling whose open hangs, and serves the original", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "original");
  Deno.writeTextFileSync(`${dir.path}/a.txt.gz`, "not really gzip");
  const opener = heldOpen((path) => path.endsWith(".gz"));
  const cache = new FileCache(dir.path, {
    openTimeoutMs: OPEN_TIMEOUT_MS,
    open: opener.open,
  });
  const entry = await entryOf(cache, "/a.txt");
  assert.equal(decoder.decode(entry.original.bytes), "original");
  assert.deepEqual(entry.encoded, []);
  opener.release();
  await opener.returned(); // the late sibling is opened, then closed at once
});

Deno.test("FileCache dates a lookup that joins a load from the load's start", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "OLD");
  Deno.writeTextFileSync(`${dir.path}/a.txt.gz`, "not really gzip");
  const opener = heldOpen((path) => path.endsWith(".gz"));
  const cache = new FileCache(dir.path, {
    maxStaleMs: 500,
    open: opener.open,
  });
  const first = cache.lookup("/a.txt", 0);
  await sleep(10);
  // Rewritten while the first check is still under way; a second lookup,
  // much later, joins that check rather than start its own.
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "NEW");
  const joined = cache.lookup("/a.txt", 1000);
  opener.release();
  await first;
  await joined;
  // Trusted from 0, when the check began, not from 1000: stale by 1100.
  const later = await cache.lookup("/a.txt", 1100);
  assert.equal(later.kind, "file");
  const entry = (later as { entry: FileEntry }).entry;
  assert.equal(decoder.decode(entry.original.bytes), "NEW");
});

Deno.test("FileCache keeps a newer check's answer over an older, slower one", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  Deno.writeTextFileSync(`${dir.path}/a.txt.gz`, "not really gzip");
  const opener = heldOpen((path) => path.endsWith(".gz"));
  const cache = new FileCache(dir.path, {
    maxStaleMs: 1000,
    open: opener.open,
  });
  const older = cache.lookup("/a.txt", 0);
  await sleep(10);
  Deno.removeSync(`${dir.path}/a.txt`);
  assert.equal((await cache.lookup("/a.txt", 600)).kind, "not-found");
  opener.release();
  assert.equal((await older).kind, "file", "the older check's own answer");
  assert.equal(
    (await cache.lookup("/a.txt", 700)).kind,
    "not-found",
    "still the newer answer",
  );
});

Deno.test("FileCache takes an opener that throws at once like one that rejects", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  const open: OpenFile = () => {
    throw new Deno.errors.PermissionDenied("Staged: thrown, not rejected");
  };
  const cache = new FileCache(dir.path, { open });
  // No open timer is left running: the ops sanitizer would say so.
  assert.equal((await cache.lookup("/a.txt")).kind, "forbidden");
});

/**
 * An opener that, on its `nth` open of `path`, first replaces `path` with
 * `swap()`: the race of a rename under the root between the cache's check
 * and its open, staged where it would happen.
 */
function swapAtOpen(path: string, swap: () => void, nth = 1): OpenFile {
  let calls = 0;
  return (file) => {
    if (file === path && ++calls === nth) swap();
    return Deno.open(file);
  };
}

Deno.test("FileCache never serves a file swapped for a symlink out of the root as it opens", async (t) => {
  using outside = tempDir();
  Deno.writeTextFileSync(`${outside.path}/secret.txt`, "outside the root");
  for (const name of ["small.txt", "index.html"]) {
    await t.step(name, async () => {
      using dir = tempDir();
      const path = `${dir.path}/${name}`;
      Deno.writeTextFileSync(path, "inside");
      const cache = new FileCache(dir.path, {
        open: swapAtOpen(path, () => {
          Deno.removeSync(path);
          Deno.symlinkSync(`${outside.path}/secret.txt`, path);
        }),
      });
      const target = name === "index.html" ? "/" : `/${name}`;
      // Checked again, the path now leads out of the root.
      assert.equal((await cache.lookup(target)).kind, "forbidden");
    });
  }
});

Deno.test("FileCache serves the new file when one is renamed into place as it opens", async () => {
  using dir = tempDir();
  const path = `${dir.path}/page.html`;
  Deno.writeTextFileSync(path, "old");
  const cache = new FileCache(dir.path, {
    open: swapAtOpen(path, () => {
      Deno.writeTextFileSync(`${path}.tmp`, "new!");
      Deno.renameSync(`${path}.tmp`, path);
    }),
  });
  const entry = await entryOf(cache, "/page.html");
  assert.equal(decoder.decode(entry.original.bytes), "new!");
  assert.equal(entry.original.ino, Deno.statSync(path).ino);
});

Deno.test("FileCache resolves a path swapped as it opens again even when the clock has not moved", async () => {
  using dir = tempDir();
  const path = `${dir.path}/page.html`;
  Deno.writeTextFileSync(path, "old");
  const cache = new FileCache(dir.path, {
    open: swapAtOpen(path, () => {
      Deno.writeTextFileSync(`${path}.tmp`, "new!");
      Deno.renameSync(`${path}.tmp`, path);
    }),
  });
  // A timer too coarse to tell the lookup from its retry: the retry must
  // not join the lookup's own check, which waits on the retry.
  const now = performance.now;
  performance.now = () => 1000;
  try {
    const entry = await entryOf(cache, "/page.html", 1000);
    assert.equal(decoder.decode(entry.original.bytes), "new!");
  } finally {
    performance.now = now;
  }
});

Deno.test("FileCache.openSame() opens nothing when a link or a FIFO took the file's place", async (t) => {
  using outside = tempDir();
  Deno.writeTextFileSync(`${outside.path}/secret.txt`, "outside the root");
  const swaps: [string, (path: string) => void][] = [
    ["a link out of the root", (path) => {
      Deno.symlinkSync(`${outside.path}/secret.txt`, path);
    }],
    ["a FIFO", (path) => {
      const made = new Deno.Command("mkfifo", { args: [path] }).outputSync();
      assert.ok(made.success, "mkfifo");
    }],
  ];
  for (const [name, swapIn] of swaps) {
    await t.step(name, async () => {
      using dir = tempDir();
      const path = `${dir.path}/big.bin`;
      Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1));
      // The cache's own open describes the file; no other may happen.
      let opens = 0;
      const cache = new FileCache(dir.path, {
        open: (file) =>
          ++opens === 1
            ? Deno.open(file)
            : Promise.reject(new Error(`opened ${file} again`)),
      });
      const entry = await entryOf(cache, "/big.bin");
      Deno.removeSync(path);
      swapIn(path);
      assert.equal(await cache.openSame(entry.original), "changed");
      assert.equal(opens, 1);
    });
  }
});

Deno.test("FileCache answers 503 for a file swapped at every open", async () => {
  using dir = tempDir();
  const path = `${dir.path}/busy.txt`;
  Deno.writeTextFileSync(path, "0");
  let version = 0;
  const cache = new FileCache(dir.path, {
    open: (file) => {
      Deno.writeTextFileSync(`${path}.tmp`, `${++version}`);
      Deno.renameSync(`${path}.tmp`, path);
      return Deno.open(file);
    },
  });
  assert.equal((await cache.lookup("/busy.txt")).kind, "unavailable");
  assert.equal(version, 2, "resolved once more, then given up");
});

Deno.test("FileCache leaves out a precompressed sibling swapped for a symlink as it opens", async () => {
  using outside = tempDir();
  Deno.writeTextFileSync(`${outside.path}/secret.gz`, "outside the root");
  using dir = tempDir();
  const path = `${dir.path}/app.js`;
  Deno.writeTextFileSync(path, "original");
  Deno.writeTextFileSync(`${path}.gz`, "sibling");
  const cache = new FileCache(dir.path, {
    open: swapAtOpen(`${path}.gz`, () => {
      Deno.removeSync(`${path}.gz`);
      Deno.symlinkSync(`${outside.path}/secret.gz`, `${path}.gz`);
    }),
  });
  const entry = await entryOf(cache, "/app.js");
  assert.equal(decoder.decode(entry.original.bytes), "original");
  assert.deepEqual(entry.encoded, []);
});

Deno.test("FileCache holds a file racy for 2 s after its last change, no less", async () => {
  using dir = tempDir();
  const path = `${dir.path}/recent.txt`;
  Deno.writeTextFileSync(path, "CONTENT");
  const info = Deno.statSync(path);
  // The later of mtime and ctime, as the cache takes it.
  const changed = Math.max(info.mtime!.getTime(), info.ctime!.getTime());
  const realNow = Date.now;
  try {
    for (const [age, racy] of [[1999, true], [2000, false]] as const) {
      Date.now = () => changed + age;
      const cache = new FileCache(dir.path);
      const { original } = await entryOf(cache, "/recent.txt");
      assert.equal(original.racy, racy, `changed ${age} ms ago`);
    }
  } finally {
    Date.now = realNow;
  }
});

Deno.test("FileCache keeps at most maxEntries files, evicting the first stored when none was checked again", async () => {
  using dir = tempDir();
  for (const name of ["a", "b", "c"]) {
    Deno.writeTextFileSync(`${dir.path}/${name}.txt`, name);
  }
  const cache = new FileCache(dir.path, { maxEntries: 2, maxStaleMs: 1e9 });
  const a = await entryOf(cache, "/a.txt");
  const b = await entryOf(cache, "/b.txt");
  const c = await entryOf(cache, "/c.txt");
  assert.equal(await entryOf(cache, "/b.txt"), b, "b kept");
  assert.equal(await entryOf(cache, "/c.txt"), c, "c kept");
  // A third file made room by evicting the first: read again, a new entry.
  assert.notEqual(await entryOf(cache, "/a.txt"), a, "a evicted");
});

Deno.test("FileCache evicts the least recently checked file, not the first stored", async () => {
  using dir = tempDir();
  for (const name of ["a", "b", "c"]) {
    Deno.writeTextFileSync(`${dir.path}/${name}.txt`, name);
  }
  // Settled (unchanged for 2 s), so that a check finds each unchanged and
  // keeps its entry, where a racy file would be read again.
  await sleep(2_100);
  const cache = new FileCache(dir.path, { maxEntries: 2, maxStaleMs: 100 });
  const a = await entryOf(cache, "/a.txt", 0);
  const b = await entryOf(cache, "/b.txt", 1);
  // Past the window, a is checked again: unchanged, the same entry.
  assert.equal(await entryOf(cache, "/a.txt", 1_000), a, "a unchanged");
  // A third file makes room by evicting b, the one checked least recently.
  await entryOf(cache, "/c.txt", 1_001);
  assert.equal(await entryOf(cache, "/a.txt", 1_002), a, "a kept");
  assert.notEqual(await entryOf(cache, "/b.txt", 1_003), b, "b evicted");
});

/** Bytes of each file {@linkcode budgeted} writes. */
const FILE_SIZE = 10_000;

/**
 * Writes `count` files of FILE_SIZE bytes (`/f0.bin`...) and looks each up
 * once, in order, in a cache of `maxBytes` that never revalidates; the
 * cache, the entries it gave, and the directory to dispose of.
 */
async function budgeted(count: number, maxBytes: number, headRoom?: number) {
  const dir = tempDir();
  for (let i = 0; i < count; i++) {
    Deno.writeFileSync(`${dir.path}/f${i}.bin`, new Uint8Array(FILE_SIZE));
  }
  const cache = new FileCache(dir.path, {
    maxBytes,
    maxStaleMs: 1e9,
    headRoom,
  });
  const entries: FileEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push(await entryOf(cache, `/f${i}.bin`));
  }
  const kept = async (i: number) =>
    await entryOf(cache, `/f${i}.bin`) === entries[i];
  return { kept, [Symbol.dispose]: () => dir[Symbol.dispose]() };
}

Deno.test("FileCache fills its byte budget to the last byte", async () => {
  // Room for exactly three files counted three times each.
  using cache = await budgeted(4, 3 * 3 * FILE_SIZE);
  for (const i of [1, 2, 3]) assert.ok(await cache.kept(i), `f${i} kept`);
});

Deno.test("FileCache keeps an entry that takes its whole byte budget, to the last byte", async () => {
  // One file counted three times: the budget exactly.
  using cache = await budgeted(1, 3 * FILE_SIZE);
  assert.ok(await cache.kept(0), "f0 kept");
});

Deno.test("FileCache counts a small file three times against its byte budget", async () => {
  // Nine copies' worth: three files (bytes and two responses each), not nine.
  using cache = await budgeted(5, 9 * FILE_SIZE);
  assert.ok(await cache.kept(4), "f4 kept");
  assert.ok(!await cache.kept(1), "f1 evicted");
});

Deno.test("FileCache counts a framed small file once, with its room, against its byte budget", async () => {
  // One byte short of four files with their room: three fit, not four
  // (nor only one, as three copies each would).
  const room = 300;
  using cache = await budgeted(5, 4 * (FILE_SIZE + room) - 1, room);
  for (const i of [2, 3, 4]) assert.ok(await cache.kept(i), `f${i} kept`);
  assert.ok(!await cache.kept(1), "f1 evicted");
});

Deno.test("FileCache keeps a file's bytes after room for a head, when asked", async () => {
  using dir = tempDir();
  Deno.writeFileSync(`${dir.path}/small`, encoder.encode("small"));
  Deno.writeFileSync(`${dir.path}/empty`, new Uint8Array(0));
  // Bigger than one write's worth of head and body, and at the size limit.
  Deno.writeFileSync(`${dir.path}/big`, new Uint8Array(SINGLE_WRITE_LIMIT + 1));
  Deno.writeFileSync(`${dir.path}/limit`, new Uint8Array(100_000));
  Deno.writeFileSync(`${dir.path}/over`, new Uint8Array(100_001));
  const framed = new FileCache(dir.path, {
    headRoom: 400,
    maxFileSize: 100_000,
  });
  const small = (await entryOf(framed, "/small")).original;
  assert.equal(small.frame?.body, small.bytes);
  assert.equal(small.frame?.byteLength, 400 + 5);
  assert.equal(decoder.decode(small.bytes), "small");
  for (const name of ["/big", "/limit"]) {
    const { bytes, frame } = (await entryOf(framed, name)).original;
    // Compared as a boolean: a diff of 64 KiB arrays takes minutes.
    assert.ok(frame !== undefined && frame.body === bytes, `${name} framed`);
  }
  // Nothing to frame: no content, or none held.
  const empty = (await entryOf(framed, "/empty")).original;
  assert.equal(empty.frame, undefined);
  assert.equal(empty.bytes?.length, 0);
  const over = (await entryOf(framed, "/over")).original;
  assert.equal(over.frame, undefined);
  assert.equal(over.bytes, undefined);
  const plain = new FileCache(dir.path);
  assert.equal((await entryOf(plain, "/small")).original.frame, undefined);
});

Deno.test("FileCache keeps no entry bigger than its whole budget, and evicts nothing for one", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/small.txt`, "small");
  for (const name of ["page.html", "page.html.gz", "page.html.br"]) {
    Deno.writeFileSync(`${dir.path}/${name}`, new Uint8Array(30_000));
  }
  // Each file is at the size limit (a third of the budget), but without
  // head room the three count three times each: 270,000 bytes in all.
  const cache = new FileCache(dir.path, { maxBytes: 90_000, maxStaleMs: 1e9 });
  const small = await entryOf(cache, "/small.txt");
  const page = await entryOf(cache, "/page.html");
  assert.equal(page.encoded.length, 2);
  assert.ok(page.original.bytes !== undefined, "answered from memory");
  assert.notEqual(await entryOf(cache, "/page.html"), page, "not kept");
  assert.equal(await entryOf(cache, "/small.txt"), small, "small kept");
});

Deno.test("FileCache gives back the budget of what it evicts", async () => {
  // Room for three and a half files counted three times each; many
  // evictions later, the budget still holds the last three.
  using cache = await budgeted(10, 3.5 * 3 * FILE_SIZE);
  for (const i of [7, 8, 9]) assert.ok(await cache.kept(i), `f${i} kept`);
});

Deno.test("FileCache shares a check among the lookups of a path at the moment it began", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  const cache = new FileCache(dir.path, { maxStaleMs: 500 });
  // Unknown, then stale: each time the first lookup of a moment resolves
  // the path and loads, and the others of that moment wait on it.
  for (const moment of [5, 600]) {
    const first = cache.lookup("/a.txt", moment);
    assert.ok(first instanceof Promise, `${moment}: a check`);
    assert.equal(
      cache.lookup("/a.txt?v=2", moment),
      first,
      `${moment}: shared`,
    );
    const later = cache.lookup("/a.txt", moment + 1);
    assert.notEqual(later, first, `${moment}: a later moment checks anew`);
    assert.equal((await first).kind, "file");
    await later;
  }
  // Settled: known at once, without a promise.
  assert.equal((cache.lookup("/a.txt", 601) as Lookup).kind, "file");
});

Deno.test("FileCache never labels bytes written between its stat and its read with the old stat's tag", async () => {
  // A deploy that rewrites a file in place, same size, as the cache loads
  // it: the old ETag must not name the new bytes, or If-Range would join
  // old and new parts.
  using dir = tempDir();
  const path = `${dir.path}/a.txt`;
  await writeSettled(path, "OLD-CONTENT-0123");
  const before = new FileCache(dir.path);
  const old = await before.lookup("/a.txt");
  assert.equal(old.kind, "file");
  const oldTag = old.kind === "file" ? old.entry.original.etag : "";
  // The writer lands between the open file's stat and its read.
  const open: OpenFile = async (p) => {
    const file = await Deno.open(p);
    const stat = file.statSync.bind(file);
    let first = true;
    file.statSync = () => {
      const info = stat();
      if (first) Deno.writeTextFileSync(path, "NEW-CONTENT-4567");
      first = false;
      return info;
    };
    return file;
  };
  const cache = new FileCache(dir.path, { open });
  const found = await cache.lookup("/a.txt");
  assert.equal(found.kind, "file");
  const served = found.kind === "file" ? found.entry.original : undefined;
  assert.equal(decoder.decode(served!.bytes), "NEW-CONTENT-4567");
  assert.notEqual(served!.etag, oldTag);
  assert.equal(served!.racy, true, "read again at the next check");
});

Deno.test("FileCache holds no file whose bytes and siblings' could outgrow its budget", async () => {
  // A file and two precompressed siblings of the largest size held must
  // fit together: under a small budget, bigger files are streamed.
  using dir = tempDir();
  const size = 40_000;
  for (const name of ["page.html", "page.html.gz", "page.html.br"]) {
    Deno.writeFileSync(`${dir.path}/${name}`, new Uint8Array(size));
  }
  Deno.writeFileSync(`${dir.path}/small.html`, new Uint8Array(size / 4));
  const cache = new FileCache(dir.path, {
    maxBytes: 3 * size - 1,
    headRoom: 100,
  });
  const page = await entryOf(cache, "/page.html");
  assert.equal(page.original.bytes, undefined, "streamed, not held");
  assert.deepEqual(page.encoded.map((r) => r.bytes), [undefined, undefined]);
  const small = await entryOf(cache, "/small.html");
  assert.equal(small.original.bytes?.length, size / 4, "held");
});

Deno.test("FileCache counts a file's head room against the largest size it holds", async () => {
  // A budget of exactly three such files, but for their head room: with
  // it, three of them would not fit, so they are streamed.
  using dir = tempDir();
  const size = 40_000;
  Deno.writeFileSync(`${dir.path}/page.html`, new Uint8Array(size));
  Deno.writeFileSync(`${dir.path}/less.html`, new Uint8Array(size - 100));
  const cache = new FileCache(dir.path, { maxBytes: 3 * size, headRoom: 100 });
  const page = await entryOf(cache, "/page.html");
  // Compared as a boolean: a diff of a 40 KB array takes minutes.
  assert.ok(page.original.bytes === undefined, "streamed, not held");
  const less = await entryOf(cache, "/less.html");
  assert.equal(less.original.bytes?.length, size - 100, "held, room and all");
});

Deno.test("FileCache holds files of up to 1 MiB unless told otherwise", async () => {
  using dir = tempDir();
  Deno.writeFileSync(`${dir.path}/limit.bin`, new Uint8Array(1 << 20));
  Deno.writeFileSync(`${dir.path}/over.bin`, new Uint8Array((1 << 20) + 1));
  const cache = new FileCache(dir.path);
  const limit = await entryOf(cache, "/limit.bin");
  // Compared as booleans: a diff of a 1 MiB array takes minutes.
  assert.ok(limit.original.bytes !== undefined, "held");
  const over = await entryOf(cache, "/over.bin");
  assert.ok(over.original.bytes === undefined, "streamed");
});

Deno.test("FileCache holds no file's bytes when its head room leaves no budget for them", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/one.txt`, "1");
  // A third of the budget is less than the room: not even one byte fits.
  const cache = new FileCache(dir.path, { maxBytes: 300, headRoom: 448 });
  const entry = await entryOf(cache, "/one.txt");
  assert.equal(entry.original.bytes, undefined, "streamed, not held");
});

Deno.test("FileCache tries again at the next request a file that did not open in time", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "slow to open");
  const opener = heldOpen((path) => path.endsWith("/a.txt"));
  // A window that never ends: only an answer not remembered is checked again.
  const cache = new FileCache(dir.path, {
    maxStaleMs: 1e9,
    openTimeoutMs: OPEN_TIMEOUT_MS,
    open: opener.open,
  });
  assert.equal((await cache.lookup("/a.txt", 0)).kind, "unavailable");
  opener.release();
  await opener.returned(); // the late open returns, and its file is closed
  const again = await entryOf(cache, "/a.txt", 1);
  assert.equal(decoder.decode(again.original.bytes), "slow to open");
});

Deno.test("FileCache counts an open that fails after its timeout as no longer stuck", async () => {
  using dir = tempDir();
  for (let i = 0; i <= MAX_STUCK_OPENS; i++) {
    Deno.writeTextFileSync(`${dir.path}/new${i}.txt`, "new");
  }
  const opener = heldOpen((path) => path.includes("/new"));
  const cache = new FileCache(dir.path, {
    maxStaleMs: 0,
    openTimeoutMs: OPEN_TIMEOUT_MS,
    open: opener.open,
  });
  const stuck = [];
  for (let i = 0; i < MAX_STUCK_OPENS; i++) {
    stuck.push(cache.lookup(`/new${i}.txt`));
  }
  for (const lookup of stuck) assert.equal((await lookup).kind, "unavailable");
  // Gone meanwhile: each stuck open, let go, fails (NotFound).
  for (let i = 0; i < MAX_STUCK_OPENS; i++) {
    Deno.removeSync(`${dir.path}/new${i}.txt`);
  }
  opener.release();
  await opener.returned();
  const fresh = await cache.lookup(`/new${MAX_STUCK_OPENS}.txt`);
  assert.equal(fresh.kind, "file", "opens start again");
});

Deno.test("FileCache remembers request paths of up to 1024 characters, and no longer ones", async () => {
  using dir = tempDir();
  // Nested, so that no name is over the file system's limit of 255.
  const targetOf = (length: number) => {
    const file = "x".repeat(length - 5 * 200 - ".txt".length - 1);
    return `${"/" + "d".repeat(199)}`.repeat(5) + `/${file}.txt`;
  };
  const remembered = targetOf(1024);
  const forgotten = targetOf(1025);
  Deno.mkdirSync(dir.path + remembered.slice(0, 1000), { recursive: true });
  const cache = new FileCache(dir.path, { maxStaleMs: 1e9 });
  for (const target of [remembered, forgotten]) {
    assert.equal(target.length, target === remembered ? 1024 : 1025);
    assert.equal((await cache.lookup(target)).kind, "not-found");
    Deno.writeTextFileSync(dir.path + target, "late");
  }
  assert.equal(
    (await cache.lookup(remembered)).kind,
    "not-found",
    "1024 characters: the 404 is remembered",
  );
  assert.equal(
    (await cache.lookup(forgotten)).kind,
    "file",
    "1025 characters: resolved every time",
  );
});

Deno.test("FileCache gives up the room of a file whose check fails", async () => {
  using dir = tempDir();
  for (const name of ["a", "b", "c"]) {
    Deno.writeTextFileSync(`${dir.path}/${name}.txt`, name);
  }
  const failing = new Map<string, Error>();
  const cache = new FileCache(dir.path, {
    maxEntries: 2,
    maxStaleMs: 1e9,
    open: stagedOpen(failing),
  });
  const b = await entryOf(cache, "/b.txt");
  await entryOf(cache, "/a.txt");
  // Another name of a.txt, checked afresh, and its open now fails: a 403,
  // and a.txt no longer takes one of the two places.
  failing.set(`${dir.path}/a.txt`, new Deno.errors.PermissionDenied("Staged"));
  assert.equal((await cache.lookup("/./a.txt")).kind, "forbidden");
  await entryOf(cache, "/c.txt");
  assert.equal(await entryOf(cache, "/b.txt"), b, "b kept");
});

Deno.test("FileCache counts a file of exactly SINGLE_WRITE_LIMIT bytes three times against its byte budget", async () => {
  // Its two complete responses are kept too: room for three such files
  // counted three times each, so a fourth evicts the first.
  using dir = tempDir();
  const size = SINGLE_WRITE_LIMIT;
  for (let i = 0; i < 4; i++) {
    Deno.writeFileSync(`${dir.path}/f${i}.bin`, new Uint8Array(size));
  }
  const cache = new FileCache(dir.path, {
    maxBytes: 3 * 3 * size,
    maxStaleMs: 1e9,
  });
  const first = await entryOf(cache, "/f0.bin");
  for (let i = 1; i < 4; i++) await entryOf(cache, `/f${i}.bin`);
  assert.ok(await entryOf(cache, "/f0.bin") !== first, "f0 evicted");
});

Deno.test("FileCache counts a file's precompressed siblings against its byte budget", async () => {
  using dir = tempDir();
  for (const name of ["x.bin", "y.bin", "a.txt", "a.txt.gz"]) {
    Deno.writeFileSync(`${dir.path}/${name}`, new Uint8Array(FILE_SIZE));
  }
  // Room for three files counted three times each: a.txt and its sibling
  // take two of them.
  const cache = new FileCache(dir.path, {
    maxBytes: 3 * 3 * FILE_SIZE,
    maxStaleMs: 1e9,
  });
  const x = await entryOf(cache, "/x.bin");
  const y = await entryOf(cache, "/y.bin");
  const a = await entryOf(cache, "/a.txt");
  assert.equal(a.encoded.length, 1);
  assert.equal(await entryOf(cache, "/y.bin"), y, "y kept");
  assert.ok(await entryOf(cache, "/x.bin") !== x, "x evicted");
});

Deno.test("FileCache keeps sharing a moment's check after an earlier check of the path ends", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  const opener = heldOpen((path) => path.endsWith("/a.txt"));
  // Never trusted: every lookup checks, unless it can share a check.
  const cache = new FileCache(dir.path, { maxStaleMs: 0, open: opener.open });
  const first = cache.lookup("/a.txt", 0);
  // A later moment's check, which joins the same load.
  const second = cache.lookup("/a.txt", 1);
  assert.notEqual(second, first);
  opener.release();
  // Here the first check is done, and its end must not drop the second's.
  assert.equal((await first).kind, "file");
  assert.equal(cache.lookup("/a.txt", 1), second, "shared");
  assert.equal((await second).kind, "file");
  assert.equal(opener.asked.length, 1, "one open");
});
