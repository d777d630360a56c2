/**
 * The access log in Combined Log Format, buffered so that a line costs a
 * string append, not a write, and bounded so that a reader that falls
 * behind (a stalled pipe on stdout) costs lost lines, not memory.
 *
 * @module
 */

import { currentLogDate } from "./clock.ts";

/** Where log bytes go, e.g. `Deno.stdout`. */
export interface LogSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for {@linkcode AccessLog}. */
export interface AccessLogOptions {
  /** Flush after this many milliseconds at most. @default {200} */
  flushDelayMs?: number;
  /** Flush once this many characters are buffered. @default {65536} */
  flushSize?: number;
  /**
   * Most bytes handed to the sink and not yet written; lines beyond are
   * dropped. @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * Told how many lines were dropped: when the sink has caught up again,
   * and at most once a second while it stays behind.
   * @default a line on stderr
   */
  onDrop?: (lines: number) => void;
}

/** One exchange, as the log records it. */
export interface LogEntry {
  /** Client address. */
  client: string;
  /** `METHOD TARGET HTTP/1.x`, or undefined when no request line was read. */
  requestLine: string | undefined;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

const encoder = new TextEncoder();

/**
 * A buffered Combined Log Format writer.
 *
 * @example
 * ```ts
 * import { AccessLog } from "./access_log.ts";
 * import assert from "node:assert/strict";
 * const chunks: Uint8Array[] = [];
 * const log = new AccessLog({ write: (b) => (chunks.push(b), Promise.resolve(b.length)) });
 * log.record({ client: "127.0.0.1", requestLine: "GET / HTTP/1.1", status: 200, bytes: 5, referer: undefined, userAgent: 'x"y' });
 * await log.flush();
 * const line = new TextDecoder().decode(chunks[0]);
 * assert.match(line, /^127\.0\.0\.1 - - \[.+\] "GET \/ HTTP\/1\.1" 200 5 "-" "x\\x22y"\n$/);
 * ```
 */
export class AccessLog {
  readonly #sink: LogSink;
  #buffer = "";
  /** Lines in the buffer. */
  #lines = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Bytes handed to the chain of writes and not yet written. */
  #pending = 0;
  /** Lines dropped and not yet told of, and when that was last told. */
  #dropped = 0;
  #droppedToldAt = -Infinity;
  readonly #flushDelayMs: number;
  readonly #flushSize: number;
  readonly #maxPendingBytes: number;
  readonly #onDrop: (lines: number) => void;

  constructor(sink: LogSink, options?: AccessLogOptions) {
    this.#sink = sink;
    this.#flushDelayMs = options?.flushDelayMs ?? 200;
    this.#flushSize = options?.flushSize ?? 65536;
    this.#maxPendingBytes = options?.maxPendingBytes ?? 4 << 20;
    this.#onDrop = options?.onDrop ??
      ((lines) =>
        console.error(
          `httpd.ts: access log fell behind; ${lines} lines dropped`,
        ));
  }

  /** Appends one line; it is written within the flush delay. */
  record(entry: LogEntry): void {
    this.#buffer += `${entry.client} - - [${currentLogDate()}] "${
      quote(entry.requestLine)
    }" ${entry.status} ${entry.bytes > 0 ? entry.bytes : "-"} "${
      quote(entry.referer)
    }" "${quote(entry.userAgent)}"\n`;
    this.#lines++;
    if (this.#buffer.length >= this.#flushSize) this.flush();
    else if (this.#timer === undefined) {
      const timer = setTimeout(() => this.flush(), this.#flushDelayMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Writes whatever is buffered; resolves when it is written. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buffer.length === 0) return this.#writing;
    const bytes = encoder.encode(this.#buffer);
    const lines = this.#lines;
    this.#buffer = "";
    this.#lines = 0;
    if (this.#pending + bytes.length > this.#maxPendingBytes) {
      this.#dropped += lines;
      return this.#writing;
    }
    this.#pending += bytes.length;
    this.#writing = this.#writing.then(() => writeAll(this.#sink, bytes))
      .catch(() => {
        // A closed stdout must not take the server down; the lines are lost.
      })
      .finally(() => {
        this.#pending -= bytes.length;
        if (this.#dropped === 0) return;
        const now = performance.now();
        if (this.#pending === 0 || now - this.#droppedToldAt >= 1000) {
          this.#onDrop(this.#dropped);
          this.#dropped = 0;
          this.#droppedToldAt = now;
        }
      });
    return this.#writing;
  }
}

async function writeAll(sink: LogSink, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await sink.write(bytes.subarray(offset));
  }
}

// A log line must stay one line and unambiguous whatever the client sent.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f"\\\x7f-\xff]/g;

function quote(value: string | undefined): string {
  if (value === undefined || value === "") return "-";
  return value.replace(
    UNSAFE,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
