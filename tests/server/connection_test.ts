import assert from "node:assert/strict";
import { coarseNow, keepTicking, tick } from "../../server/clock.ts";
import type { AccessLog, LogEntry } from "../../server/access_log.ts";
import { Connection } from "../../server/connection.ts";
import { createMultipartByteranges } from "../../protocol/multipart.ts";
import { Frame } from "../../server/frame.ts";
import type { Response } from "../../server/response.ts";
import type { RequestHead } from "../../protocol/request_head.ts";

/**
 * A socket that hands out its input one piece per read, then the end of
 * the stream, and records what the connection does to it.
 */
class RecordingConn {
  readonly calls: string[] = [];
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  readonly #pieces: Uint8Array[];

  constructor(pieces: string[]) {
    this.#pieces = pieces.map((piece) => new TextEncoder().encode(piece));
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.calls.push("read");
    const piece = this.#pieces.shift();
    if (piece === undefined) return Promise.resolve(null);
    buffer.set(piece);
    return Promise.resolve(piece.length);
  }

  write(bytes: Uint8Array): Promise<number> {
    this.calls.push(`write ${bytes.length}`);
    return Promise.resolve(bytes.length);
  }

  setNoDelay(on: boolean): void {
    this.calls.push(`nodelay ${on}`);
  }

  closeWrite(): Promise<void> {
    this.calls.push("closeWrite");
    return Promise.resolve();
  }

  close(): void {
    this.calls.push("close");
  }
}

/** A 200 with `body`, from memory. */
const answer = (body: Uint8Array): Response => ({
  status: 200,
  fields: "",
  contentLength: body.length,
  body,
});

/** A connection on `conn` whose handler answers with `bodies()`. */
function connectionOn(
  conn: RecordingConn,
  bodies: () => Uint8Array,
): Connection {
  return new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => answer(bodies()),
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  });
}

/** Serves the pieces on a recording socket; the calls it saw, in order. */
async function serve(pieces: string[], body: Uint8Array): Promise<string[]> {
  const conn = new RecordingConn(pieces);
  await connectionOn(conn, () => body).serve();
  return conn.calls;
}

const SMALL = new Uint8Array(100);
const BIG = new Uint8Array(100_000);
/** One answer with SMALL as its body: head and body, in bytes. */
const ANSWER = (await serve(
  ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
  SMALL,
)).map((call) => /^write (\d+)$/.exec(call)).find((match) => match !== null)!;
const ANSWER_BYTES = Number(ANSWER[1]);
const KEEP_ALIVE_BYTES = ANSWER_BYTES - "close".length + "keep-alive".length;
const GET = (target: string) => `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`;
/** Two keep-alive answers, each written after its own read. */
const ONE_WRITE_PER_READ = [
  "read",
  `write ${KEEP_ALIVE_BYTES}`,
  "read",
  "nodelay true",
  `write ${KEEP_ALIVE_BYTES}`,
  "read",
  "close",
];

Deno.test("Connection writes a lone small answer without touching TCP_NODELAY", async () => {
  const calls = await serve(
    ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    SMALL,
  );
  assert.deepEqual(calls, ["read", `write ${ANSWER_BYTES}`, "close"]);
});

Deno.test("Connection turns off Nagle before a second response's write", async () => {
  const calls = await serve([GET("/1"), GET("/2")], SMALL);
  assert.deepEqual(calls, ONE_WRITE_PER_READ);
});

Deno.test("Connection turns off Nagle before a big body that follows its head", async () => {
  const calls = await serve(
    ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    BIG,
  );
  assert.equal(calls.length, 7, calls.join());
  assert.deepEqual(calls.slice(2, 4), ["nodelay true", `write ${BIG.length}`]);
});

Deno.test("Connection drains before it closes after a big answer, even to a closing client", async () => {
  // Bytes the client sends anyway (a stray CRLF) would meet a closed
  // socket, whose reset would destroy the answer's tail still in flight.
  const calls = await serve(
    ["GET / HTTP/1.0\r\n\r\n"],
    BIG,
  );
  assert.deepEqual(calls.slice(-3), ["closeWrite", "read", "close"]);
  // An answer that went out in one write is followed by the close alone.
  const small = await serve(["GET / HTTP/1.0\r\n\r\n"], SMALL);
  assert.deepEqual(small.slice(-2).map((call) => call.split(" ")[0]), [
    "write",
    "close",
  ]);
});

/**
 * Serves the pieces on a recording socket with answers framed as the file
 * cache frames them: a body of `sizes(target)` bytes with room in front.
 */
async function serveFramed(
  pieces: string[],
  sizes: (target: string) => number,
): Promise<string[]> {
  const frames = new Map<string, Frame>();
  const conn = new RecordingConn(pieces);
  // Marks a write straight from a frame's buffer, not a copy.
  const write = conn.write.bind(conn);
  conn.write = (bytes) => {
    const framed = [...frames.values()].some((f) =>
      f.body.buffer === bytes.buffer
    );
    return write(bytes).finally(() => {
      if (framed) conn.calls[conn.calls.length - 1] += " framed";
    });
  };
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: (head) => {
      let frame = frames.get(head.target);
      if (frame === undefined) {
        frame = new Frame(512, sizes(head.target));
        frames.set(head.target, frame);
      }
      const body = frame.body;
      return {
        status: 200,
        fields: "",
        contentLength: body.length,
        body,
        frame,
      };
    },
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  });
  await connection.serve();
  return conn.calls;
}

/** How much longer an answer with BIG is than one with SMALL, head and body. */
const BIG_EXTRA = BIG.length - SMALL.length +
  String(BIG.length).length - String(SMALL.length).length;

/** The sizes of the writes among `calls`. */
const writeSizes = (calls: string[]) =>
  calls.filter((call) => call.startsWith("write ")).map((call) =>
    parseInt(call.slice(6))
  );

Deno.test("Connection writes a big framed answer in one write, and drains before closing", async () => {
  const calls = await serveFramed(["GET / HTTP/1.0\r\n\r\n"], () => BIG.length);
  const [size] = writeSizes(calls);
  assert.equal(writeSizes(calls).length, 1, calls.join());
  assert.equal(size, ANSWER_BYTES + BIG_EXTRA);
  assert.deepEqual(calls.slice(-3), ["closeWrite", "read", "close"]);
});

Deno.test("Connection writes a big framed answer to a pipelined request from its frame", async () => {
  const calls = await serveFramed(
    [`${GET("/big")}${GET("/small")}`],
    (target) => target === "/big" ? BIG.length : SMALL.length,
  );
  const writes = calls.filter((call) => call.startsWith("write "));
  assert.deepEqual(writes, [
    `write ${KEEP_ALIVE_BYTES + BIG_EXTRA} framed`,
    `write ${KEEP_ALIVE_BYTES} framed`,
  ]);
});

Deno.test("Connection sends held answers before a big framed one, then it in one write", async () => {
  const calls = await serveFramed(
    [`${GET("/small")}${GET("/big")}`],
    (target) => target === "/big" ? BIG.length : SMALL.length,
  );
  assert.deepEqual(writeSizes(calls), [
    KEEP_ALIVE_BYTES,
    KEEP_ALIVE_BYTES + BIG_EXTRA,
  ]);
});

Deno.test("Connection answers requests pipelined in one read with one write", async () => {
  const calls = await serve([GET("/1") + GET("/2") + GET("/3")], SMALL);
  assert.deepEqual(calls, [
    "read",
    `write ${3 * KEEP_ALIVE_BYTES}`,
    "read",
    "close",
  ]);
});

Deno.test("Connection writes what it holds before it waits for the rest of a head", async () => {
  // The second head is cut short: the client may wait for the first answer
  // before it sends the rest, so holding that answer back would stall both.
  const second = GET("/2");
  const calls = await serve(
    [GET("/1") + second.slice(0, 10), second.slice(10)],
    SMALL,
  );
  assert.deepEqual(calls, ONE_WRITE_PER_READ);
});

Deno.test("Connection writes held answers before one that takes its own writes", async () => {
  let served = 0;
  const conn = new RecordingConn([GET("/small") + GET("/big")]);
  await connectionOn(conn, () => served++ === 0 ? SMALL : BIG).serve();
  assert.equal(conn.calls[1], `write ${KEEP_ALIVE_BYTES}`, conn.calls.join());
  assert.equal(conn.calls.at(-3), `write ${BIG.length}`, conn.calls.join());
});

/** A recording socket whose writes never finish until it is closed. */
class StalledConn extends RecordingConn {
  #stalled: ((error: Error) => void)[] = [];

  override write(bytes: Uint8Array): Promise<number> {
    this.calls.push(`write ${bytes.length}`);
    return new Promise((_, reject) => this.#stalled.push(reject));
  }

  override close(): void {
    super.close();
    for (const reject of this.#stalled) {
      reject(new Deno.errors.Interrupted("closed"));
    }
  }
}

Deno.test("Connection closes, without a 408, when held answers stall past the deadline", async () => {
  // The next head is cut short, so the held answer is being written while
  // that head is awaited: its deadline passing means a stalled send, and a
  // 408 written beside the stalled answer would garble both.
  const second = GET("/2");
  const conn = new StalledConn([GET("/1") + second.slice(0, 10)]);
  const connection = connectionOn(conn, () => SMALL);
  const served = connection.serve();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(conn.calls, ["read", `write ${KEEP_ALIVE_BYTES}`]);
  connection.expire(Number.MAX_SAFE_INTEGER);
  await served;
  assert.deepEqual(conn.calls, ["read", `write ${KEEP_ALIVE_BYTES}`, "close"]);
});

/** A file that records whether it was closed, in place of a Deno.FsFile. */
class FakeFile {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

/** A streamed answer of 10 bytes of `file`. */
function fileAnswer(file: FakeFile): Response {
  return {
    status: 200,
    fields: "",
    contentLength: 10,
    body: {
      kind: "file",
      file: file as unknown as Deno.FsFile,
      offset: 0,
      length: 10,
    },
  };
}

/**
 * Pipelines a small answer and then `second`'s, on a socket whose writes
 * stall, and lets the connection pass its deadline while the small answer
 * is being written. Returns the socket, the errors reported, and the
 * connection's end.
 */
async function stallBefore(second: () => Response | Promise<Response>) {
  const reports: string[] = [];
  const conn = new StalledConn([GET("/small") + GET("/second")]);
  let served = 0;
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => served++ === 0 ? answer(SMALL) : second(),
    log: undefined,
    report: (where, error) => reports.push(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  });
  const ended = connection.serve();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(conn.calls, ["read", `write ${KEEP_ALIVE_BYTES}`]);
  connection.expire(Number.MAX_SAFE_INTEGER);
  await ended;
  return { conn, reports };
}

Deno.test("Connection closes the file of an answer it can no longer send", async () => {
  const late = Promise.withResolvers<Response>();
  const { conn, reports } = await stallBefore(() => late.promise);
  // The file opens only after the connection is gone.
  const file = new FakeFile();
  late.resolve(fileAnswer(file));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(file.closed, true);
  // A client that stopped reading is a disconnect, not a server fault.
  assert.deepEqual(reports, []);
  assert.deepEqual(conn.calls, ["read", `write ${KEEP_ALIVE_BYTES}`, "close"]);
});

Deno.test("Connection reports, and survives, a late answer that fails after it closed", async () => {
  // Deno.test fails on an unhandled rejection, which would end the process
  // of a running server.
  const late = Promise.withResolvers<Response>();
  const { reports } = await stallBefore(() => late.promise);
  late.reject(new Deno.errors.Busy("too many open files"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(reports, ["handler: Busy: too many open files"]);
});

Deno.test("Connection closes the file of a synchronous answer it can no longer send", async () => {
  const file = new FakeFile();
  const { reports } = await stallBefore(() => fileAnswer(file));
  assert.equal(file.closed, true);
  assert.deepEqual(reports, []);
});

/**
 * A recording socket whose reads, once its pieces are used up, wait for
 * more until it is closed, and whose writes after the first `open` ones
 * stall until then: a client that sends part of a head, then waits.
 */
class WaitingConn extends RecordingConn {
  /** The bytes of every write, taken or left waiting, as Latin-1 text. */
  readonly texts: string[] = [];
  #waiting: ((error: Error) => void)[] = [];
  #open: number;

  constructor(pieces: string[], open: number) {
    super(pieces);
    this.#open = open;
  }

  override read(buffer: Uint8Array): Promise<number | null> {
    return super.read(buffer).then((n) =>
      n !== null ? n : new Promise((_, reject) => this.#waiting.push(reject))
    );
  }

  override write(bytes: Uint8Array): Promise<number> {
    this.texts.push(String.fromCharCode(...bytes));
    if (this.#open-- > 0) return super.write(bytes);
    this.calls.push(`write ${bytes.length}`);
    return new Promise((_, reject) => this.#waiting.push(reject));
  }

  override close(): void {
    super.close();
    for (const reject of this.#waiting.splice(0)) {
      reject(new Deno.errors.Interrupted("closed"));
    }
  }
}

Deno.test("Connection times a pipelined head from its first byte, not from the last write", async () => {
  // The first answer is held, then written while the second head is still
  // arriving: that write must not give the head the idle timeout instead.
  const second = GET("/2");
  const conn = new WaitingConn([GET("/1") + second.slice(0, 10)], 1);
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => answer(SMALL),
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 1_000,
    idleTimeoutMs: 60_000,
  });
  const served = connection.serve();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(conn.calls, ["read", `write ${KEEP_ALIVE_BYTES}`, "read"]);
  connection.expire(coarseNow() + 2_000);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const timeout = conn.calls.slice(3).find((call) => call.startsWith("write"));
  assert.ok(timeout !== undefined, conn.calls.join());
  assert.equal(conn.texts.length, 2);
  assert.match(conn.texts[0], /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(conn.texts[1], /^HTTP\/1\.1 408 Request Timeout\r\n/);
  connection.abort();
  await served;
});

/**
 * A socket the test drives: reads wait for input it pushes (or its end),
 * writes take at most `maxWrite` bytes each and wait while `gate` is set,
 * and every byte written is kept.
 */
class ScriptedConn extends RecordingConn {
  maxWrite = Infinity;
  gate: Promise<void> | undefined;
  /**
   * Take a write's bytes when the gate opens rather than when it is called,
   * as a socket that could take none at once reads the buffer later.
   */
  takeLate = false;
  closed = false;
  #input: Uint8Array[] = [];
  #ended = false;
  #output: number[] = [];
  #pendingRead:
    | { buffer: Uint8Array; resolve: (n: number | null) => void }
    | undefined;
  #rejects = new Set<(error: Error) => void>();

  constructor() {
    super([]);
  }

  /** Whether a read is waiting for input. */
  get reading(): boolean {
    return this.#pendingRead !== undefined;
  }

  /** Everything written so far, as Latin-1 text. */
  get written(): string {
    return String.fromCharCode(...this.#output);
  }

  /** What the client sends next. */
  push(text: string): void {
    this.#input.push(new TextEncoder().encode(text));
    this.#deliver();
  }

  /** The client stops sending. */
  end(): void {
    this.#ended = true;
    this.#deliver();
  }

  override read(buffer: Uint8Array): Promise<number | null> {
    this.calls.push("read");
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    return new Promise((resolve, reject) => {
      this.#pendingRead = { buffer, resolve };
      this.#rejects.add(reject);
      this.#deliver();
    });
  }

  override async write(bytes: Uint8Array): Promise<number> {
    this.calls.push(`write ${bytes.length}`);
    const take = () => bytes.slice(0, Math.min(bytes.length, this.maxWrite));
    let taken = this.takeLate ? undefined : take();
    if (this.gate !== undefined) {
      const { promise, reject } = Promise.withResolvers<never>();
      this.#rejects.add(reject);
      await Promise.race([this.gate, promise]);
      this.#rejects.delete(reject);
    }
    if (this.closed) throw new Deno.errors.BadResource("closed");
    taken ??= take();
    for (const byte of taken) this.#output.push(byte);
    return taken.length;
  }

  override close(): void {
    super.close();
    this.closed = true;
    this.#pendingRead = undefined;
    for (const reject of this.#rejects) {
      reject(new Deno.errors.Interrupted("closed"));
    }
    this.#rejects.clear();
  }

  #deliver(): void {
    const read = this.#pendingRead;
    if (read === undefined) return;
    const piece = this.#input.shift();
    if (piece === undefined && !this.#ended) return;
    this.#pendingRead = undefined;
    if (piece === undefined) return read.resolve(null);
    const n = Math.min(piece.length, read.buffer.length);
    read.buffer.set(piece.subarray(0, n));
    if (n < piece.length) this.#input.unshift(piece.subarray(n));
    read.resolve(n);
  }
}

/** Resolves once `condition` holds; fails after a bounded wait. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Serves `conn` with `handler` while `body` runs, then ends the connection
 * however far it got and waits for it to finish.
 */
async function withConnection(
  conn: ScriptedConn,
  handler: (head: RequestHead) => Response | Promise<Response>,
  body: (connection: Connection) => Promise<void>,
): Promise<void> {
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler,
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
  });
  const served = connection.serve();
  try {
    await body(connection);
  } finally {
    connection.abort();
    await served;
  }
}

Deno.test("Connection stops a pipelined head's clock while the answers ahead of it go out", async () => {
  // The client takes its answers slowly; until they are out, the server
  // reads nothing more, so the head cut short meanwhile is not late. The
  // write is judged as a send, by the idle timeout; the head's clock goes
  // on once it is done.
  const conn = new ScriptedConn();
  const open = Promise.withResolvers<void>();
  conn.gate = open.promise;
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    const second = GET("/2");
    conn.push(GET("/1") + second.slice(0, 10));
    await until(
      () => conn.calls.includes(`write ${KEEP_ALIVE_BYTES}`),
      "the held answer's write",
    );
    connection.expire(coarseNow() + 20_000); // past the header timeout
    assert.equal(conn.closed, false, "a slow send is not a slow head");
    open.resolve();
    await until(() => conn.reading, "the read of the rest of the head");
    conn.gate = undefined;
    assert.equal(conn.written.length, KEEP_ALIVE_BYTES);
    connection.expire(coarseNow() + 20_000);
    await until(() => conn.written.includes(" 408 "), "a 408");
  });
});

Deno.test("Connection writes the rest of an answer the socket took only in part", async () => {
  const conn = new ScriptedConn();
  conn.maxWrite = 100;
  await withConnection(conn, () => answer(SMALL), async () => {
    conn.push("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await until(() => conn.closed, "the connection to end");
  });
  assert.equal(conn.written.length, ANSWER_BYTES);
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n/);
});

/** A handler answering with a frame of 100 "x"s, as the file cache keeps one. */
function framedHandler(): { frame: Frame; handler: () => Response } {
  const frame = new Frame(512, 100);
  frame.body.fill(0x78);
  const response = {
    status: 200,
    fields: "",
    contentLength: 100,
    body: frame.body,
    frame,
  } as const;
  return { frame, handler: () => response };
}

/** Asserts that `written` is the framed 200, whole, with `connection`. */
function assertFramed(written: string, connection: string): void {
  assert.match(
    written,
    new RegExp(
      "^HTTP/1\\.1 200 OK\\r\\nServer: [^\\r]+\\r\\nDate: [^\\r]+ GMT\\r\\n" +
        `Content-Length: 100\\r\\nConnection: ${connection}\\r\\n\\r\\nx{100}$`,
    ),
  );
}

/**
 * Sends `request` on a socket that takes nothing until the end, and while
 * its answer waits there, has another client get the same frame with
 * `Connection: close`; then checks both got their own head.
 */
async function framedWhileWaiting(request: string): Promise<void> {
  const { frame, handler } = framedHandler();
  const slow = new ScriptedConn();
  slow.takeLate = true;
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  slow.gate = gate;
  await withConnection(slow, handler, async () => {
    slow.push(request);
    await until(
      () => slow.calls.some((call) => call.startsWith("write")),
      "the keep-alive answer's write",
    );
    const other = new ScriptedConn();
    await withConnection(other, handler, async () => {
      other.push("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await until(() => other.closed, "the other connection to end");
    });
    assertFramed(other.written, "close");
    open();
    await until(() => slow.written.length > 0, "the socket to take the answer");
    assertFramed(slow.written, "keep-alive");
    // Once written, the frame is free for another head again.
    const closing = handler();
    await until(
      () => frame.whole(closing, false)?.buffer === frame.body.buffer,
      "the frame to be released",
    );
  });
}

Deno.test("Connection keeps a framed answer's head in place until the socket takes it", async () => {
  await framedWhileWaiting(GET("/"));
});

Deno.test("Connection copies a framed answer it holds back for a pipelined request", async () => {
  // The answer waits for the rest of the next head, then goes out alone.
  await framedWhileWaiting(`${GET("/")}GET /next HT`);
});

/** A handler whose answer waits for `reply`; `asked` resolves once it is called. */
function pendingHandler() {
  const asked = Promise.withResolvers<void>();
  const reply = Promise.withResolvers<Response>();
  const handler = () => {
    asked.resolve();
    return reply.promise;
  };
  return { asked, reply, handler };
}

Deno.test("Connection answers 'close' to a request whose answer is pending when it starts draining", async () => {
  const conn = new ScriptedConn();
  const { asked, reply, handler } = pendingHandler();
  await withConnection(conn, handler, async (connection) => {
    conn.push(GET("/"));
    await asked.promise;
    connection.drain();
    reply.resolve(answer(SMALL));
    conn.end();
    await until(() => conn.closed, "the connection to end");
  });
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(conn.written, /\r\nConnection: close\r\n/i);
});

Deno.test("Connection closes an idle keep-alive connection a moment after it starts draining", async () => {
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    conn.push(GET("/"));
    await until(
      () => conn.written.length === KEEP_ALIVE_BYTES && conn.reading,
      "the answer, then a wait for the next request",
    );
    connection.drain();
    connection.expire(coarseNow() + 500);
    assert.equal(conn.closed, false, "closed before the grace is over");
    // Not at the idle timeout (a minute here): a shutdown would wait on it.
    connection.expire(coarseNow() + 2_000);
    assert.equal(conn.closed, true);
  });
  assert.equal(conn.written.length, KEEP_ALIVE_BYTES, "nothing more sent");
});

Deno.test("Connection answers, with Connection: close, a request on its way as it started draining", async () => {
  // A reload or a stop that closed an idle keep-alive connection at once
  // would fail the request a busy client sent right after its last answer.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    conn.push(GET("/"));
    await until(
      () => conn.written.length === KEEP_ALIVE_BYTES && conn.reading,
      "the answer, then a wait for the next request",
    );
    connection.drain();
    conn.push(GET("/"));
    await until(() => conn.written.length > KEEP_ALIVE_BYTES, "an answer");
    conn.end();
    await until(() => conn.closed, "the connection to end");
  });
  const second = conn.written.slice(KEEP_ALIVE_BYTES);
  assert.match(second, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(second, /\r\nConnection: close\r\n/i);
});

Deno.test("Connection closes, a moment after it is idle, after a keep-alive answer in flight when it started draining", async () => {
  // The answer promised keep-alive before the drain began: the connection
  // must end soon after it is idle rather than wait out the idle timeout;
  // not at once, since the client may send its next request meanwhile.
  const conn = new ScriptedConn();
  const open = Promise.withResolvers<void>();
  conn.gate = open.promise;
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    conn.push(GET("/"));
    await until(
      () => conn.calls.includes(`write ${KEEP_ALIVE_BYTES}`),
      "a write",
    );
    connection.drain();
    assert.equal(conn.closed, false, "the answer in flight is not cut");
    open.resolve();
    await until(() => conn.reading, "a wait for the next request");
    connection.expire(coarseNow() + 500);
    assert.equal(conn.closed, false, "closed before the grace is over");
    connection.expire(coarseNow() + 2_000);
    assert.equal(conn.closed, true);
  });
  assert.equal(conn.written.length, KEEP_ALIVE_BYTES);
  assert.match(conn.written, /\r\nConnection: keep-alive\r\n/i);
});

Deno.test("Connection closes a silent fresh connection without a 408 when a draining one expires", async () => {
  // The client asked nothing: an unsolicited 408 at shutdown would be read
  // as the answer to whatever it sends next.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    await until(() => conn.reading, "the first read");
    connection.drain();
    connection.expire(Number.MAX_SAFE_INTEGER);
    assert.equal(conn.closed, true);
  });
  assert.deepEqual(conn.calls.filter((call) => call.startsWith("write")), []);
  assert.equal(conn.written, "");
});

Deno.test("Connection gives a fresh connection a moment to send its first request while draining", async () => {
  // Accepted just before the listener closed, its request is on its way.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    await until(() => conn.reading, "the first read");
    connection.drain();
    connection.expire(coarseNow() + 500);
    assert.equal(conn.closed, false, "closed before the grace is over");
    conn.push(GET("/"));
    await until(() => conn.written.length > 0, "an answer");
    conn.end();
    await until(() => conn.closed, "the connection to end");
  });
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(conn.written, /\r\nConnection: close\r\n/i);
});

Deno.test("Connection ends a silent fresh connection when the grace for its first request is over", async () => {
  // The grace (a second) is shorter than the header timeout (10 s here): a
  // shutdown waits on it, not on the header timeout.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    await until(() => conn.reading, "the first read");
    connection.drain();
    connection.expire(coarseNow() + 2_000);
    assert.equal(conn.closed, true);
  });
  assert.equal(conn.written, "");
});

Deno.test("Connection gives the grace for a first request to one drained before it is served", async () => {
  // Accepted in the same turn as the listener closed, it is drained before
  // it starts: its request is on its way all the same.
  const conn = new ScriptedConn();
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => answer(SMALL),
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
  });
  connection.drain();
  const served = connection.serve();
  try {
    assert.equal(conn.closed, false, "closed before its first request");
    conn.push(GET("/"));
    await until(() => conn.written.length > 0, "an answer");
    conn.end();
  } finally {
    connection.abort();
    await served;
  }
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(conn.written, /\r\nConnection: close\r\n/i);
});

Deno.test("Connection times a new connection's first head from accept, not from its first byte", async () => {
  // A client that waits before its first byte gets no more time for its
  // head: that would double the time a slow client can hold a connection.
  const conn = new ScriptedConn();
  // The clock as a running server keeps it: read between ticks, it stands.
  const stopTicking = keepTicking();
  try {
    await withConnection(conn, () => answer(SMALL), async (connection) => {
      await until(() => conn.reading, "the first read");
      await new Promise((resolve) => setTimeout(resolve, 5));
      tick();
      const firstByte = coarseNow();
      conn.push("GET / HT");
      await until(() => conn.reading, "the read of the rest of the head");
      // Short of the header timeout from the first byte, past it from
      // accept, 5 ms before.
      connection.expire(firstByte + 10_000 - 1);
      await until(() => conn.written.includes(" 408 "), "a 408");
    });
  } finally {
    stopTicking();
  }
});

Deno.test("Connection dates a head's deadline from the time it starts, not from a late tick", async (t) => {
  // A server starved of CPU ticks its coarse clock late: a deadline dated
  // from it would start in the past, and cut a head short by as much.
  const stopTicking = keepTicking();
  try {
    const LATE = 200;
    await t.step("a fresh connection's first head", async () => {
      const ticked = coarseNow();
      await new Promise((resolve) => setTimeout(resolve, LATE));
      const conn = new ScriptedConn();
      await withConnection(conn, () => answer(SMALL), async (connection) => {
        conn.push("GET / HT");
        await until(() => conn.reading, "the read of the rest of the head");
        connection.expire(ticked + 10_000 + LATE / 2);
        assert.equal(conn.closed, false, "expired early");
        assert.equal(conn.written, "");
        connection.expire(performance.now() + 10_000);
        await until(() => conn.written.includes(" 408 "), "a 408");
      });
    });
    await t.step("a head after an answered request", async () => {
      const conn = new ScriptedConn();
      await withConnection(conn, () => answer(SMALL), async (connection) => {
        conn.push(GET("/1"));
        await until(
          () => conn.written.length === KEEP_ALIVE_BYTES && conn.reading,
          "the answer, then a read",
        );
        tick();
        const ticked = coarseNow();
        await new Promise((resolve) => setTimeout(resolve, LATE));
        conn.push("GET /2 HT");
        await until(() => conn.reading, "the read of the rest of the head");
        connection.expire(ticked + 10_000 + LATE / 2);
        assert.equal(conn.closed, false, "expired early");
        assert.equal(conn.written.length, KEEP_ALIVE_BYTES);
        connection.expire(performance.now() + 10_000);
        await until(() => conn.written.includes(" 408 "), "a 408");
      });
    });
  } finally {
    stopTicking();
  }
});

Deno.test("Connection answers an unfinished head with a 408 when it expires while draining", async () => {
  // Only a connection that sent nothing is closed in silence.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    await until(() => conn.reading, "the first read");
    conn.push("GET / HT");
    await until(() => conn.reading, "the read of the rest of the head");
    connection.drain();
    connection.expire(Number.MAX_SAFE_INTEGER);
    await until(() => conn.written.includes(" 408 "), "a 408");
  });
  assert.match(conn.written, /^HTTP\/1\.1 408 /);
});

Deno.test("Connection drains a closing client's unread body before it closes", async () => {
  // The client said Connection: close but its body is still arriving:
  // closing on those bytes would reset the connection and could destroy
  // the answer in flight, small as it is.
  const calls = await serve([
    "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
    "Content-Length: 1000000\r\n\r\n" + "x".repeat(1000),
  ], SMALL);
  assert.deepEqual(calls.slice(-3), ["closeWrite", "read", "close"]);
});

Deno.test("Connection writes held pipelined answers once they pass 64 KiB", async () => {
  // Holding them without a bound would keep every answer of a long
  // pipeline in memory until the client stops sending.
  const body = new Uint8Array(30_000);
  const writes = async (pieces: string[]) =>
    (await serve(pieces, body)).filter((call) => call.startsWith("write"));
  const [lone] = await writes([GET("/1")]);
  const one = Number(lone.split(" ")[1]);
  const calls = await writes([GET("/1") + GET("/2") + GET("/3") + GET("/4")]);
  assert.deepEqual(calls, [
    `write ${3 * one}`,
    `write ${one}`,
  ]);
});

/** A file of `size` bytes that claims more, in place of a Deno.FsFile. */
class ShortFile extends FakeFile {
  #left: number;
  constructor(size: number) {
    super();
    this.#left = size;
  }
  seekSync(): number {
    return 0;
  }
  readSync(buffer: Uint8Array): number | null {
    const n = Math.min(buffer.length, this.#left);
    this.#left -= n;
    return n === 0 ? null : n;
  }
}

Deno.test("Connection closes after a file body that came out shorter than announced", async () => {
  // The client still waits for the missing bytes: the next answer would be
  // read as the rest of this one.
  const conn = new RecordingConn([GET("/1"), GET("/2")]);
  const files: ShortFile[] = [];
  const connection = new Connection(conn as unknown as Deno.TcpConn, {
    handler: () => {
      const file = new ShortFile(4);
      files.push(file);
      return fileAnswer(file);
    },
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  });
  await connection.serve();
  assert.equal(files.length, 1, "the second request is not answered");
  assert.equal(files[0].closed, true);
  assert.deepEqual(conn.calls.slice(-2), ["write 4", "close"]);
});

/**
 * A socket whose client takes `budget` bytes, then resets the connection;
 * what it took is kept.
 */
class LeavingConn extends RecordingConn {
  #budget: number;
  #taken = "";

  constructor(pieces: string[], budget: number) {
    super(pieces);
    this.#budget = budget;
  }

  override write(bytes: Uint8Array): Promise<number> {
    if (this.#budget === 0) {
      return Promise.reject(new Deno.errors.ConnectionReset("reset"));
    }
    const n = Math.min(bytes.length, this.#budget);
    this.#budget -= n;
    this.#taken += new TextDecoder("latin1").decode(bytes.subarray(0, n));
    return Promise.resolve(n);
  }

  /** How many bytes the client took. */
  get taken(): number {
    return this.#taken.length;
  }

  /** Where each answer's body starts in what was taken. */
  bodyStarts(): number[] {
    return [...this.#taken.matchAll(/\r\n\r\n/g)].map((m) => m.index + 4);
  }
}

type Logged = { requestLine?: string; status: number; bytes: number };

/** What a connection on `conn` logs, answering with `respond()`. */
async function logged(
  conn: RecordingConn,
  respond: () => Response,
): Promise<Logged[]> {
  const entries: Logged[] = [];
  await new Connection(conn as unknown as Deno.TcpConn, {
    handler: respond,
    log: {
      record: (entry: LogEntry) => entries.push(entry),
    } as unknown as AccessLog,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  }).serve();
  return entries.map(({ requestLine, status, bytes }) => ({
    requestLine,
    status,
    bytes,
  }));
}

const got = (target: string, bytes: number): Logged => ({
  requestLine: `GET ${target} HTTP/1.1`,
  status: 200,
  bytes,
});

Deno.test("Connection logs an answer cut short with the body bytes the client got", async (t) => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(600_000));
    const bodies: [string, () => Response["body"], number][] = [
      ["a small body, one write with its head", () => SMALL, 200],
      ["a big body from memory", () => new Uint8Array(600_000), 300_000],
      ["a file, streamed", () => ({
        kind: "file",
        file: Deno.openSync(path),
        offset: 0,
        length: 600_000,
      }), 300_000],
    ];
    for (const [name, body, budget] of bodies) {
      await t.step(name, async () => {
        // The head, part of the body, then the reset.
        const conn = new LeavingConn([GET("/f")], budget);
        const entries = await logged(conn, () => {
          const b = body();
          const length = b instanceof Uint8Array ? b.length : 600_000;
          return { status: 200, fields: "", contentLength: length, body: b };
        });
        const part = conn.taken - conn.bodyStarts()[0];
        assert.ok(part > 0 && part < 600_000 && conn.taken === budget);
        assert.deepEqual(entries, [got("/f", part)]);
      });
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Connection logs held answers with the body bytes of each that went out", async () => {
  // Three pipelined answers written together; the client leaves halfway
  // through the second's body.
  const probe = new LeavingConn([GET("/a") + GET("/b") + GET("/c")], Infinity);
  await logged(probe, () => answer(SMALL));
  const [, second] = probe.bodyStarts();
  const conn = new LeavingConn(
    [GET("/a") + GET("/b") + GET("/c")],
    second + 30,
  );
  assert.deepEqual(await logged(conn, () => answer(SMALL)), [
    got("/a", 100),
    got("/b", 30),
    got("/c", 0),
  ]);
});

Deno.test("Connection closes a kept-alive connection whose multipart body came out short", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/shrinks.bin`;
    Deno.writeFileSync(path, new Uint8Array(100).fill(0x61));
    const multipart = createMultipartByteranges({
      boundary: "B",
      contentType: "text/plain",
      ranges: [{ start: 0, end: 9 }, { start: 90, end: 99 }],
      size: 100,
    });
    const file = Deno.openSync(path);
    Deno.truncateSync(path, 50); // after the stat that framed the answer
    const conn = new ScriptedConn();
    const connection = new Connection(conn as unknown as Deno.TcpConn, {
      handler: () => ({
        status: 206,
        fields: `Content-Type: ${multipart.contentType}\r\n`,
        contentLength: multipart.contentLength,
        body: { kind: "multipart", file, multipart },
      }),
      log: undefined,
      report: (where, error) => assert.fail(`${where}: ${error}`),
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
    });
    const served = connection.serve();
    conn.push(GET("/shrinks.bin"));
    // It ends by itself: the client asked to keep the connection.
    await until(() => conn.closed, "the connection to close");
    await served;
    const written = conn.written;
    assert.match(written, /^HTTP\/1\.1 206 Partial Content\r\n/);
    assert.match(written, /\r\nConnection: keep-alive\r\n/i);
    const body = written.slice(written.indexOf("\r\n\r\n") + 4);
    assert.ok(
      body.length < multipart.contentLength,
      `${body.length} of ${multipart.contentLength} body bytes`,
    );
    assert.ok(!body.includes("--B--"), "no closing delimiter");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Connection ends its linger after a 408 at the linger's deadline, not the idle timeout's", async () => {
  // Writing the 408 pushed the deadline on by the idle timeout (a minute
  // here): the linger that follows is the shorter one.
  const conn = new ScriptedConn();
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    conn.push("GET / HT");
    await until(() => conn.reading, "the read of the rest of the head");
    connection.expire(Number.MAX_SAFE_INTEGER);
    await until(() => conn.calls.includes("closeWrite"), "the half-close");
    assert.equal(conn.closed, false, "the linger was skipped");
    connection.expire(performance.now() + 5_000);
    assert.equal(conn.closed, true, "still lingering");
  });
  assert.match(conn.written, /^HTTP\/1\.1 408 /);
});

Deno.test("Connection ends its linger after a last answer at the linger's deadline, not the idle timeout's", async () => {
  const conn = new ScriptedConn();
  const closing = (): Response => ({ ...answer(SMALL), close: true });
  await withConnection(conn, closing, async (connection) => {
    conn.push(GET("/"));
    await until(() => conn.calls.includes("closeWrite"), "the half-close");
    assert.equal(conn.closed, false, "the linger was skipped");
    connection.expire(performance.now() + 5_000);
    assert.equal(conn.closed, true, "still lingering");
  });
  assert.match(conn.written, /^HTTP\/1\.1 200 OK\r\n/);
});

Deno.test("Connection dates a linger's deadline from the time it starts, not from a late tick", async () => {
  // As with a head: a linger dated from a late tick would be cut short.
  const LATE = 200;
  const stopTicking = keepTicking();
  try {
    const conn = new ScriptedConn();
    const closing = (): Response => ({ ...answer(SMALL), close: true });
    await withConnection(conn, closing, async (connection) => {
      await until(() => conn.reading, "the first read");
      const ticked = coarseNow();
      await new Promise((resolve) => setTimeout(resolve, LATE));
      conn.push(GET("/"));
      await until(() => conn.calls.includes("closeWrite"), "the half-close");
      connection.expire(ticked + 2_000 + LATE / 2);
      assert.equal(conn.closed, false, "the linger was cut short");
      connection.expire(performance.now() + 2_000);
      assert.equal(conn.closed, true, "still lingering");
    });
  } finally {
    stopTicking();
  }
});

/** A recording socket whose client never stops sending: 16 KiB a read. */
class FloodingConn extends RecordingConn {
  reads = 0;

  constructor(request: string) {
    super([request]);
  }

  override read(buffer: Uint8Array): Promise<number | null> {
    if (this.reads++ === 0) return super.read(buffer);
    // A bound of its own, so that a connection that never stops reading
    // fails the test instead of spinning forever.
    if (this.reads > 1000) return Promise.resolve(null);
    buffer.fill(0x78, 0, 16384);
    return Promise.resolve(16384);
  }
}

Deno.test("Connection reads no more than 1 MiB from a client that keeps sending as it lingers", async () => {
  const conn = new FloodingConn(
    "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
      "Content-Length: 100000000\r\n\r\n",
  );
  await connectionOn(conn, () => SMALL).serve();
  assert.ok(conn.calls.includes("closeWrite"), conn.calls.join());
  // 1 MiB in reads of 16 KiB; the head's read may have taken a first part.
  assert.ok(conn.reads <= 66, `${conn.reads} reads`);
  assert.equal(conn.calls.at(-1), "close");
});

Deno.test("Connection closes, without a 408, when its answer to a malformed head stalls past the deadline", async () => {
  // The head is over once refused: its deadline passing means a stalled
  // send, and a 408 written beside the 400 would garble both.
  const conn = new ScriptedConn();
  conn.gate = new Promise(() => {});
  await withConnection(conn, () => answer(SMALL), async (connection) => {
    conn.push("GET / HTTP/1.1\r\nHost x\r\n\r\n");
    await until(
      () => conn.calls.some((call) => call.startsWith("write")),
      "the refusal's write",
    );
    connection.expire(Number.MAX_SAFE_INTEGER);
    assert.equal(conn.closed, true);
  });
  assert.equal(
    conn.calls.filter((call) => call.startsWith("write")).length,
    1,
    conn.calls.join(),
  );
});

Deno.test("Connection dates a draining fresh connection's grace from the drain, not from a late tick", async () => {
  // As with a head: a grace dated from a late tick would be cut short, and
  // a request on its way would find the connection closed.
  const LATE = 200;
  const stopTicking = keepTicking();
  try {
    const conn = new ScriptedConn();
    await withConnection(conn, () => answer(SMALL), async (connection) => {
      await until(() => conn.reading, "the first read");
      const ticked = coarseNow();
      await new Promise((resolve) => setTimeout(resolve, LATE));
      connection.drain();
      connection.expire(ticked + 1_000 + LATE / 2);
      assert.equal(conn.closed, false, "the grace was cut short");
      connection.expire(performance.now() + 1_000);
      assert.equal(conn.closed, true);
    });
  } finally {
    stopTicking();
  }
});

Deno.test("Connection answers nothing more after an answer that closes it, however many requests came with it", async () => {
  const conn = new RecordingConn([GET("/1") + GET("/2")]);
  let served = 0;
  await new Connection(conn as unknown as Deno.TcpConn, {
    // The first answer ends the connection, as a failed handler's does.
    handler: () =>
      served++ === 0 ? { ...answer(SMALL), close: true } : answer(SMALL),
    log: undefined,
    report: (where, error) => assert.fail(`${where}: ${error}`),
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
  }).serve();
  assert.deepEqual(
    conn.calls.filter((call) => call.startsWith("write")),
    [`write ${ANSWER_BYTES}`],
  );
  assert.equal(served, 1);
});

Deno.test("Connection gives an answer in the making the idle timeout, not the header timeout", async () => {
  // A slow file open is a slow send, not a slow head: 10 s of header
  // timeout here, a minute of idle timeout.
  const conn = new ScriptedConn();
  const { asked, reply, handler } = pendingHandler();
  await withConnection(conn, handler, async (connection) => {
    conn.push(GET("/"));
    await asked.promise;
    connection.expire(performance.now() + 30_000);
    assert.equal(conn.closed, false, "cut off at the header timeout");
    connection.expire(performance.now() + 120_000);
    assert.equal(conn.closed, true);
    reply.resolve(answer(SMALL));
  });
  assert.equal(conn.written, "");
});
