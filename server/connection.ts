/**
 * One client connection: requests read through the parser pipeline,
 * answered in order, with deadlines for every phase so no client can hold a
 * connection open without making progress.
 *
 * @module
 */

import { ERROR_STATUS, RequestError } from "../protocol/errors.ts";
import type { HeadLimits } from "../protocol/limits.ts";
import { getField, type RequestHead } from "../protocol/request_head.ts";
import {
  readRequests,
  type RequestIterator,
} from "../protocol/request_reader.ts";
import type { AccessLog } from "./access_log.ts";
import { coarseNow, freshNow } from "./clock.ts";
import { encodeResponse } from "./encode_response.ts";
import {
  closeQuietly,
  type ErrorReporter,
  isDisconnect,
  isOutOfDescriptors,
} from "./error_report.ts";
import type { Handler } from "./file_handler.ts";
import { readFileRange } from "./file_stream.ts";
import { writeMultipartRanges } from "./range_body.ts";
import {
  errorResponse,
  type MultipartBody,
  type Response,
  RETRY_AFTER,
  SINGLE_WRITE_LIMIT,
} from "./response.ts";
import { bodyBytesIn, wholeResponse } from "./whole_response.ts";

/** Options for {@linkcode Connection}; `serve()` builds them once for all. */
export interface ConnectionOptions {
  /** Answers each request; may answer synchronously. */
  handler: Handler;
  /** Where exchanges are logged; none when undefined. */
  log: AccessLog | undefined;
  /** Where errors that no client can cause are reported. */
  report: ErrorReporter;
  /** Time allowed for a whole request head (and for a new connection's first one), in ms. */
  headerTimeoutMs: number;
  /** Time an idle keep-alive connection, or a stalled send, is kept, in ms. */
  idleTimeoutMs: number;
  /**
   * Head size limits.
   *
   * @default {DEFAULT_HEAD_LIMITS}
   */
  limits?: HeadLimits;
}

/**
 * What the connection is doing, which decides what its deadline means:
 * waiting for a request (idle), receiving a head (head), answering (busy),
 * or draining the client's leftovers before closing (lingering).
 */
type Phase = "idle" | "head" | "busy" | "lingering" | "closed";

/** A small answer held back, with what its access log line needs. */
interface HeldAnswer {
  bytes: Uint8Array;
  head: RequestHead;
  response: Response;
}

/** Bytes of held answers beyond which they are written without waiting. */
const HOLD_LIMIT = 65536;

/** How long, and how much, a closing connection reads and discards. */
const LINGER_MS = 2000;
const LINGER_BYTES = 1 << 20;
/**
 * How long a draining connection waits for a request that may be on its
 * way: a fresh connection's first, a kept-alive one's next.
 */
const DRAIN_GRACE_MS = 1000;

/** One accepted connection, served until either side ends it. */
export class Connection {
  readonly #conn: Deno.TcpConn;
  readonly #options: ConnectionOptions;
  // A new connection owes its first head within the header timeout.
  #phase: Phase = "head";
  #deadline: number;
  #requests = 0;
  /** Whether any byte has arrived: a silent connection asked nothing. */
  #received = false;
  #draining = false;
  /**
   * The first line of a request refused before it was parsed (400, 408,
   * 431...), for the access log, as it came.
   */
  #refusedLine: string | undefined;
  /** Whether anything was written yet, and whether Nagle is off. */
  #writes: "none" | "some" | "nodelay" = "none";
  /** Whole answers to pipelined requests, held back to be written together. */
  #held: HeldAnswer[] = [];
  #heldBytes = 0;
  /** Whether held answers are being written (while the next head arrives). */
  #flushing = false;
  /** Where requests come from, once serving started. */
  #reader: RequestIterator | undefined;

  constructor(conn: Deno.TcpConn, options: ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#deadline = freshNow() + options.headerTimeoutMs;
  }

  /** Serves requests until the connection ends; never throws. */
  async serve(): Promise<void> {
    try {
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
    // A stalled write of held answers is a stalled send, not a slow head
    // (whose clock stops meanwhile): a 408 cannot be written beside it.
    if (
      this.#phase !== "head" || this.#flushing ||
      (this.#draining && !this.#received)
    ) {
      this.#close();
      return;
    }
    // From here on nothing else writes, and a head that still completes is
    // not answered: the client's bytes are read and dropped until the
    // linger ends (see #serveRequests), so that closing does not reset the
    // connection under the 408.
    this.#enter("lingering", LINGER_MS);
    this.#refusedLine = this.#reader?.pendingRequestLine();
    this.#send(
      errorResponse(
        ERROR_STATUS.RequestTimeout,
        this.#reader?.pendingMethod() ?? "GET",
      ),
      undefined,
      false,
    )
      .then(() => {
        this.#deadline = freshNow() + LINGER_MS; // writing pushed it on
        return this.#conn.closeWrite();
      })
      .catch(() => this.#close());
  }

  /**
   * Stops keep-alive: a busy connection closes after its response, an idle
   * one (or one that has sent nothing yet) within a moment.
   */
  drain(): void {
    this.#draining = true;
    if (this.#requests === 0 || this.#phase === "idle") this.#closeSoon();
  }

  /** Closes at once, whatever the phase. */
  abort(): void {
    this.#close();
  }

  /**
   * Ends a connection about to wait for a request, once a moment has passed
   * (see `expire`). Closed at once, it would fail a request already on its
   * way: one sent by a client just accepted, or by a client the last answer
   * told to keep the connection; meanwhile such a request is answered, with
   * Connection: close. Only a request sent after that moment meets the
   * close, as it would at the idle timeout.
   */
  #closeSoon(): void {
    this.#deadline = Math.min(this.#deadline, freshNow() + DRAIN_GRACE_MS);
  }

  async #serveRequests(): Promise<void> {
    const requests = this.#reader = readRequests(this.#conn, {
      limits: this.#options.limits,
      onIdle: () => {
        // The first request of a connection gets the header deadline from
        // accept; later ones wait as idle keep-alive first.
        if (this.#requests > 0) {
          this.#enter("idle", this.#options.idleTimeoutMs);
        }
        if (this.#draining && this.#requests > 0) this.#closeSoon();
      },
      onHeadStart: () => {
        this.#received = true;
        if (this.#requests > 0) {
          this.#enter("head", this.#options.headerTimeoutMs);
        }
      },
      beforeRead: () => this.#flush(),
    });
    for await (const head of requests) {
      if (this.#phase === "closed") return;
      if (this.#phase === "lingering") return await this.#discardInput();
      this.#requests++;
      this.#enter("busy", this.#options.idleTimeoutMs);
      // A cache hit answers synchronously: no promise to wait for.
      let response = this.#answer(head);
      if (response instanceof Promise) {
        // Held answers go out first rather than wait on a file's open.
        if (this.#held.length > 0) await this.#flushAhead(response);
        response = await response;
      }
      const keepAlive = head.keepAlive && !response.close && !this.#draining;
      const bytes = wholeResponse(response, keepAlive);
      // Big answers (framed files over SINGLE_WRITE_LIMIT) are never held:
      // they go out alone, after any held ahead of them.
      const big = bytes !== undefined && bytes.length > SINGLE_WRITE_LIMIT;
      let complete = true;
      if (bytes === undefined || (big && this.#held.length > 0)) {
        // #send frames a big answer again, once the held ones are out: the
        // frame is not held across this wait, so its head may change.
        if (this.#held.length > 0) await this.#flushAhead(response);
        complete = await this.#send(response, head, keepAlive);
      } else if (!big && (this.#held.length > 0 || requests.pipelined)) {
        // More requests are already here: answers go out together, one
        // write for many, once the buffer runs dry (or grows large).
        // Copied when a frame may hold them: held bytes wait for a later
        // write, and the frame's head may be rewritten meanwhile.
        this.#held.push({
          bytes: response.frame === undefined ? bytes : bytes.slice(),
          head,
          response,
        });
        this.#heldBytes += bytes.length;
        if (keepAlive && requests.pipelined && this.#heldBytes < HOLD_LIMIT) {
          continue;
        }
        await this.#flush();
      } else {
        // The common case, awaited here rather than through #send and
        // #write: each async layer costs a promise per request.
        this.#beforeWrite();
        let written = 0;
        const frame = response.frame;
        frame?.hold();
        try {
          written = await this.#conn.write(bytes);
          if (written < bytes.length) {
            const all = { bytes: written };
            try {
              await this.#write(bytes.subarray(written), all);
            } finally {
              written = all.bytes;
            }
          }
        } finally {
          frame?.release();
          // Logged even when the client is gone: its request was answered.
          this.#log(head, response, bodyBytesIn(response, bytes, written));
        }
      }
      if (!keepAlive || !complete) {
        // When we end a connection the client meant to keep, or a body may
        // still be arriving, unread bytes would make close() reset it and
        // could destroy the answer in flight: half-close and drain first.
        // A client that asked to close may send nothing more (RFC 9112
        // 9.6), so it is spared the extra round trip after a small answer
        // that went out in one write; a bigger one may still be on its way,
        // and a stray CRLF from the client must not cut it short.
        const clientClosing = !head.keepAlive && head.contentLength === 0 &&
          !head.chunked && bytes !== undefined && !big;
        if (complete && !clientClosing) await this.#linger();
        return;
      }
    }
  }

  /**
   * The handler's answer to `head`; a failure becomes an error response
   * (reported unless the request caused it), so the answer never throws
   * and a promise of it never rejects, even one nobody awaits any more.
   */
  #answer(head: RequestHead): Response | Promise<Response> {
    try {
      const answer = this.#options.handler(head);
      if (!(answer instanceof Promise)) return answer;
      return answer.catch((error) => this.#failed(head, error));
    } catch (error) {
      return this.#failed(head, error);
    }
  }

  #failed(head: RequestHead, error: unknown): Response {
    if (error instanceof RequestError) {
      return errorResponse(error.status, head.method, "", true);
    }
    this.#options.report("handler", error);
    // Out of descriptors, the file could not be opened; a moment later it
    // may be.
    return isOutOfDescriptors(error)
      ? errorResponse(503, head.method, RETRY_AFTER, true)
      : errorResponse(500, head.method, "", true);
  }

  /**
   * Writes the held answers ahead of `answer`. If that fails, the
   * connection is over and `answer` will never be sent, so its file, open
   * now or once it resolves, is closed here.
   */
  async #flushAhead(answer: Response | Promise<Response>): Promise<void> {
    try {
      await this.#flush();
    } catch (error) {
      void Promise.resolve(answer).then(discardBody);
      throw error;
    }
  }

  /**
   * Writes the answers held back for pipelined requests, all in one write,
   * then logs them; `undefined` when none are held.
   */
  #flush(): Promise<void> | undefined {
    if (this.#held.length === 0) return undefined;
    const held = this.#held;
    this.#held = [];
    let bytes = held[0].bytes;
    if (held.length > 1) {
      bytes = new Uint8Array(this.#heldBytes);
      let offset = 0;
      for (const answer of held) {
        bytes.set(answer.bytes, offset);
        offset += answer.bytes.length;
      }
    }
    this.#heldBytes = 0;
    // A head that has begun to arrive is not read while the answers ahead
    // of it go out: its clock stops meanwhile, and the write is judged as
    // any send, by its progress. A client that takes its answers slowly is
    // not a slow client.
    const headLeft = this.#phase === "head"
      ? this.#deadline - freshNow()
      : undefined;
    this.#flushing = true;
    const written = { bytes: 0 };
    return this.#write(bytes, written).finally(() => {
      this.#flushing = false;
      if (headLeft !== undefined && this.#phase === "head") {
        this.#deadline = freshNow() + headLeft;
      }
      // Each answer is logged with the body bytes of it that went out,
      // even when the client left halfway through.
      let offset = 0;
      for (const answer of held) {
        const sent = Math.max(0, written.bytes - offset);
        this.#log(
          answer.head,
          answer.response,
          bodyBytesIn(answer.response, answer.bytes, sent),
        );
        offset += answer.bytes.length;
      }
    });
  }

  /** Answers a request that could not be parsed, then closes gracefully. */
  async #refuse(error: RequestError): Promise<void> {
    if (this.#phase === "closed") return;
    // After a 408, a head that completes malformed is no more answered than
    // a valid one, and is drained alike.
    if (this.#phase === "lingering") return await this.#discardInput();
    this.#enter("busy", this.#options.idleTimeoutMs);
    this.#refusedLine = error.requestLine;
    try {
      await this.#flush();
      await this.#send(
        errorResponse(error.status, error.method ?? "GET"),
        undefined,
        false,
      );
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
    const length = response.contentLength;
    const body = response.body;
    const bytes = wholeResponse(response, keepAlive);
    // Body bytes written so far: the access log's count, even when the
    // client leaves halfway through a download.
    const sent = { bytes: 0 };
    try {
      if (bytes !== undefined) {
        const written = { bytes: 0 };
        response.frame?.hold();
        try {
          await this.#write(bytes, written);
        } finally {
          response.frame?.release();
          sent.bytes = bodyBytesIn(response, bytes, written.bytes);
        }
      } else if (body instanceof Uint8Array) {
        // A big body from memory: no copy into the head's buffer.
        await this.#write(encodeResponse(response, keepAlive, false));
        await this.#write(body, sent);
      } else if (body !== undefined) {
        try {
          await this.#write(encodeResponse(response, keepAlive));
          if (body.kind === "file") {
            await this.#streamFile(body.file, body.offset, body.length, sent);
          } else await this.#streamMultipart(body, sent);
        } finally {
          closeQuietly(body.file);
        }
      }
    } finally {
      this.#log(head, response, sent.bytes);
    }
    return body === undefined || sent.bytes === length;
  }

  /** Records the exchange in the access log, when there is one. */
  #log(head: RequestHead | undefined, response: Response, sent: number): void {
    if (this.#options.log === undefined) return;
    this.#options.log.record({
      client: this.#conn.remoteAddr.hostname,
      requestLine: head
        ? `${head.method} ${head.target} HTTP/1.${head.minorVersion}`
        : this.#refusedLine,
      status: response.status,
      bytes: sent,
      referer: head && getField(head, "referer"),
      userAgent: head && getField(head, "user-agent"),
    });
  }

  /** Pipes `length` bytes of the file from `offset`, counting them in `sent`. */
  async #streamFile(
    file: Deno.FsFile,
    offset: number,
    length: number,
    sent: Written,
  ): Promise<void> {
    for await (const chunk of readFileRange(file, offset, length)) {
      await this.#write(chunk, sent);
    }
  }

  async #streamMultipart(body: MultipartBody, sent: Written): Promise<void> {
    // A file that ended inside a range leaves the body short, which the
    // byte count shows: the connection then closes (see #send).
    await writeMultipartRanges(
      body.file,
      body.multipart,
      (chunk) => this.#write(chunk, sent),
    );
  }

  /** Writes all of `bytes`, adding what each write took to `written`. */
  async #write(bytes: Uint8Array, written?: Written): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      this.#beforeWrite();
      const n = await this.#conn.write(bytes.subarray(offset));
      offset += n;
      if (written !== undefined) written.bytes += n;
    }
  }

  /**
   * Before each socket write: a send that makes no progress for the idle
   * timeout ends the connection; and the second write turns off Nagle's
   * algorithm (TCP_NODELAY), which would hold a small write back while an
   * earlier one is unacknowledged, until the client's delayed ACK (40 ms).
   * A connection that writes once, one answer to a client that then
   * closes, is spared the system call.
   */
  #beforeWrite(): void {
    this.#deadline = coarseNow() + this.#options.idleTimeoutMs;
    if (this.#writes === "none") this.#writes = "some";
    else if (this.#writes === "some") {
      this.#writes = "nodelay";
      this.#conn.setNoDelay(true);
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
    } catch {
      return; // Reset or closed: nothing left to protect.
    }
    await this.#discardInput();
  }

  /**
   * Reads and drops what the client sends, up to its end, `LINGER_BYTES`,
   * or the linger's deadline (when `expire` closes the connection).
   */
  async #discardInput(): Promise<void> {
    try {
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
    // A head's and a linger's short deadlines are dated from a fresh
    // reading of the clock: the coarse one lags by as long as the sweeper
    // is late (a server starved of CPU), and would cut them short by as
    // much. The idle timeout, set for every request and every write, is
    // long enough to take that lag.
    const start = phase === "head" || phase === "lingering"
      ? freshNow()
      : coarseNow();
    this.#deadline = start + timeoutMs;
  }

  #close(): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    closeQuietly(this.#conn);
  }
}

/** Closes the file behind a response that will not be sent. */
function discardBody(response: Response): void {
  const body = response.body;
  if (body !== undefined && !(body instanceof Uint8Array)) {
    closeQuietly(body.file);
  }
}

/** A count of bytes written, kept up to date as each write returns. */
interface Written {
  bytes: number;
}
