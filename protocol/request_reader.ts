/**
 * The connection's request pipeline: bytes from a source in, request heads
 * out, as an async iterator. Bodies are skipped so that they are never read
 * as the next request.
 *
 * @module
 */

import { CR, LF } from "./chars.ts";
import { RequestError } from "./errors.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./limits.ts";
import { RecentHead } from "./_recent_head.ts";
import {
  getField,
  parseRequestHead,
  type RequestHead,
} from "./request_head.ts";
import { firstLine, requestMethod } from "./_request_line.ts";

/** Anything that reads bytes like a `Deno.Conn` does. */
export interface ByteSource {
  /** Reads into `buffer`; the number of bytes read, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode readRequests}. */
export interface ReadRequestsOptions {
  /**
   * Head size limits.
   *
   * @default {DEFAULT_HEAD_LIMITS}
   */
  limits?: HeadLimits;
  /**
   * The largest Content-Length body that is read and thrown away to keep the
   * connection; a larger or chunked body, or (in HTTP/1.1) one announced
   * with `Expect`, ends the connection after its answer instead.
   *
   * @default {65536}
   */
  maxDiscardedBody?: number;
  /**
   * Called when the first byte of a new head arrives (to start its
   * deadline); empty lines before a request line are no part of it. When
   * undefined, nothing is told.
   *
   * @default {undefined}
   */
  onHeadStart?: () => void;
  /**
   * Called when the reader starts to wait for the next request with nothing
   * buffered: once per wait, however many empty lines arrive meanwhile.
   * When undefined, nothing is told.
   *
   * @default {undefined}
   */
  onIdle?: () => void;
  /**
   * Called before every read from the source, which may then wait on the
   * client: whatever the consumer holds back (answers to pipelined
   * requests, to be written together) must go out first, or both sides
   * would wait on each other. A promise it returns is awaited first. When
   * undefined, reads start at once.
   *
   * @default {undefined}
   */
  beforeRead?: () => Promise<void> | undefined;
}

/** What {@linkcode readRequests} returns: the heads, and a look at its buffer. */
export interface RequestIterator
  extends AsyncIterableIterator<RequestHead, undefined, undefined> {
  /**
   * Whether bytes of a next request have already arrived (beyond any body
   * still to skip): the client is pipelining, and the next head may need no
   * read at all.
   */
  readonly pipelined: boolean;
  /**
   * The method of a head that has begun to arrive, once its request line
   * has got past it; `undefined` otherwise.
   */
  pendingMethod(): string | undefined;
  /**
   * The first line of a head that has begun to arrive, once its line break
   * is here (valid or not); `undefined` otherwise.
   */
  pendingRequestLine(): string | undefined;
}

/** The first read buffer size; it grows up to the head limit when needed. */
const INITIAL_BUFFER = 4096;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Read buffers of finished readers, for new ones to reuse: a connection
 * that asks once and leaves would otherwise cost an allocation outside the
 * heap and its later release by the garbage collector.
 */
const spareBuffers: Uint8Array[] = [];
const MAX_SPARE_BUFFERS = 256;
const NO_BUFFER = new Uint8Array(0);

/**
 * The first head of the connection that got its first head last, in this
 * process: the next connection's first head is compared with it.
 */
const firstHeads = new RecentHead();

/**
 * Yields each request head read from `source`, in order, from any
 * segmentation: several pipelined requests in one read or one request over
 * many reads. Ends when the source ends (between requests, or quietly
 * within a head or a body), after a request that does not keep the
 * connection, or after one whose body cannot be skipped (its `keepAlive` is
 * then `false`). Throws a `RequestError` for a malformed head; I/O errors
 * of the source pass through.
 *
 * Heads are frozen. A head of up to 1 KiB (`MAX_REPEATED_HEAD`) that repeats
 * the one before it byte for byte (a client polling, a load balancer's
 * probe, a benchmark), with no empty line ahead of it, is not parsed again:
 * the same object is yielded again. A source's first head is compared
 * likewise with the first head of the source that began last in this
 * process (read with the same limits), so it may be an object another
 * reader yielded before.
 *
 * Like any iterator `for await` drives, it expects one `next()` at a time.
 *
 * @example
 * ```ts
 * import { readRequests } from "./request_reader.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode(
 *   "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
 * );
 * let offset = 0;
 * const source = {
 *   read(buffer: Uint8Array) { // one byte at a time
 *     if (offset === bytes.length) return Promise.resolve(null);
 *     buffer[0] = bytes[offset++];
 *     return Promise.resolve(1);
 *   },
 * };
 * const targets = [];
 * for await (const head of readRequests(source)) targets.push(head.target);
 * assert.deepEqual(targets, ["/a", "/b"]);
 * ```
 */
export function readRequests(
  source: ByteSource,
  options?: ReadRequestsOptions,
): RequestIterator {
  return new RequestReader(source, options);
}

/**
 * The iterator behind {@linkcode readRequests}. A head already in the
 * buffer (pipelined) is returned without awaiting anything; otherwise one
 * async call reads until a head is complete. An async generator would cost
 * several more promises per request, on the path every request takes.
 */
class RequestReader implements RequestIterator {
  readonly #source: ByteSource;
  readonly #limits: HeadLimits;
  readonly #maxDiscarded: number;
  /** One byte more than the head limit, so an oversized head is seen as such. */
  readonly #maxBuffer: number;
  readonly #onHeadStart: (() => void) | undefined;
  readonly #onIdle: (() => void) | undefined;
  readonly #beforeRead: (() => Promise<void> | undefined) | undefined;
  #buf: Uint8Array;
  /** First unconsumed byte. */
  #start = 0;
  /** One past the last byte read. */
  #end = 0;
  /** Bytes after `#start` the parser has already seen. */
  #scanned = 0;
  /** Body bytes of the last request still to be skipped. */
  #body = 0;
  #newHead = true;
  /** `onIdle` was called, and no head has started since. */
  #idle = false;
  /** Bytes of empty lines dropped since the last head: they count towards the next. */
  #skipped = 0;
  #done = false;
  /** Whether a read into the buffer is in flight. */
  #reading = false;
  /**
   * The last head parsed here, with its bytes when another may follow it
   * on this connection: the next head may repeat it, or reuse its strings.
   */
  #previous: RecentHead | undefined;

  constructor(source: ByteSource, options: ReadRequestsOptions | undefined) {
    this.#source = source;
    this.#limits = options?.limits ?? DEFAULT_HEAD_LIMITS;
    this.#maxDiscarded = options?.maxDiscardedBody ?? 65536;
    this.#maxBuffer = this.#limits.maxHeadSize + 1;
    this.#onHeadStart = options?.onHeadStart;
    this.#onIdle = options?.onIdle;
    this.#beforeRead = options?.beforeRead;
    const size = Math.min(INITIAL_BUFFER, this.#maxBuffer);
    this.#buf = (size === INITIAL_BUFFER ? spareBuffers.pop() : undefined) ??
      new Uint8Array(size);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // A field set as each head is taken, not a getter: read on every request,
  // the getter cost wrk 5% of the server's throughput.
  pipelined = false;

  next(): Promise<IteratorResult<RequestHead, undefined>> {
    let head: RequestHead | undefined;
    try {
      head = this.#done ? undefined : this.#take();
    } catch (error) {
      this.#finish();
      return Promise.reject(error);
    }
    if (head !== undefined) {
      return Promise.resolve({ done: false, value: head });
    }
    if (this.#done) return Promise.resolve(DONE);
    return this.#read();
  }

  return(): Promise<IteratorResult<RequestHead, undefined>> {
    this.#finish();
    return Promise.resolve(DONE);
  }

  pendingMethod(): string | undefined {
    if (this.#done || this.#newHead || this.#body > 0) return undefined;
    return requestMethod(this.#buf, this.#start, this.#end);
  }

  pendingRequestLine(): string | undefined {
    if (this.#done || this.#newHead || this.#body > 0) return undefined;
    return firstLine(
      this.#buf,
      this.#start,
      this.#end,
      this.#limits.maxRequestLine,
    );
  }

  /** Ends the iteration and gives the buffer back once no read uses it. */
  #finish(): void {
    this.#done = true;
    if (this.#reading || this.#buf === NO_BUFFER) return;
    if (
      this.#buf.length === INITIAL_BUFFER &&
      spareBuffers.length < MAX_SPARE_BUFFERS
    ) spareBuffers.push(this.#buf);
    this.#buf = NO_BUFFER;
  }

  /** Reads until a head is complete or the source ends. */
  async #read(): Promise<IteratorResult<RequestHead, undefined>> {
    try {
      while (true) {
        const flushing = this.#beforeRead?.();
        if (flushing !== undefined) await flushing;
        if (this.#done) return DONE; // return() was called meanwhile
        const room = this.#room();
        let n: number | null;
        this.#reading = true;
        try {
          n = await this.#source.read(room);
        } finally {
          this.#reading = false;
        }
        // Between requests the client is done; mid-head or mid-body it
        // left, and there is nobody to answer.
        if (n === null || this.#done) {
          this.#finish();
          return DONE;
        }
        this.#end += n;
        const head = this.#take();
        if (head !== undefined) return { done: false, value: head };
        if (this.#done) return DONE;
      }
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  /**
   * The next head from what is buffered, skipping the last request's body
   * first; `undefined` when more bytes are needed.
   */
  #take(): RequestHead | undefined {
    if (this.#body > 0) {
      const skipped = Math.min(this.#body, this.#end - this.#start);
      this.#start += skipped;
      this.#body -= skipped;
      if (this.#body > 0) return undefined;
    }
    if (this.#newHead) {
      this.#skipEmptyLines();
      // Nothing left, or a CR whose LF is still to come: no head yet.
      if (this.#onlyEmptyLines(this.#start)) return undefined;
      this.#newHead = false;
      this.#idle = false;
      this.#onHeadStart?.();
    }
    // A head is compared with the one before it on this connection; a
    // connection's first head, with the last first head of any (a client
    // that opens a connection per request asks the same each time: HTTP/1.0,
    // a health check, `ab` without -k). After empty lines, whose bytes count
    // towards the head's limit, it is parsed, and that limit checked.
    const first = this.#previous === undefined;
    const recent = first
      ? (firstHeads.limits === this.#limits ? firstHeads : undefined)
      : this.#previous;
    let consumed = this.#skipped === 0
      ? recent?.match(this.#buf, this.#start, this.#end) ?? 0
      : 0;
    const repeated = consumed > 0;
    let head = repeated ? recent!.head! : undefined;
    if (head === undefined) {
      let parsed;
      try {
        parsed = parseRequestHead(
          this.#buf.subarray(this.#start, this.#end),
          {
            scanFrom: this.#scanned,
            limits: this.#skipped === 0 ? this.#limits : {
              ...this.#limits,
              maxHeadSize: this.#limits.maxHeadSize - this.#skipped,
            },
            previous: recent?.head,
          },
        );
      } catch (error) {
        if (error instanceof RequestError) {
          error.method = this.pendingMethod();
          error.requestLine = this.pendingRequestLine();
        }
        throw error;
      }
      if (parsed === undefined) {
        this.#scanned = this.#end - this.#start;
        return undefined;
      }
      head = parsed.head;
      consumed = parsed.consumed;
      if (first) {
        firstHeads.keep(head, this.#buf, this.#start, consumed);
        firstHeads.limits = this.#limits;
      }
    }
    // Kept for the next head here, if one may follow, unless it repeats
    // the one kept.
    if (head.keepAlive && (first || !repeated)) {
      this.#previous ??= new RecentHead();
      this.#previous.keep(head, this.#buf, this.#start, consumed);
    }
    this.#start += consumed;
    this.#scanned = 0;
    this.#skipped = 0;
    this.#newHead = true;
    // A client that sent Expect: 100-continue may never send its body now
    // that it gets a final answer instead: waiting for it would stall. In
    // HTTP/1.0, which has no 100, the expectation is ignored (RFC 9110
    // 10.1.1): the body follows the head.
    const skippable = !head.chunked &&
      head.contentLength <= this.#maxDiscarded &&
      (head.contentLength === 0 || head.minorVersion === 0 ||
        getField(head, "expect") === undefined);
    if (!skippable) {
      this.#finish();
      this.pipelined = false;
      return Object.freeze({ ...head, keepAlive: false });
    }
    if (head.keepAlive) this.#body = head.contentLength;
    else this.#finish();
    this.pipelined = !this.#done &&
      !this.#onlyEmptyLines(this.#start + this.#body);
    return head;
  }

  /**
   * Whether the bytes buffered from `from` on, if any, are all empty lines
   * (CRLF or LF), or the start of one (a last CR), which is no request yet.
   * A CR followed by anything but LF is a bare CR: an error to answer now.
   */
  #onlyEmptyLines(from: number): boolean {
    for (let i = from; i < this.#end; i++) {
      const byte = this.#buf[i];
      if (byte === LF) continue;
      if (byte !== CR || (i + 1 < this.#end && this.#buf[i + 1] !== LF)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Drops the complete empty lines before a request line (RFC 9112 2.2: a
   * client may send a CRLF after a request or its body). They start no
   * head: a connection that got nothing else is idle, not slow to send a
   * head, and is not granted more time for them either (see `#room`). They
   * count towards the head limit all the same, so a flood of them is
   * refused at once.
   */
  #skipEmptyLines(): void {
    const buf = this.#buf;
    let i = this.#start;
    while (i < this.#end) {
      if (buf[i] === LF) i++;
      else if (buf[i] === CR && i + 1 < this.#end && buf[i + 1] === LF) i += 2;
      else break;
    }
    this.#skipped += i - this.#start;
    this.#start = i;
    if (this.#skipped > this.#limits.maxHeadSize) {
      throw new RequestError(
        "HeaderSectionTooLarge",
        `Cannot parse header: more than ${this.#limits.maxHeadSize} bytes of empty lines`,
      );
    }
  }

  /** Where the next read goes: after a partial head, or the whole buffer. */
  #room(): Uint8Array {
    // Waiting for a head that has not started (nothing buffered, or only
    // the CR of an empty line): idle, once per wait, so empty lines read
    // meanwhile do not renew it.
    if (
      this.#body === 0 && this.#newHead && !this.#idle &&
      this.#onlyEmptyLines(this.#start)
    ) {
      this.#idle = true;
      this.#onIdle?.();
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = this.#scanned = 0;
      return this.#buf;
    }
    // A partial head: make room after it, moving it to the front or
    // growing the buffer up to the head limit.
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(
          Math.min(this.#buf.length * 2, this.#maxBuffer),
        );
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    }
    if (this.#end === this.#buf.length) {
      // Unreachable while the parser enforces the head limit; a read into
      // no room would return 0 forever, so fail loudly instead of spinning.
      throw new RequestError(
        "HeaderSectionTooLarge",
        `Cannot parse header: head larger than ${this.#limits.maxHeadSize} bytes`,
      );
    }
    return this.#buf.subarray(this.#end);
  }
}
