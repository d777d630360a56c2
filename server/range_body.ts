/**
 * Streams a `multipart/byteranges` body: each part's head, then its range of
 * the file read through {@linkcode readFileRange}, then the closing
 * delimiter.
 *
 * @module
 */

import type { MultipartByteranges } from "../protocol/multipart.ts";
import { readFileRange } from "./file_stream.ts";

/**
 * Receives the body bytes. The chunk may be a view into a buffer that is
 * reused as soon as the returned promise settles: write or copy it before
 * that.
 */
export type BodySink = (chunk: Uint8Array) => Promise<void>;

/**
 * Writes a `multipart/byteranges` body: each part's head, then its range
 * from `file`, then the closing delimiter, exactly
 * `multipart.contentLength` bytes in all, and resolves to true. If the file
 * ends inside a range (it shrank after its `stat`), it stops there and
 * resolves to false: the framing can no longer be honoured, and the caller
 * must close the connection rather than let the client take a short body.
 * It never writes more than a range, even if the file grew.
 *
 * @example
 * ```ts
 * import { writeMultipartRanges } from "./range_body.ts";
 * import { createMultipartByteranges } from "../protocol/multipart.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "0123456789");
 * using file = await Deno.open(path);
 * const multipart = createMultipartByteranges({
 *   boundary: "B",
 *   contentType: "text/plain",
 *   ranges: [{ start: 0, end: 1 }, { start: 8, end: 9 }],
 *   size: 10,
 * });
 * let body = "";
 * const whole = await writeMultipartRanges(file, multipart, async (chunk) => {
 *   body += new TextDecoder().decode(chunk);
 * });
 * assert.equal(whole, true);
 * assert.equal(body.length, multipart.contentLength);
 * assert.match(body, /Content-Range: bytes 8-9\/10\r\n\r\n89\r\n--B--\r\n$/);
 * await Deno.remove(path);
 * ```
 */
export async function writeMultipartRanges(
  file: Deno.FsFile,
  multipart: MultipartByteranges,
  sink: BodySink,
): Promise<boolean> {
  for (const part of multipart.parts) {
    await sink(part.head);
    const { start, end } = part.range;
    // readFileRange() seeks to `start` first, so parts may come in any order.
    let position = start;
    for await (const chunk of readFileRange(file, start, end - start + 1)) {
      await sink(chunk);
      position += chunk.length;
    }
    if (position <= end) return false;
  }
  await sink(multipart.tail);
  return true;
}

/**
 * Generates a `multipart/byteranges` boundary: 32 random hex digits, a
 * token, so that it needs no quoting and cannot plausibly occur in a file.
 *
 * @example
 * ```ts
 * import { createBoundary } from "./range_body.ts";
 * import assert from "node:assert/strict";
 * assert.match(createBoundary(), /^[0-9a-f]{32}$/);
 * ```
 */
export function createBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
