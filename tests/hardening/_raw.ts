/**
 * Raw TCP client helpers for the black-box hardening tests.
 *
 * Everything here talks bytes over `Deno.connect` so that nothing between the
 * test and the server normalises a request. Every wait is bounded: a read
 * that outlives its deadline closes the connection instead of hanging.
 *
 * @module
 */

import { bytesOf, concat, quote, sleep } from "./_bytes.ts";
import {
  parseOneResponse,
  parseReplyStream,
  type RawResponse,
} from "./_response.ts";

export * from "./_bytes.ts";
export * from "./_response.ts";

/** The only address any hardening test or tool ever targets. */
export const LOOPBACK = "127.0.0.1";

/** How a read loop ended. */
export type ReadEnd = "close" | "reset" | "deadline" | "limit";

/** What {@linkcode RawClient.readUntilClose} collected. */
export interface ReadResult {
  /** Every byte received, in order. */
  bytes: Uint8Array;
  /** Why reading stopped. */
  end: ReadEnd;
}

/** Options for {@linkcode RawClient.readUntilClose}. */
export interface ReadUntilCloseOptions {
  /**
   * Give up (and close the connection) after this many milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Stop once this many bytes have arrived.
   * @default 67108864
   */
  maxBytes?: number;
  /**
   * Keep only the first `keepBytes` bytes (the rest are counted, not kept),
   * so a test can drain a large body without holding it.
   * @default Infinity
   */
  keepBytes?: number;
}

/** Errors that mean the peer went away; they end a read or write cleanly. */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}

/**
 * One raw TCP connection with bounded reads.
 *
 * A read is never abandoned: when a timed read gives up, the pending
 * `conn.read()` is kept and the next read continues it, so no byte is lost
 * and no operation is left pending for the ops sanitizer to report.
 */
export class RawClient {
  readonly #conn: Deno.TcpConn;
  #closed = false;
  #pending: Promise<Uint8Array | null | Error> | undefined;
  /** Bytes received but not yet consumed by a response parser. */
  #buffered: Uint8Array = new Uint8Array(0);
  /** Set once the peer closed or reset, so later reads return at once. */
  #eof: "close" | "reset" | undefined;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `127.0.0.1:port`. */
  static async open(port: number): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: LOOPBACK, port });
    return new RawClient(conn);
  }

  /** Whether the client has closed its side. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes all of `data`. Returns false when the peer has already gone
   * (reset or broken pipe), which hostile inputs are allowed to cause.
   */
  async write(data: Uint8Array | string): Promise<boolean> {
    if (this.#closed) return false;
    let bytes = typeof data === "string" ? bytesOf(data) : data;
    try {
      while (bytes.length > 0) {
        const n = await this.#conn.write(bytes);
        bytes = bytes.subarray(n);
      }
      return true;
    } catch (error) {
      if (isPeerGone(error) || error instanceof Deno.errors.BadResource) {
        return false;
      }
      throw error;
    }
  }

  /**
   * Writes `data` in segments of the given sizes with a short pause between
   * them, so the server sees them as separate reads. The last segment takes
   * whatever is left.
   */
  async writeSegments(
    data: Uint8Array,
    sizes: readonly number[],
    pauseMs = 1,
  ): Promise<boolean> {
    let at = 0;
    for (const size of sizes) {
      if (at >= data.length) break;
      if (!await this.write(data.subarray(at, at + size))) return false;
      at += size;
      await sleep(pauseMs);
    }
    if (at < data.length) return await this.write(data.subarray(at));
    return true;
  }

  /** Half-closes: the server reads end of stream, replies can still arrive. */
  async closeWrite(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      if (!isPeerGone(error) && !(error instanceof Deno.errors.BadResource)) {
        throw error;
      }
    }
  }

  /** Closes the connection; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** Closes the connection and waits for a pending read to settle. */
  async dispose(): Promise<void> {
    this.close();
    if (this.#pending !== undefined) {
      await this.#pending;
      this.#pending = undefined;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /** Starts (or continues) one read; never rejects. */
  #readOnce(): Promise<Uint8Array | null | Error> {
    if (this.#pending === undefined) {
      const buffer = new Uint8Array(64 * 1024);
      this.#pending = this.#conn.read(buffer).then(
        (n) => (n === null ? null : buffer.subarray(0, n)),
        (error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
      );
    }
    return this.#pending;
  }

  /**
   * Reads one chunk within `timeoutMs`. Returns the bytes, `"close"` or
   * `"reset"` at end of stream, or `"timeout"` while the read stays pending.
   */
  async readChunk(
    timeoutMs: number,
  ): Promise<Uint8Array | "close" | "reset" | "timeout"> {
    if (this.#buffered.length > 0) {
      const out = this.#buffered;
      this.#buffered = new Uint8Array(0);
      return out;
    }
    if (this.#eof !== undefined) return this.#eof;
    if (this.#closed) return "close";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const result = await Promise.race([this.#readOnce(), timeout]);
    clearTimeout(timer);
    if (result === "timeout") return "timeout";
    this.#pending = undefined;
    if (result === null) {
      this.#eof = "close";
      return "close";
    }
    if (result instanceof Error) {
      if (isPeerGone(result)) {
        this.#eof = "reset";
        return "reset";
      }
      if (this.#closed) return "close";
      throw result;
    }
    return result;
  }

  /**
   * Reads until the peer closes, the deadline passes or `maxBytes` arrive.
   * At the deadline the connection is closed by the client.
   */
  async readUntilClose(options: ReadUntilCloseOptions = {}): Promise<
    ReadResult & { total: number }
  > {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    const keepBytes = options.keepBytes ?? Infinity;
    const deadline = Date.now() + timeoutMs;
    const parts: Uint8Array[] = [];
    let kept = 0;
    let total = 0;
    while (true) {
      const left = deadline - Date.now();
      if (left <= 0) {
        await this.dispose();
        return { bytes: concat(parts), end: "deadline", total };
      }
      const chunk = await this.readChunk(left);
      if (chunk === "timeout") continue;
      if (chunk === "close" || chunk === "reset") {
        return { bytes: concat(parts), end: chunk, total };
      }
      total += chunk.length;
      if (kept < keepBytes) {
        const slice = chunk.subarray(
          0,
          Math.min(chunk.length, keepBytes - kept),
        );
        parts.push(slice.slice());
        kept += slice.length;
      }
      if (total >= maxBytes) {
        return { bytes: concat(parts), end: "limit", total };
      }
    }
  }

  /**
   * Reads exactly one response within `timeoutMs`. Bytes after it stay
   * buffered for the next call, so pipelined responses can be read in turn.
   * Returns the end of stream kind when the peer closes before a response
   * starts, and throws on a malformed or truncated response or a timeout.
   */
  async readResponse(
    options: { timeoutMs?: number; head?: boolean } = {},
  ): Promise<RawResponse | "close" | "reset"> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let data: Uint8Array = new Uint8Array(0);
    while (true) {
      const parsed = data.length > 0
        ? parseOneResponse(data, { head: options.head ?? false })
        : undefined;
      if (parsed !== undefined) {
        if (typeof parsed === "string") {
          throw new Error(`Malformed response: ${parsed}: ${quote(data)}`);
        }
        this.#buffered = data.subarray(parsed.size);
        return parsed.response;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        await this.dispose();
        throw new Error(
          `No complete response before the deadline: ${quote(data)}`,
        );
      }
      const chunk = await this.readChunk(left);
      if (chunk === "timeout") continue;
      if (chunk === "close" || chunk === "reset") {
        if (data.length === 0) return chunk;
        throw new Error(
          `Connection ended (${chunk}) inside a response: ${quote(data)}`,
        );
      }
      data = concat([data, chunk]);
    }
  }
}

/** Options for {@linkcode exchange}. */
export interface ExchangeOptions extends ReadUntilCloseOptions {
  /** Half-close after writing, so the server sees end of stream. */
  closeWrite?: boolean;
}

/**
 * Sends `request` on a fresh connection and reads until the server closes
 * (or the deadline). The connection is always closed afterwards.
 */
export async function exchange(
  port: number,
  request: Uint8Array | string,
  options: ExchangeOptions = {},
): Promise<ReadResult & { total: number }> {
  await using client = await RawClient.open(port);
  await client.write(request);
  if (options.closeWrite) await client.closeWrite();
  return await client.readUntilClose(options);
}

/**
 * GETs `path` with `Connection: close` and returns the single response.
 * Throws when the reply is not exactly one well-formed response.
 */
export async function fetchRaw(
  port: number,
  path: string,
  options: { timeoutMs?: number; method?: string } = {},
): Promise<RawResponse> {
  const method = options.method ?? "GET";
  const request = `${method} ${path} HTTP/1.1\r\nHost: ${LOOPBACK}\r\n` +
    `Connection: close\r\n\r\n`;
  const result = await exchange(port, request, {
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  if (result.end === "deadline") {
    throw new Error(`No reply to ${method} ${path} before the deadline`);
  }
  const parsed = method === "HEAD"
    ? parseOneResponse(result.bytes, { head: true, final: true })
    : parseReplyStream(result.bytes);
  if (parsed === undefined || typeof parsed === "string") {
    throw new Error(
      `Bad reply to ${method} ${path}: ${parsed}: ${quote(result.bytes)}`,
    );
  }
  if (Array.isArray(parsed)) {
    if (parsed.length !== 1) {
      throw new Error(
        `Expected one response, got ${parsed.length}: ${quote(result.bytes)}`,
      );
    }
    return parsed[0];
  }
  return parsed.response;
}
