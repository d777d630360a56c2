/**
 * A readable stream over a stretch of an open file, read in large chunks.
 *
 * @module
 */

/** Options for {@linkcode readFileRange}. */
export interface ReadFileRangeOptions {
  /** Bytes per read. @default {262144} */
  chunkSize?: number;
}

/**
 * Streams `length` bytes of `file` from `offset`: never more, even if the
 * file grows meanwhile, and fewer only if it shrinks (the caller compares).
 *
 * The stream reuses one buffer and only reads when asked (high-water mark
 * 0), so each chunk is valid until the consumer asks for the next one: a
 * consumer that writes each chunk before reading on, as a connection does,
 * costs no allocation per chunk. Large reads are what makes streaming fast:
 * the per-read overhead of a 16 KiB chunk dominates at gigabytes a second.
 *
 * @example
 * ```ts
 * import { readFileRange } from "./file_stream.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "0123456789");
 * using file = await Deno.open(path);
 * let text = "";
 * for await (const chunk of readFileRange(file, 2, 5, { chunkSize: 2 })) {
 *   text += new TextDecoder().decode(chunk);
 * }
 * assert.equal(text, "23456");
 * await Deno.remove(path);
 * ```
 */
export function readFileRange(
  file: Deno.FsFile,
  offset: number,
  length: number,
  options?: ReadFileRangeOptions,
): ReadableStream<Uint8Array> {
  const buffer = new Uint8Array(
    Math.min(options?.chunkSize ?? 262144, Math.max(length, 1)),
  );
  let remaining = length;
  let positioned = offset === 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!positioned) {
        await file.seek(offset, Deno.SeekMode.Start);
        positioned = true;
      }
      if (remaining === 0) {
        controller.close();
        return;
      }
      const n = await file.read(
        buffer.subarray(0, Math.min(buffer.length, remaining)),
      );
      if (n === null || n === 0) {
        controller.close();
        return;
      }
      remaining -= n;
      controller.enqueue(buffer.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}
