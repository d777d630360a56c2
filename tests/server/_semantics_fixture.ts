/**
 * The document root and the request helpers of the semantics tests: the
 * committed fixtures plus generated files, all with one fixed modification
 * time so that date conditions are deterministic.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import {
  copyTree,
  RawClient,
  type RawResponse,
  REPO_ROOT,
  type TempDir,
  tempDir,
} from "./_harness.ts";

/** The committed fixtures: app.js (.br, .gz), style.css (.gz), plain.txt, ... */
export const SEMANTICS_WWW = `${REPO_ROOT}/tests/fixtures/semantics/www`;

/** Every fixture file's mtime: 2024-01-02 03:04:05.678 UTC (note the ms). */
export const FIXED_MTIME = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
/** `Last-Modified` for {@linkcode FIXED_MTIME}: the second, not the ms. */
export const FIXED_LAST_MODIFIED = "Tue, 02 Jan 2024 03:04:05 GMT";

/** Size of small.bin: under 64 KiB, so head and body go out in one write. */
export const SMALL_SIZE = 10_000;
/** Size of big.bin: over 64 KiB, so its body is written after its head. */
export const BIG_SIZE = 200 * 1024;
/**
 * Size of streamed.txt: over the file cache's 1 MiB limit for a file held
 * in memory, so each request opens it and streams its bytes from disk. (Its
 * bytes are random; the name gives it a type other than the default.)
 */
export const STREAMED_SIZE = (1 << 20) + 50_000;

/** A served file the tests know the bytes of. */
export interface ServedFile {
  /** Request target, e.g. `/small.bin`. */
  target: string;
  bytes: Uint8Array;
}

/** A temporary document root, removed on dispose. */
export interface SemanticsRoot extends TempDir {
  readonly root: string;
  /** The bytes of a file under the root, read now. */
  read(name: string): Uint8Array;
  /**
   * Resolves once the files are 2 s past their last change, when one the
   * cache does not hold (`streamed.txt`) gets its ETag.
   */
  settled(): Promise<void>;
}

/**
 * Builds the root: the committed fixtures, `trap.txt.gz/` as a directory
 * (git does not keep one reliably), `small.bin`, `big.bin` and
 * `streamed.txt` of pseudo-random bytes, `big.txt` with a `big.txt.gz` over
 * 64 KiB, `dir/index.html`, then sets every mtime to
 * {@linkcode FIXED_MTIME}.
 */
export function semanticsRoot(): SemanticsRoot {
  const dir = tempDir("httpd_semantics_");
  const root = `${dir.path}/www`;
  copyTree(SEMANTICS_WWW, root);
  Deno.mkdirSync(`${root}/trap.txt.gz`, { recursive: true });
  Deno.writeFileSync(`${root}/small.bin`, pseudoRandomBytes(SMALL_SIZE, 1));
  Deno.writeFileSync(`${root}/big.bin`, pseudoRandomBytes(BIG_SIZE, 2));
  Deno.writeFileSync(
    `${root}/streamed.txt`,
    pseudoRandomBytes(STREAMED_SIZE, 4),
  );
  // Text from random words compresses, but not below 64 KiB at 400 KiB.
  const big = pseudoRandomText(400 * 1024, 3);
  Deno.writeFileSync(`${root}/big.txt`, big);
  Deno.writeFileSync(`${root}/big.txt.gz`, gzipSync(big));
  Deno.mkdirSync(`${root}/dir`);
  Deno.writeTextFileSync(`${root}/dir/index.html`, "<p>dir index</p>\n");
  setMtimes(root, FIXED_MTIME);
  const builtAt = Date.now();
  return {
    ...dir,
    root,
    read: (name) => Deno.readFileSync(`${root}/${name}`),
    settled: () => settledAfter(builtAt),
    [Symbol.dispose]: dir[Symbol.dispose],
  };
}

/**
 * Resolves once a file changed at `changedMs` has settled: the server gives
 * a file it streams from disk no ETag until 2 s after its ctime's second.
 */
export function settledAfter(changedMs: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, changedMs + 2100 - Date.now()))
  );
}

function setMtimes(path: string, time: Date): void {
  for (const entry of Deno.readDirSync(path)) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory) setMtimes(child, time);
    Deno.utimeSync(child, time, time);
  }
}

/** Deterministic bytes (xorshift32), different for each seed. */
export function pseudoRandomBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function pseudoRandomText(size: number, seed: number): Uint8Array {
  const noise = pseudoRandomBytes(size, seed);
  const letters = "abcdefghijklmnopqrstuvwxyz      \n";
  return Uint8Array.from(noise, (b) => letters.charCodeAt(b % letters.length));
}

/** Request fields as name-value pairs, sent in order. */
export type Fields = readonly (readonly [string, string])[];

/** `METHOD target HTTP/1.1` with Host, `Connection: close` and `fields`. */
export function request(
  method: string,
  target: string,
  fields: Fields = [],
): string {
  let text = `${method} ${target} HTTP/1.1\r\nHost: test\r\n`;
  for (const [name, value] of fields) text += `${name}: ${value}\r\n`;
  return `${text}Connection: close\r\n\r\n`;
}

/** A response and whatever followed it before the server closed. */
export interface Exchange extends RawResponse {
  /** Bytes after the response (after its head for HEAD and 304): none expected. */
  after: Uint8Array;
}

/**
 * Sends one request on a new connection, reads the response (the head only
 * for HEAD) and then everything up to the server's close, so that a body
 * longer than announced, or one sent where none belongs, shows up in `after`.
 */
export async function exchange(
  port: number,
  method: string,
  target: string,
  fields: Fields = [],
): Promise<Exchange> {
  using client = await RawClient.connect(port);
  await client.send(request(method, target, fields));
  const response = await client.readResponse({ head: method === "HEAD" });
  const after = await client.readToEnd();
  return { ...response, after };
}

/** The bytes of a string as sent (one byte per character). */
export function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
