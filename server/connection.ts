/**
 * One client connection: requests read through the parser pipeline,
 * answered in order, with deadlines for every phase so no client can hold a
 * connection open without making progress.
 *
 * @module
 */

import { RequestError } from "../protocol/errors.ts";
import type { HeadLimits } from "../protocol/limits.ts";
import { getField, type RequestHead } from "../protocol/request_head.ts";
import { readRequests } from "../protocol/request_reader.ts";
import { formatResponseHead } from "../protocol/response_head.ts";
import type { AccessLog } from "./access_log.ts";
import { currentHttpDate } from "./clock.ts";
import { type ErrorReporter, isDisconnect } from "./error_report.ts";
import type { Handler } from "./file_handler.ts";
import { errorResponse, type FileBody, type Response } from "./response.ts";
import { SERVER_NAME } from "./version.ts";

/** Options for {@linkcode Connection}. */
export interface ConnectionOptions {
  handler: Handler;
  /** Where exchanges are logged; none when undefined. */
  log: AccessLog | undefined;
  report: ErrorReporter;
  /** Time allowed for a whole request head (and for a new connection's first one). */
  headerTimeoutMs: number;
  /** Time an idle keep-alive connection, or a stalled send, is kept. */
  idleTimeoutMs: number;
  limits?: HeadLimits;
}

/**
 * What the connection is doing, which decides what its deadline means:
 * waiting for a request (idle), receiving a head (head), answering (busy),
 * or draining the client's leftovers before closing (lingering).
 */
type Phase = "idle" | "head" | "busy" | "lingering" | "closed";

/** Files up to this size go out in the same write as their head. */
const SINGLE_WRITE_LIMIT = 65536;
/** How long, and how much, a closing connection reads and discards. */
const LINGER_MS = 2000;
const LINGER_BYTES = 1 << 20;

const encoder = new TextEncoder();

/** One accepted connection, served until either side ends it. */
export class Connection {
  readonly #conn: Deno.TcpConn;
  readonly #options: ConnectionOptions;
  readonly #client: string;
  #phase: Phase = "idle";
  #deadline: number;
  #requests = 0;
  #draining = false;

  constructor(conn: Deno.TcpConn, options: ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#client = (conn.remoteAddr as Deno.NetAddr).hostname ?? "-";
    this.#deadline = performance.now() + options.headerTimeoutMs;
  }

  /** Serves requests until the connection ends; never throws. */
  async serve(): Promise<void> {
    try {
      // Header and body go out in separate writes for big files; without
      // TCP_NODELAY, Nagle and delayed ACKs add 40 ms to such responses.
      this.#conn.setNoDelay(true);
      await this.#serveRequests();
    } catch (error) {
      if (error instanceof RequestError) await this.#refuse(error);
      else if (!isDisconnect(error) && this.#phase !== "closed") {
        this.#options.report("connection", error);
      }
    } finally {
      this.#close();
    }
  }

  /**
   * Called periodically: ends the connection if its current phase has
   * outlived its deadline (a 408 for an unfinished head).
   */
  expire(now: number): void {
    if (now < this.#deadline || this.#phase === "closed") return;
    if (this.#phase === "head") {
      this.#phase = "lingering"; // nothing else writes from here on
      const error = new RequestError(
        "RequestTimeout",
        "Request head not received in time",
      );
      this.#send(errorResponse(error.status, "GET"), undefined, false)
        .catch(() => {})
        .finally(() => this.#close());
    } else {
      this.#close();
    }
  }

  /** Stops keep-alive: an idle connection closes now, a busy one after its response. */
  drain(): void {
    this.#draining = true;
    if (this.#phase === "idle") this.#close();
  }

  /** Closes at once, whatever the phase. */
  abort(): void {
    this.#close();
  }

  async #serveRequests(): Promise<void> {
    const requests = readRequests(this.#conn, {
      limits: this.#options.limits,
      onIdle: () => {
        // The first request of a connection gets the header deadline from
        // accept; later ones wait as idle keep-alive first.
        if (this.#requests > 0) {
          this.#enter("idle", this.#options.idleTimeoutMs);
        }
        if (this.#draining) this.#close();
      },
      onHeadStart: () => {
        if (this.#requests > 0) {
          this.#enter("head", this.#options.headerTimeoutMs);
        } else this.#phase = "head";
      },
    });
    for await (const head of requests) {
      this.#requests++;
      this.#enter("busy", this.#options.idleTimeoutMs);
      let response: Response;
      try {
        response = await this.#options.handler(head);
      } catch (error) {
        if (!(error instanceof RequestError)) {
          this.#options.report("handler", error);
        }
        const status = error instanceof RequestError ? error.status : 500;
        response = errorResponse(status, head.method, [], true);
      }
      const keepAlive = head.keepAlive && !response.close && !this.#draining;
      const complete = await this.#send(response, head, keepAlive);
      if (!keepAlive || !complete) {
        // A body we did not read may still be arriving: closing on it would
        // reset the connection and could destroy the answer in flight.
        if (
          complete && (head.contentLength > 0 || head.chunked || response.close)
        ) {
          await this.#linger();
        }
        return;
      }
    }
  }

  /** Answers a request that could not be parsed, then closes gracefully. */
  async #refuse(error: RequestError): Promise<void> {
    if (this.#phase === "closed" || this.#phase === "lingering") return;
    this.#enter("busy", this.#options.idleTimeoutMs);
    try {
      await this.#send(errorResponse(error.status, "GET"), undefined, false);
      await this.#linger();
    } catch {
      // The client is gone; there is nobody left to tell.
    }
  }

  /**
   * Writes one response. Resolves to false when the body came out shorter
   * than announced (the file shrank), which breaks the framing.
   */
  async #send(
    response: Response,
    head: RequestHead | undefined,
    keepAlive: boolean,
  ): Promise<boolean> {
    const fields = [
      "Server",
      SERVER_NAME,
      "Date",
      currentHttpDate(),
      ...response.fields,
    ];
    if (response.contentLength !== undefined) {
      fields.push("Content-Length", String(response.contentLength));
    }
    fields.push("Connection", keepAlive ? "keep-alive" : "close");
    const headBytes = encoder.encode(
      formatResponseHead(response.status, fields),
    );
    const body = response.body;
    let sent = 0;
    if (body === undefined) {
      await this.#write(headBytes);
    } else if (body instanceof Uint8Array) {
      const bytes = new Uint8Array(headBytes.length + body.length);
      bytes.set(headBytes);
      bytes.set(body, headBytes.length);
      await this.#write(bytes);
      sent = body.length;
    } else {
      sent = await this.#sendFile(headBytes, body);
    }
    if (this.#options.log !== undefined) {
      this.#options.log.record({
        client: this.#client,
        requestLine: head &&
          `${head.method} ${head.target} HTTP/1.${head.minorVersion}`,
        status: response.status,
        bytes: sent,
        referer: head && getField(head, "referer"),
        userAgent: head && getField(head, "user-agent"),
      });
    }
    return body === undefined || body instanceof Uint8Array ||
      sent === body.length;
  }

  /** Streams a file after its head; resolves to the body bytes sent. */
  async #sendFile(headBytes: Uint8Array, body: FileBody): Promise<number> {
    const { file, length } = body;
    try {
      if (length <= SINGLE_WRITE_LIMIT) {
        const bytes = new Uint8Array(headBytes.length + length);
        bytes.set(headBytes);
        let filled = 0;
        while (filled < length) {
          const n = await file.read(bytes.subarray(headBytes.length + filled));
          if (n === null) break;
          filled += n;
        }
        await this.#write(bytes.subarray(0, headBytes.length + filled));
        return filled;
      }
      await this.#write(headBytes);
      let sent = 0;
      for await (const chunk of file.readable) {
        // Never more than announced, even if the file grew meanwhile.
        const part = chunk.length <= length - sent
          ? chunk
          : chunk.subarray(0, length - sent);
        await this.#write(part);
        sent += part.length;
        if (sent === length) break;
      }
      return sent;
    } finally {
      closeQuietly(file);
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      // A send that makes no progress for the idle timeout ends the connection.
      this.#deadline = performance.now() + this.#options.idleTimeoutMs;
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  /**
   * Half-closes, then reads and discards what the client still sends, for a
   * bounded time and amount, so our last answer is not lost to a reset.
   */
  async #linger(): Promise<void> {
    this.#enter("lingering", LINGER_MS);
    try {
      await this.#conn.closeWrite();
      const scratch = new Uint8Array(16384);
      let total = 0;
      while (total < LINGER_BYTES) {
        const n = await this.#conn.read(scratch);
        if (n === null) break;
        total += n;
      }
    } catch {
      // Reset or closed by the deadline: either way we are done.
    }
  }

  #enter(phase: Phase, timeoutMs: number): void {
    if (this.#phase === "closed") return;
    this.#phase = phase;
    this.#deadline = performance.now() + timeoutMs;
  }

  #close(): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's reset.
    }
  }
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // The readable stream closes its file at its end; closing twice is fine.
  }
}
