/**
 * Streams byte ranges of an open file to a sink, with a bounded reusable
 * buffer: seek, then read at most one buffer at a time, never the whole file.
 *
 * @module
 */

import type { MultipartByteranges } from "../protocol/multipart.ts";
import type { ByteRange } from "../protocol/range.ts";

/**
 * Receives the body bytes. The chunk is a view into a buffer that is reused
 * as soon as the returned promise settles: write or copy it before that.
 */
export type BodySink = (chunk: Uint8Array) => Promise<void>;

/** Options of `writeRange()` and `writeMultipartRanges()`. */
export interface RangeBodyOptions {
  /**
   * The buffer reads go through; pass one per connection to avoid an
   * allocation per response.
   * @default a new 64 KiB buffer
   */
  buffer?: Uint8Array;
}

/**
 * The file ended before the announced range did (it shrank after its
 * `stat`). The response's framing can no longer be honoured: the caller must
 * close the connection rather than let the client take a short body.
 */
export class ShortFileError extends Error {
  /** A stable code for logs. */
  readonly code = "SHORT_FILE";
  /** The offset one past the last byte that was expected. */
  readonly expectedEnd: number;
  /** The offset at which the file ended. */
  readonly actualEnd: number;

  constructor(expectedEnd: number, actualEnd: number) {
    super(
      `Cannot send range: file ended at byte ${actualEnd}, expected ${expectedEnd}`,
    );
    this.name = "ShortFileError";
    this.expectedEnd = expectedEnd;
    this.actualEnd = actualEnd;
  }
}

const DEFAULT_BUFFER_SIZE = 64 * 1024;

/**
 * Writes bytes `range.start` to `range.end` (inclusive) of `file` to `sink`.
 * Throws `ShortFileError` if the file ends first; it never writes more than
 * the range, even if the file grew.
 *
 * @example
 * ```ts
 * import { writeRange } from "./range_body.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello, world");
 * using file = await Deno.open(path);
 * const chunks: string[] = [];
 * await writeRange(file, { start: 7, end: 11 }, async (chunk) => {
 *   chunks.push(new TextDecoder().decode(chunk));
 * });
 * assert.equal(chunks.join(""), "world");
 * await Deno.remove(path);
 * ```
 */
export async function writeRange(
  file: Deno.FsFile,
  range: ByteRange,
  sink: BodySink,
  options: RangeBodyOptions = {},
): Promise<void> {
  const buffer = options.buffer ?? new Uint8Array(DEFAULT_BUFFER_SIZE);
  await copyRange(file, range, sink, buffer);
}

/**
 * Writes a `multipart/byteranges` body: each part's head, then its range
 * from `file`, then the closing delimiter, exactly
 * `multipart.contentLength` bytes in all unless it throws `ShortFileError`.
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
 * await writeMultipartRanges(file, multipart, async (chunk) => {
 *   body += new TextDecoder().decode(chunk);
 * });
 * assert.equal(body.length, multipart.contentLength);
 * assert.match(body, /Content-Range: bytes 8-9\/10\r\n\r\n89\r\n--B--\r\n$/);
 * await Deno.remove(path);
 * ```
 */
export async function writeMultipartRanges(
  file: Deno.FsFile,
  multipart: MultipartByteranges,
  sink: BodySink,
  options: RangeBodyOptions = {},
): Promise<void> {
  const buffer = options.buffer ?? new Uint8Array(DEFAULT_BUFFER_SIZE);
  for (const part of multipart.parts) {
    await sink(part.head);
    await copyRange(file, part.range, sink, buffer);
  }
  await sink(multipart.tail);
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

async function copyRange(
  file: Deno.FsFile,
  range: ByteRange,
  sink: BodySink,
  buffer: Uint8Array,
): Promise<void> {
  const end = range.end + 1;
  let position = range.start;
  await file.seek(position, Deno.SeekMode.Start);
  while (position < end) {
    const want = Math.min(buffer.length, end - position);
    const read = await file.read(buffer.subarray(0, want));
    if (read === null) throw new ShortFileError(end, position);
    // read() may return fewer bytes than asked without being at the end.
    await sink(buffer.subarray(0, read));
    position += read;
  }
}
