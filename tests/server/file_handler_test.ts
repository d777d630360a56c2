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

Deno.test("createFileHandler() gives a big file rewritten under its old mtime a new ETag at once", async () => {
  using dir = tempDir();
  const path = `${dir.path}/big.bin`;
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1).fill(1));
  const old = new Date(Date.now() - 60_000);
  Deno.utimeSync(path, old, old);
  const handle = createFileHandler({ root: dir.path });
  const first = await handle(getHead("/big.bin"));
  release(first);
  // A later second of ctime, the only trace of a rewrite that puts the
  // mtime back; the cache still trusts its entry, the open file's stat
  // tells.
  await sleep(1100);
  Deno.writeFileSync(path, new Uint8Array((1 << 20) + 1).fill(2));
  Deno.utimeSync(path, old, old);
  const second = await handle(getHead("/big.bin"));
  release(second);
  assert.equal(
    fieldOf(second, "last-modified"),
    fieldOf(first, "last-modified"),
  );
  assert.notEqual(fieldOf(second, "etag"), fieldOf(first, "etag"));
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

Deno.test("createFileHandler() checks a big file again when its open hangs", async () => {
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
  assert.equal(response.status, 403, "the FIFO, found by a new stat");
  const late = await fifo.release();
  assert.throws(() => late!.statSync(), Deno.errors.BadResource, "closed");
});
