/**
 * Line-by-line forwarding of worker output to the supervisor's own
 * stdout and stderr.
 *
 * @module
 */

import type { LineSink } from "./line_sink.ts";

/**
 * Reads `stream` to its end and writes each line to `sink` with `prefix`
 * in front, calling `onLine` with the bare line first; a line for which
 * `onLine` returns `false` is not written. A final line without a newline
 * is still forwarded.
 *
 * The stream is read as fast as it comes, whatever the sink's pace: a
 * sink that lags drops lines (a `LineWriter` does) rather than hold
 * the worker's pipe full, which would block the worker's own writes and
 * leave its heartbeats unread.
 *
 * @example
 * ```ts
 * import { forwardLines } from "./_worker_output.ts";
 * import { LineWriter } from "./line_sink.ts";
 * const stream = ReadableStream.from([new TextEncoder().encode("a\nb\n")]);
 * const stdout = new LineWriter(Deno.stdout);
 * await forwardLines(stream, "[w1] ", stdout);
 * await stdout.drained(1000);
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
  const emit = (lines: string[]): void => {
    const kept = lines.filter((line) => onLine?.(line) !== false);
    if (kept.length === 0) return;
    // One write per chunk keeps a busy access log cheap to forward.
    void sink.write(kept.map((line) => `${prefix}${line}\n`).join(""));
  };
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (pending + text).split("\n");
      pending = parts.pop() ?? "";
      emit(parts.map(stripCarriageReturn));
    }
  } catch {
    // The pipe broke with the worker; what was read is still forwarded.
  }
  if (pending !== "") emit([stripCarriageReturn(pending)]);
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/**
 * Terminal escape sequences (ECMA-48): CSI (colours, cursor and erase
 * codes), OSC (titles, links) ended by BEL or ST, and the short ones (a
 * character set, a reset).
 */
const ANSI_ESCAPE =
  // deno-lint-ignore no-control-regex
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-Z\\^-~])/g;

/**
 * Removes terminal escape sequences from `line`, so that a worker's line
 * quoted in one of the supervisor's own (why it failed to start) carries
 * no colour codes, which Deno writes into its error output even through a
 * pipe.
 *
 * @example
 * ```ts
 * import { stripAnsi } from "./_worker_output.ts";
 * stripAnsi("\x1b[1m\x1b[31merror\x1b[0m: boom"); // "error: boom"
 * ```
 */
export function stripAnsi(line: string): string {
  return line.replace(ANSI_ESCAPE, "");
}
