/**
 * The file handler called directly, without a socket: what it answers when
 * the disk changes under an entry the cache still trusts. No server runs in
 * this module, so the coarse clock the cache reads stands still and a
 * cached entry is trusted for the whole test: a change can only show where
 * the handler opens a file.
 */

import assert from "node:assert/strict";
import { parseRequestHead } from "../../protocol/request_head.ts";
import { formatHttpDate } from "../../protocol/date.ts";
import { currentSecond, tick } from "../../server/clock.ts";
import type { OpenFile } from "../../server/timed_open.ts";
import { createFileHandler } from "../../server/file_handler.ts";
import type { Response } from "../../server/response.ts";
import { fifoAtOpen, tempDir } from "./_harness.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A GET of `target` with the given extra field lines, as the parser gives it. */
function getHead(target: string, ...lines: string[]) {
  const text = `GET ${target} HTTP/1.1\r\nHost: test\r\n${
    lines.map((line) => `${line}\r\n`).join("")
  }\r\n`;
  return parseRequestHead(encoder.encode(text))!.head;
}

/** A field's value from a response's formatted field lines. */
function fieldOf(response: Response, name: string): string | undefined {
  for (const line of response.fields.split("\r\n")) {
    const colon = line.indexOf(":");
    if (line.slice(0, colon).toLowerCase() === name) {
      return line.slice(colon + 1).trim();
    }
  }
  return undefined;
}

/** Closes the file a streamed body holds (the connection would). */
function release(response: Response): void {
  const body = response.body;
  if (body !== undefined && !(body instanceof Uint8Array)) body.file.close();
}

Deno.test("createFileHandler() serves the original when a big sibling it trusted is removed", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "the original\n");
  // Over the cache's 1 MiB limit, so it is opened per request, not held.
  Deno.writeFileSync(`${dir.path}/a.txt.gz`, new Uint8Array((1 << 20) + 1));
  const handle = createFileHandler({ root: dir.path });
  const head = getHead("/a.txt", "Accept-Encoding: gzip");

  const first = await handle(head);
  release(first);
  assert.equal(first.status, 200);
  assert.equal(fieldOf(first, "content-encoding"), "gzip");

  Deno.removeSync(`${dir.path}/a.txt.gz`);
  const second = await handle(head);
  release(second);
  assert.equal(second.status, 200);
  assert.equal(fieldOf(second, "content-encoding"), undefined);
  assert.ok(second.body instanceof Uint8Array);
  assert.equal(decoder.decode(second.body), "the original\n");
});

Deno.test("createFileHandler() still answers 404 when a big file it trusted is removed", async () => {
  using dir = tempDir();
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array((1 << 20) + 1));
  const handle = createFileHandler({ root: dir.path });
  const head = getHead("/big.bin");
  const first = await handle(head);
  release(first);
  assert.equal(first.status, 200);
  Deno.removeSync(`${dir.path}/big.bin`);
  const second = await handle(head);
  release(second);
  assert.equal(second.status, 404);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("createFileHandler() stops giving a big file's ETag at once when a rewrite puts its mtime back", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1).fill(1));
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  const handle = createFileHandler({ root: dir.path });
  // Settled: its ETag can be trusted.
  await sleep(2_100);
  const first = await handle(getHead("/big.bin"));
  release(first);
  assert.notEqual(fieldOf(first, "etag"), undefined);
  // A later second of ctime, the only trace of a rewrite that puts the
  // mtime back; the cache still trusts its entry, the open file's stat
  // tells, and the changed file goes without an ETag until it settles.
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1).fill(2));
  Deno.utimeSync(path, old, old);
  const second = await handle(getHead("/big.bin"));
  release(second);
  assert.equal(
    fieldOf(second, "last-modified"),
    fieldOf(first, "last-modified"),
  );
  assert.equal(fieldOf(second, "etag"), undefined);
  const stale = await handle(
    getHead("/big.bin", `If-None-Match: ${fieldOf(first, "etag")}`),
  );
  release(stale);
  assert.equal(
    stale.status,
    200,
    "the old tag does not validate the new bytes",
  );
});

Deno.test("createFileHandler() holds a big file's future Last-Modified back to Date only until reached", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1));
  tick();
  const future = new Date((currentSecond() + 2) * 1000);
  Deno.utimeSync(path, future, future);
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/big.bin"));
  release(first);
  assert.equal(
    fieldOf(first, "last-modified"),
    formatHttpDate(new Date(currentSecond() * 1000)),
  );
  await sleep(future.getTime() + 1100 - Date.now());
  tick();
  const second = await handle(getHead("/big.bin"));
  release(second);
  assert.equal(fieldOf(second, "last-modified"), formatHttpDate(future));
});

Deno.test("createFileHandler() judges conditions by the Last-Modified it sends, not a future mtime", async () => {
  // RFC 9110 §8.8.2.1 has a future modification time replaced by Date;
  // §13.1.3 and §13.1.4 then compare with that date. Echoing it back must
  // not get a 412, and must get a 304.
  using dir = tempDir();
  const path = `${dir.path}/future.txt`;
  Deno.writeTextFileSync(path, "from a skewed clock");
  const future = new Date(Date.UTC(2099, 0, 1));
  Deno.utimeSync(path, future, future);
  tick();
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/future.txt"));
  release(first);
  const sent = fieldOf(first, "last-modified")!;
  assert.equal(sent, formatHttpDate(new Date(currentSecond() * 1000)));
  const unmodified = await handle(
    getHead("/future.txt", `If-Unmodified-Since: ${sent}`),
  );
  release(unmodified);
  assert.equal(unmodified.status, 200);
  const modified = await handle(
    getHead("/future.txt", `If-Modified-Since: ${sent}`),
  );
  release(modified);
  assert.equal(modified.status, 304);
});

Deno.test("createFileHandler() answers 503 to a file whose open hangs", async () => {
  using dir = tempDir();
  const path = `${dir.path}/small.txt`;
  Deno.writeTextFileSync(path, "small");
  const fifo = fifoAtOpen(path);
  const handle = createFileHandler({
    root: dir.path,
    openTimeoutMs: 100,
    open: fifo.open,
  });
  const response = await handle(getHead("/small.txt"));
  assert.equal(response.status, 503);
  assert.equal(fieldOf(response, "retry-after"), "1");
  const late = await fifo.release();
  assert.throws(() => late!.statSync(), Deno.errors.BadResource, "closed");
});

Deno.test("createFileHandler() answers 503 when a big file's own open hangs, then checks it again", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1));
  // The cache's own open, which describes the file, goes through; the
  // request's open of the big file finds a FIFO.
  const fifo = fifoAtOpen(path, 2);
  const handle = createFileHandler({
    root: dir.path,
    openTimeoutMs: 100,
    open: fifo.open,
  });
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.ok(fifo.swapped);
  assert.equal(response.status, 503, "one timeout, not one per retry");
  assert.equal(fieldOf(response, "retry-after"), "1");
  const next = await handle(getHead("/big.bin"));
  assert.equal(next.status, 403, "the FIFO, found by a new stat");
  const late = await fifo.release();
  assert.throws(() => late!.statSync(), Deno.errors.BadResource, "closed");
});

const BIG = (1 << 20) + 1;

Deno.test("createFileHandler() checks a big file's path again after its open timed out", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  // The cache's open describes the file; the request's open hangs.
  const stuck = Promise.withResolvers<Deno.FsFile>();
  let calls = 0;
  const open: OpenFile = (file) =>
    file === path && ++calls === 2 ? stuck.promise : Deno.open(file);
  const handle = createFileHandler({
    root: dir.path,
    openTimeoutMs: 100,
    open,
  });
  const head = getHead("/big.bin", "Accept-Encoding: gzip");
  assert.equal((await handle(head)).status, 503);
  // What the path names is not trusted after that: a sibling put beside
  // the file meanwhile is found by the next request.
  Deno.writeTextFileSync(`${path}.gz`, "gzip");
  const next = await handle(head);
  release(next);
  assert.equal(next.status, 200);
  assert.equal(fieldOf(next, "content-encoding"), "gzip");
  const late = await Deno.open(path);
  stuck.resolve(late);
  await sleep(0);
  assert.throws(() => late.statSync(), Deno.errors.BadResource, "closed");
});

/** How many descriptors this process has open (Linux). */
function openDescriptors(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/**
 * An opener that, from the `from`th open of `path` on, first lets `swap`
 * replace what is there: the race of a rename under the root between the
 * handler's lstat and its open, staged where it would happen.
 */
function swapAtOpen(
  path: string,
  from: number,
  swap: () => void,
): OpenFile {
  let calls = 0;
  return (file) => {
    if (file === path && ++calls >= from) swap();
    return Deno.open(file);
  };
}

Deno.test("createFileHandler() never serves what a big file's path leads to after its lstat", async () => {
  using dir = tempDir();
  using outside = tempDir();
  Deno.writeTextFileSync(`${outside.path}/secret.txt`, "s".repeat(BIG));
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  // The cache's open describes the file; the request's open finds a link out.
  const open = swapAtOpen(path, 2, () => {
    Deno.removeSync(path);
    Deno.symlinkSync(`${outside.path}/secret.txt`, path);
  });
  const handle = createFileHandler({ root: dir.path, open });
  const before = openDescriptors();
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.equal(response.status, 403, "found out by the check after the open");
  // Counted, not left to the resources sanitizer: a plain `deno test` runs none.
  assert.equal(
    openDescriptors(),
    before,
    "the file opened by mistake is closed",
  );
});

Deno.test("createFileHandler() answers 503 when a big file is replaced at every open", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  // A deploy that keeps replacing the file: a new inode at each open.
  const open = swapAtOpen(path, 2, () => {
    Deno.writeFileSync(`${path}.new`, new Uint8Array(BIG));
    Deno.renameSync(`${path}.new`, path);
  });
  const handle = createFileHandler({ root: dir.path, open });
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.equal(response.status, 503);
  assert.equal(fieldOf(response, "retry-after"), "1");
});

Deno.test("createFileHandler() answers 503 when a big file is replaced again between its new check and its open", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  // The cache's opens, which check the file, find it as it is; each of the
  // request's opens, after its lstat, finds it replaced.
  let calls = 0;
  const open: OpenFile = (file) => {
    if (file === path && ++calls % 2 === 0) {
      Deno.writeFileSync(`${path}.new`, new Uint8Array(BIG));
      Deno.renameSync(`${path}.new`, path);
    }
    return Deno.open(file);
  };
  const handle = createFileHandler({ root: dir.path, open });
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.equal(response.status, 503);
  assert.equal(fieldOf(response, "retry-after"), "1");
  assert.equal(calls, 4, "checked again once, not more");
});

Deno.test("createFileHandler() sends a big file grown in place at its new length", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/big.bin"));
  release(first);
  assert.equal(first.contentLength, BIG);
  // Appended: same inode, and the cache still trusts its entry.
  Deno.writeFileSync(path, encoder.encode("0123456789"), { append: true });
  const second = await handle(getHead("/big.bin"));
  release(second);
  assert.equal(second.contentLength, BIG + 10);
  assert.equal(fieldOf(second, "content-length"), undefined, "not a field");
  const body = second.body as { length: number } | undefined;
  assert.equal(body?.length, BIG + 10);
  // Changed just now: no ETag, until a stat could tell the next change.
  assert.equal(fieldOf(second, "etag"), undefined);
});

Deno.test("createFileHandler() streams a big file replaced by rename within its second, without an ETag", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  // Early in a second, so that both files share their ctime second.
  await sleep(1000 - (Date.now() % 1000) + 20);
  const when = new Date(Date.now() - 60_000);
  Deno.writeFileSync(path, new Uint8Array(BIG).fill(1));
  Deno.utimeSync(path, when, when);
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/big.bin"));
  release(first);
  // Same size, mtime and (to the second) ctime: only the inode differs.
  Deno.writeFileSync(`${path}.new`, new Uint8Array(BIG).fill(2));
  Deno.utimeSync(`${path}.new`, when, when);
  Deno.renameSync(`${path}.new`, path);
  const second = await handle(getHead("/big.bin"));
  try {
    assert.equal(second.status, 200);
    // Still too new for a tag: none could tell it from the next rewrite.
    assert.equal(fieldOf(second, "etag"), undefined);
    // And it is the new file that is streamed.
    const body = second.body as { file: Deno.FsFile; offset: number };
    const bytes = new Uint8Array(16);
    body.file.seekSync(body.offset, Deno.SeekMode.Start);
    body.file.readSync(bytes);
    assert.deepEqual(bytes, new Uint8Array(16).fill(2));
  } finally {
    release(second);
  }
});

Deno.test("createFileHandler() keeps Vary on 412 and 416, and Accept-Ranges on 416, but not Cache-Control", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/app.js`, "let a = 1;\n");
  Deno.writeTextFileSync(`${dir.path}/app.js.gz`, "not really gzip");
  const handle = createFileHandler({
    root: dir.path,
    cacheControl: "max-age=60",
  });
  const failed = await handle(getHead("/app.js", 'If-Match: "other"'));
  const unsatisfiable = await handle(getHead("/app.js", "Range: bytes=999-"));
  assert.equal(failed.status, 412);
  assert.equal(unsatisfiable.status, 416);
  for (const response of [failed, unsatisfiable]) {
    assert.equal(fieldOf(response, "vary"), "Accept-Encoding");
    // A shared cache would keep a refusal with the file's freshness and
    // answer every request for the URL with it.
    assert.equal(fieldOf(response, "cache-control"), undefined);
  }
  assert.equal(fieldOf(unsatisfiable, "accept-ranges"), "bytes");
  assert.equal(fieldOf(unsatisfiable, "content-range"), "bytes */11");
  // The same file's other answers keep it.
  const ok = await handle(getHead("/app.js"));
  const notModified = await handle(
    getHead("/app.js", `If-None-Match: ${fieldOf(ok, "etag")}`),
  );
  assert.deepEqual([ok.status, notModified.status], [200, 304]);
  assert.equal(fieldOf(ok, "cache-control"), "max-age=60");
  assert.equal(fieldOf(notModified, "cache-control"), "max-age=60");
});

Deno.test("createFileHandler() frames a small file's GET in place, with room for a long Cache-Control", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "small\n");
  const cacheControl = `public, max-age=60, ${"x".repeat(400)}`;
  const handle = createFileHandler({ root: dir.path, cacheControl });
  const get = await handle(getHead("/a.txt"));
  assert.ok(get.frame !== undefined, "a GET carries the frame");
  assert.equal(get.body, get.frame.body);
  tick();
  const whole = get.frame.whole(get, true);
  assert.equal(whole?.buffer, get.frame.body.buffer, "the head fits its room");
  assert.ok(
    decoder.decode(whole).includes(`Cache-Control: ${cacheControl}\r\n`),
  );
  const head = await handle({ ...getHead("/a.txt"), method: "HEAD" });
  assert.equal(head.frame, undefined, "a HEAD has no body to frame");
});

Deno.test("createFileHandler() keeps file contents within cacheBytes", async () => {
  using dir = tempDir();
  const names = ["a", "b", "c", "d"];
  for (const name of names) {
    Deno.writeFileSync(`${dir.path}/${name}`, new Uint8Array(1000));
  }
  // Kept, the bytes are the very same object from one answer to the next.
  const sameTwice = async (cacheBytes: number | undefined) => {
    const handle = createFileHandler({ root: dir.path, cacheBytes });
    const first = await handle(getHead("/a"));
    for (const name of names.slice(1)) await handle(getHead(`/${name}`));
    return (await handle(getHead("/a"))).body === first.body;
  };
  assert.ok(await sameTwice(undefined), "all fit the default budget");
  // Each file counts with its head room (about 1.45 KB); a budget must hold
  // three of the largest held, so this one holds three, not four.
  assert.ok(!await sameTwice(4500), "room for three files");
});

Deno.test("createFileHandler() keeps a HEAD's complete answer apart from the GET's", async () => {
  // A connection keeps the bytes it built in the response's wire for the
  // rest of the second (when the frame is busy, or there is none): a GET's
  // bytes sent for a HEAD would carry a body, a HEAD's for a GET none.
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "small\n");
  const handle = createFileHandler({ root: dir.path });
  const get = await handle(getHead("/a.txt"));
  const head = await handle({ ...getHead("/a.txt"), method: "HEAD" });
  assert.ok(get.wire !== undefined && head.wire !== undefined);
  assert.notEqual(head.wire, get.wire);
});

Deno.test("createFileHandler() answers 403 when a big file it trusted turns unreadable", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  // The cache's open describes the file; every open after it is refused
  // (tests run as root, whom no mode stops: staged).
  let calls = 0;
  const open: OpenFile = (file) =>
    file === path && ++calls > 1
      ? Promise.reject(new Deno.errors.PermissionDenied("Staged: unreadable"))
      : Deno.open(file);
  const handle = createFileHandler({ root: dir.path, open });
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.equal(response.status, 403);
  assert.ok(calls > 2, "checked again, then refused again");
});

Deno.test("createFileHandler() answers 403 when a settled big file's open is refused though its stat is unchanged", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array(BIG));
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  // Settled (its ctime 2 s old), the file is checked again by its stat
  // alone, which a refusal by policy (an LSM rule, a sandbox) leaves as it
  // was: the request's own open is what fails, twice.
  await sleep(2_100);
  let calls = 0;
  const open: OpenFile = (file) =>
    file === path && ++calls > 1
      ? Promise.reject(new Deno.errors.PermissionDenied("Staged: refused"))
      : Deno.open(file);
  const handle = createFileHandler({ root: dir.path, open });
  const response = await handle(getHead("/big.bin"));
  release(response);
  assert.equal(response.status, 403);
  assert.equal(calls, 3, "described once, then refused, checked, refused");
});

Deno.test("createFileHandler() closes a big file it answers 412 or 416 for", async () => {
  using dir = tempDir();
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(BIG));
  const handle = createFileHandler({ root: dir.path });
  release(await handle(getHead("/big.bin")));
  const before = openDescriptors();
  const failed = await handle(getHead("/big.bin", 'If-Match: "other"'));
  const unsatisfiable = await handle(
    getHead("/big.bin", `Range: bytes=${BIG}-`),
  );
  assert.equal(failed.status, 412);
  assert.equal(unsatisfiable.status, 416);
  assert.equal(openDescriptors(), before, "no file left open");
});

Deno.test("createFileHandler() used on its own, with no server ticking the clock, sees a changed file", async () => {
  using dir = tempDir();
  const path = `${dir.path}/alone.txt`;
  Deno.writeTextFileSync(path, "first");
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/alone.txt"));
  release(first);
  assert.equal(first.contentLength, 5);
  Deno.writeTextFileSync(path, "second version");
  // Past the cache's staleness bound and into another second; nothing
  // here calls tick().
  await sleep(1000 - (Date.now() % 1000) + 520);
  const second = await handle(getHead("/alone.txt"));
  release(second);
  assert.equal(second.contentLength, 14);
});
