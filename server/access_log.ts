/**
 * The access log in Combined Log Format, buffered so that a line costs a
 * string append, not a write, and bounded so that a reader that falls
 * behind (a stalled pipe on stdout) costs lost lines, not memory.
 *
 * @module
 */

import { currentLogDate } from "./clock.ts";
import { type ByteWriter, LineWriter } from "./line_sink.ts";

const encoder = new TextEncoder();

/** Where log bytes go, e.g. `Deno.stdout`. */
export type LogSink = ByteWriter;

/** Options for {@linkcode AccessLog}. */
export interface AccessLogOptions {
  /**
   * Flush after this many milliseconds at most.
   *
   * @default {200}
   */
  flushDelayMs?: number;
  /**
   * Flush once this many characters are buffered.
   *
   * @default {65536}
   */
  flushSize?: number;
  /**
   * Most bytes handed to the sink and not yet written; lines beyond are
   * dropped.
   *
   * @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * Told how many lines were dropped: when the sink has caught up again,
   * and at most once a second while it stays behind.
   *
   * @default {a line on Deno.stderr}
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
  readonly #out: LineWriter;
  #buffer = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Settles once everything handed to `#out` so far is written. */
  #written: Promise<void> = Promise.resolve();
  readonly #flushDelayMs: number;
  readonly #flushSize: number;

  constructor(sink: LogSink, options?: AccessLogOptions) {
    this.#flushDelayMs = options?.flushDelayMs ?? 200;
    this.#flushSize = options?.flushSize ?? 65536;
    this.#out = new LineWriter(sink, {
      maxPendingBytes: options?.maxPendingBytes ?? 4 << 20,
      onDrop: options?.onDrop ?? ((lines) => {
        // Not synchronously: a stderr that is stalled too must not block.
        Deno.stderr.write(encoder.encode(
          `httpd.ts: access log fell behind; ${lines} lines dropped\n`,
        )).catch(() => {});
      }),
    });
  }

  /** Appends one line; it is written within the flush delay. */
  record(entry: LogEntry): void {
    this.#buffer += `${entry.client} - - [${currentLogDate()}] "${
      quote(entry.requestLine)
    }" ${entry.status} ${entry.bytes > 0 ? entry.bytes : "-"} "${
      quote(entry.referer)
    }" "${quote(entry.userAgent)}"\n`;
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
    if (this.#buffer.length === 0) return this.#written;
    this.#written = this.#out.write(this.#buffer);
    this.#buffer = "";
    return this.#written;
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
