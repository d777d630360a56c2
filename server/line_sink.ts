/**
 * Ordered, bounded writing of text to a byte stream such as stderr, stdout
 * or a pipe. A destination that stops reading (a full pipe, a stalled log
 * shipper) costs lost lines, counted and reported once it reads again: never
 * memory without bound, and never a blocked caller, since no one has to wait
 * for a write to happen.
 *
 * @module
 */

import { settledWithin } from "./_within.ts";

/** Where a sink's bytes go: what `Deno.stdout` and `Deno.stderr` offer. */
export interface ByteWriter {
  /** Writes some of `bytes`, returning how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** A destination for whole lines of text, written in call order. */
export interface LineSink {
  /**
   * Queues `text`, one or more whole lines, after every earlier write. The
   * promise resolves once the text is written (if it was dropped, once the
   * text queued before it is written) and never rejects; callers need not
   * wait for it.
   */
  write(text: string): Promise<void>;
}

/** Options for {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /**
   * Most text waiting behind the write under way, in UTF-16 code units
   * (bytes, for ASCII); text that would go beyond is dropped. What is
   * held is at most twice this: the waiting text and the write.
   *
   * @default {1048576}
   */
  maxPendingBytes?: number;
  /**
   * Told how many lines were dropped: once the destination has taken
   * everything queued, and at most once a second while it stays behind.
   * An exception it throws is ignored.
   *
   * @default {a line written to the sink itself}
   */
  onDrop?: (lines: number) => void;
}

const encoder = new TextEncoder();

/** Text queued for one write, and who waits for it. */
interface Batch {
  text: string;
  written: PromiseWithResolvers<void>;
}

/**
 * A {@linkcode LineSink} over a {@linkcode ByteWriter}: one write at a time,
 * each continued until all its bytes are taken, so lines from several
 * sources never interleave mid-line even when a write is partial. Text that
 * arrives while a write is under way is joined into the next one: a stalled
 * destination holds one string of at most the bound, not a promise per
 * line. A failing destination (a pipe closed on the other side) loses the
 * text silently: losing output must not take the process down.
 *
 * @example
 * ```ts
 * import { LineWriter } from "./line_sink.ts";
 * import assert from "node:assert/strict";
 * const chunks: Uint8Array[] = [];
 * const out = new LineWriter({
 *   write: (bytes) => (chunks.push(bytes), Promise.resolve(bytes.length)),
 * });
 * void out.write("one\n");
 * assert.equal(await out.drained(1000), true);
 * assert.equal(new TextDecoder().decode(chunks[0]), "one\n");
 * ```
 */
export class LineWriter implements LineSink {
  readonly #writer: ByteWriter;
  readonly #maxPendingBytes: number;
  readonly #onDrop: (lines: number) => void;
  /** Text waiting for the write under way to end. */
  #next: Batch | undefined;
  /** The loop that writes batches, while there are any. */
  #pumping: Promise<void> | undefined;
  #pendingBytes = 0;
  /** Lines dropped and not yet told of, and when that was last told. */
  #dropped = 0;
  #droppedToldAt = -Infinity;

  /** Creates a writer of lines to `writer`, which it alone should use. */
  constructor(writer: ByteWriter, options?: LineWriterOptions) {
    this.#writer = writer;
    this.#maxPendingBytes = options?.maxPendingBytes ?? 1 << 20;
    // The notice passes the bound: it is one short line, queued at most
    // once per write that ends.
    this.#onDrop = options?.onDrop ??
      ((lines) =>
        void this.#enqueue(
          `httpd.ts: output fell behind; ${lines} lines dropped\n`,
        ));
  }

  /** Text queued and not yet written: above 0 while the destination lags. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  write(text: string): Promise<void> {
    const waiting = this.#next?.text.length ?? 0;
    if (waiting + text.length > this.#maxPendingBytes) {
      this.#dropped += countLines(text);
      return this.#next?.written.promise ?? Promise.resolve();
    }
    return this.#enqueue(text);
  }

  /**
   * Whether everything queued so far was written within `ms` milliseconds,
   * with what the writing queues meanwhile (a drop notice): for a process
   * about to exit, which should not lose its last lines to a slow reader,
   * nor wait for ever on a stalled one.
   */
  drained(ms: number): Promise<boolean> {
    return this.#pumping === undefined
      ? Promise.resolve(true)
      : settledWithin(this.#pumping, ms);
  }

  #enqueue(text: string): Promise<void> {
    this.#pendingBytes += text.length;
    const batch = this.#next ??= {
      text: "",
      written: Promise.withResolvers<void>(),
    };
    batch.text += text;
    this.#pumping ??= this.#pump();
    return batch.written.promise;
  }

  async #pump(): Promise<void> {
    // Started from #enqueue: the first batch waits for its caller to return.
    await Promise.resolve();
    let batch: Batch | undefined;
    while ((batch = this.#next) !== undefined) {
      this.#next = undefined;
      try {
        await writeAll(this.#writer, encoder.encode(batch.text));
      } catch {
        // Nowhere left to report a failing destination.
      }
      this.#pendingBytes -= batch.text.length;
      batch.written.resolve();
      this.#tellDrops();
    }
    this.#pumping = undefined;
  }

  #tellDrops(): void {
    if (this.#dropped === 0) return;
    const now = performance.now();
    if (this.#pendingBytes === 0 || now - this.#droppedToldAt >= 1000) {
      const lines = this.#dropped;
      this.#dropped = 0;
      this.#droppedToldAt = now;
      try {
        this.#onDrop(lines);
      } catch {
        // A failing notice must not stop the output it is about.
      }
    }
  }
}

async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await writer.write(bytes.subarray(offset));
  }
}

/** Lines in `text`, a last one without its newline included. */
function countLines(text: string): number {
  let lines = 0;
  for (
    let at = text.indexOf("\n");
    at !== -1;
    at = text.indexOf("\n", at + 1)
  ) {
    lines++;
  }
  return text.endsWith("\n") || text === "" ? lines : lines + 1;
}
