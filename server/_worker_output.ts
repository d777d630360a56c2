/**
 * Line-by-line forwarding of worker output to the supervisor's own
 * stdout and stderr.
 *
 * @module
 */

/** A destination that writes whole chunks of text in call order. */
export interface LineSink {
  /** Queues `text` after every earlier write. */
  write(text: string): Promise<void>;
  /** Writes queued and not finished: above 0 while the destination lags. */
  readonly pending?: number;
}

/** The part of `Deno.stdout`/`Deno.stderr` a sink needs. */
export interface ByteWriter {
  /** Writes some of `bytes`, returning how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Creates a sink that serialises writes, so lines from several workers
 * never interleave mid-line even when a write is partial.
 *
 * Errors (for instance a closed pipe on the other side) are swallowed:
 * losing log output must not take the supervisor down.
 *
 * @example
 * ```ts
 * import { createLineSink } from "./_worker_output.ts";
 * const sink = createLineSink(Deno.stderr);
 * await sink.write("[w1] hello\n");
 * ```
 */
export function createLineSink(writer: ByteWriter): LineSink {
  const encoder = new TextEncoder();
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  return {
    get pending() {
      return pending;
    },
    write(text: string): Promise<void> {
      const bytes = encoder.encode(text);
      pending++;
      tail = tail.then(async () => {
        try {
          let written = 0;
          while (written < bytes.length) {
            written += await writer.write(bytes.subarray(written));
          }
        } catch {
          // Nowhere left to report a failing log destination.
        } finally {
          pending--;
        }
      });
      return tail;
    },
  };
}

/**
 * Reads `stream` to its end and writes each line to `sink` with `prefix`
 * in front, calling `onLine` with the bare line first; a line for which
 * `onLine` returns `false` is not written. A final line without a newline
 * is still forwarded.
 *
 * @example
 * ```ts
 * import { createLineSink, forwardLines } from "./_worker_output.ts";
 * const stream = ReadableStream.from([new TextEncoder().encode("a\nb\n")]);
 * await forwardLines(stream, "[w1] ", createLineSink(Deno.stdout));
 * // prints "[w1] a" and "[w1] b"
 * ```
 */
export async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  sink: LineSink,
  onLine?: (line: string) => boolean | void,
): Promise<void> {
  let pending = "";
  const emit = (lines: string[]): Promise<void> => {
    const kept = lines.filter((line) => onLine?.(line) !== false);
    if (kept.length === 0) return Promise.resolve();
    // One write per chunk keeps a busy access log cheap to forward.
    return sink.write(kept.map((line) => `${prefix}${line}\n`).join(""));
  };
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (pending + text).split("\n");
      pending = parts.pop() ?? "";
      await emit(parts.map(stripCarriageReturn));
    }
  } catch {
    // The pipe broke with the worker; what was read is still forwarded.
  }
  if (pending !== "") await emit([stripCarriageReturn(pending)]);
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
