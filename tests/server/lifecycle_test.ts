import assert from "node:assert/strict";
import { createFileHandler } from "../../server/file_handler.ts";
import type { AccessLog } from "../../server/access_log.ts";
import { coarseNow } from "../../server/clock.ts";
import {
  openTimeoutFor,
  serve,
  type ServeOptions,
  type Server,
} from "../../server/listen.ts";
import { errorResponse } from "../../server/response.ts";
import { RunningServer } from "../../server/_running_server.ts";
import { within } from "../../server/_within.ts";
import {
  fetchRaw,
  fifoAtOpen,
  get,
  header,
  RawClient,
  startServer,
  SUITE_ROOT,
  tempDir,
  text,
} from "./_harness.ts";
import { waitFor } from "./_waits.ts";

const PAGE = "/httptest/wikipedia_russia.html";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PAGE_SIZE = 954824;

Deno.test("an answer survives a body the server closes on instead of reading", async () => {
  await using server = startServer({ root: SUITE_ROOT });
  using client = await RawClient.connect(server.port);
  // A body too big to skip: the server answers, then ends the connection
  // the client meant to keep. The body arrives while the big answer is on
  // its way; closing on those unread bytes would reset the connection.
  await client.send(
    `GET ${PAGE} HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n`,
  );
  await sleep(100);
  await client.send("x".repeat(200_000));
  await sleep(100);
  const response = await client.readResponse();
  assert.equal(response.status, 200);
  assert.equal(header(response, "connection"), "close");
  assert.equal(response.body.length, PAGE_SIZE);
  assert.equal(await client.serverClosed(), true);
});

Deno.test("a refused request does not cut short the answer still on its way ahead of it", async () => {
  await using server = startServer({ root: SUITE_ROOT });
  using client = await RawClient.connect(server.port);
  // The big answer waits in the server's send buffer while the client
  // reads nothing; the malformed head behind it is refused with bytes
  // still unread after it. Closing on those would reset the connection
  // and throw away what was not yet sent.
  await client.send(
    `GET ${PAGE} HTTP/1.1\r\nHost: t\r\n\r\n` +
      `GET / HTTP/1.1\r\nHost: t\r\nBad Field: x\r\n\r\n${"x".repeat(200_000)}`,
  );
  await client.closeWrite();
  await sleep(200);
  const page = await client.readResponse();
  assert.equal(page.status, 200);
  assert.equal(page.body.length, PAGE_SIZE);
  const refused = await client.readResponse();
  assert.equal(refused.status, 400);
  assert.equal(header(refused, "connection"), "close");
  // What a reset would lose shows above, in the page; this only checks that
  // the connection then ends with an end of stream.
  assert.equal(await client.ending(), "eof");
});

Deno.test("a handler that fails gets the client a 500 and a closed connection, and is reported", async () => {
  const failures: [string, () => never | Promise<never>][] = [
    ["thrown", () => {
      throw new Error("thrown");
    }],
    ["rejected", () => Promise.reject(new Error("rejected"))],
  ];
  for (const [message, handler] of failures) {
    // Idle connections outlive the client's wait (10 s), so a close seen
    // here is the failure's, not the idle timeout's.
    await using server = startServer({
      root: SUITE_ROOT,
      handler,
      idleTimeout: 60,
    });
    using client = await RawClient.connect(server.port);
    // A request that would keep the connection: the failure ends it.
    await client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    const response = await client.readResponse();
    assert.equal(response.status, 500);
    assert.equal(header(response, "connection"), "close");
    assert.equal(await client.serverClosed(), true);
    assert.equal(server.reports.length, 1);
    assert.ok(
      server.reports[0].startsWith(`handler: Error: ${message}`),
      server.reports[0],
    );
  }
});

Deno.test("connections reset before accept do not stall the accept loop", async () => {
  await using server = startServer({ root: SUITE_ROOT });
  // SO_LINGER 0 makes close() send a reset at once; Deno cannot set it, python can.
  const script = `
import socket, struct
for _ in range(50):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("127.0.0.1", ${server.port}))
    s.close()
`;
  const status = await new Deno.Command("python3", { args: ["-c", script] })
    .output();
  assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
  const response = await fetchRaw(server.port, get("/httptest/dir2/page.html"));
  assert.equal(response.status, 200);
  assert.deepEqual(server.reports, [], "resets are not unexpected errors");
});

Deno.test("a big file swapped for a symlink out of the root is refused at once", async () => {
  using outside = tempDir();
  using dir = tempDir();
  const secret = "s".repeat(2 << 20);
  Deno.writeTextFileSync(`${outside.path}/secret.txt`, secret);
  Deno.writeTextFileSync(`${dir.path}/big.txt`, "b".repeat(2 << 20));
  await using server = startServer({ root: dir.path });
  assert.equal((await fetchRaw(server.port, get("/big.txt"))).status, 200);
  // Within the cache's window, the path is replaced by a link to the outside.
  Deno.removeSync(`${dir.path}/big.txt`);
  Deno.symlinkSync(`${outside.path}/secret.txt`, `${dir.path}/big.txt`);
  const response = await fetchRaw(server.port, get("/big.txt"));
  assert.equal(response.status, 403);
  assert.ok(!text(response).includes("sss"), "no byte of the outside file");
});

Deno.test("a big file swapped for a FIFO is refused, not opened", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/big.txt`, "b".repeat(2 << 20));
  await using server = startServer({ root: dir.path });
  assert.equal((await fetchRaw(server.port, get("/big.txt"))).status, 200);
  Deno.removeSync(`${dir.path}/big.txt`);
  const mkfifo = await new Deno.Command("mkfifo", {
    args: [`${dir.path}/big.txt`],
  }).output();
  assert.equal(mkfifo.code, 0);
  const response = await fetchRaw(server.port, get("/big.txt"));
  assert.equal(response.status, 403);
});

Deno.test("a file swapped for a FIFO as it is opened stalls no other request", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  Deno.writeTextFileSync(`${dir.path}/b.txt`, "b");
  const fifo = fifoAtOpen(`${dir.path}/a.txt`);
  const handler = createFileHandler({
    root: dir.path,
    open: fifo.open,
    openTimeoutMs: 2000,
  });
  await using server = startServer({ root: dir.path, handler });
  let answered = false;
  const stuck = fetchRaw(server.port, get("/a.txt")).finally(() => {
    answered = true;
  });
  for (let i = 0; i < 200 && !fifo.swapped; i++) await sleep(10);
  assert.ok(fifo.swapped, "the open found a FIFO");
  const other = await fetchRaw(server.port, get("/b.txt"));
  assert.equal(other.status, 200);
  assert.equal(text(other), "b");
  assert.equal(answered, false, "served while the other open hangs");
  const response = await stuck;
  assert.equal(response.status, 503);
  assert.equal(header(response, "retry-after"), "1");
  const late = await fifo.release();
  assert.throws(() => late!.statSync(), Deno.errors.BadResource, "closed");
});

Deno.test("a redirect escapes the query into plain RFC 3986 characters", async () => {
  await using server = startServer({ root: SUITE_ROOT });
  const response = await fetchRaw(
    server.port,
    `GET /httptest/dir2?a="<b>"&c=\xfc HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(response.status, 301);
  assert.equal(
    header(response, "location"),
    "/httptest/dir2/?a=%22%3Cb%3E%22&c=%FC",
  );
});

Deno.test("a head completed after its 408 gets no second answer", async () => {
  await using server = startServer({ root: SUITE_ROOT, headerTimeout: 0.5 });
  using client = await RawClient.connect(server.port);
  await client.send("GET /httptest/dir2/page.html HTTP/1.1\r\nHost: t\r\n");
  const timeout = await client.readResponse();
  assert.equal(timeout.status, 408);
  assert.equal(header(timeout, "connection"), "close");
  await client.send("\r\n").catch(() => {});
  assert.equal(
    await client.serverClosed(),
    true,
    "closed with nothing after the 408",
  );
});

Deno.test("a small file's cached answer carries the Date of the second it is sent in", async () => {
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  await using server = startServer({ root: dir.path });
  const first = await fetchRaw(server.port, get("/a.txt"));
  // Past the next second boundary, and past the server's next tick.
  await sleep(1000 - (Date.now() % 1000) + 300);
  const second = await fetchRaw(server.port, get("/a.txt"));
  const sent = Date.parse(header(second, "date")!);
  assert.ok(sent > Date.parse(header(first, "date")!), "the Date moved on");
});

Deno.test("serve() closes an idle keep-alive connection a moment after it shuts down", async () => {
  // A grace far longer than the test may take: only an active close (a
  // second after the drain, see connection_test) ends the idle connection
  // in time.
  await using server = startServer({
    root: SUITE_ROOT,
    shutdownGraceMs: 60_000,
  });
  using client = await RawClient.connect(server.port);
  await client.send(`GET ${PAGE} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.equal((await client.readResponse()).status, 200);
  const stopped = server.close().then(() => "finished");
  assert.equal(await client.serverClosed(), true, "closed, nothing sent");
  // Finished once that connection is gone, not when the grace ends.
  assert.equal(await within(stopped, 10_000), "finished");
});

Deno.test("serve() shares its port with other processes only when asked", async (t) => {
  // Joining a port that is not shared must fail, or a second server
  // started by mistake would silently take half of the connections.
  const join = (port: number) =>
    Deno.listen({ hostname: "127.0.0.1", port, reusePort: true }).close();
  await t.step("not by default", async () => {
    await using server = startServer({ root: SUITE_ROOT });
    assert.throws(() => join(server.port), Deno.errors.AddrInUse);
  });
  await t.step("with reusePort", async () => {
    await using server = startServer({ root: SUITE_ROOT, reusePort: true });
    join(server.port);
  });
});

Deno.test("openTimeoutFor() leaves room for six opens within the idle timeout", () => {
  assert.equal(openTimeoutFor(15_000), 2_142); // the defaults
  for (const idle of [1_000, 5_000, 15_000, 24_000, 25_000, 60_000, 3.6e6]) {
    const open = openTimeoutFor(idle);
    assert.ok(6 * open < idle, `${open} ms of ${idle} ms`);
    assert.ok(open > 0 && open <= 5_000, `${open} ms of ${idle} ms`);
  }
  assert.equal(openTimeoutFor(60_000), 5_000);
});

/**
 * A server whose handler never answers, with one client whose request is
 * in that handler: only the grace period ends a shutdown's wait.
 */
async function stalledServer() {
  const server = serve({
    root: SUITE_ROOT,
    hostname: "127.0.0.1",
    port: 0,
    accessLog: false,
    handler: () => new Promise(() => {}),
  });
  const client = await RawClient.connect(server.addr.port);
  await client.send(`GET ${PAGE} HTTP/1.1\r\nHost: t\r\n\r\n`);
  await sleep(100); // The request is in the handler.
  return { server, client, [Symbol.dispose]: () => client.close() };
}

Deno.test("serve()'s shutdown waits 5 s for a response in flight by default", async () => {
  using stalled = await stalledServer();
  const { server, client } = stalled;
  let stopped = false;
  const stopping = server.shutdown().then(() => stopped = true);
  await sleep(4_000);
  assert.equal(stopped, false, "the grace ended before 4 s");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stopping,
    new Promise((resolve) => timer = setTimeout(resolve, 4_000)),
  ]);
  clearTimeout(timer);
  assert.equal(stopped, true, "still waiting after 8 s");
  assert.equal(await client.serverClosed(), true, "closed, nothing sent");
});

Deno.test("serve()'s shutdown takes a grace of its own, and a later call only shortens it", async () => {
  using stalled = await stalledServer();
  const { server, client } = stalled;
  let stopped = false;
  const stopping = server.shutdown(60_000).then(() => stopped = true);
  await sleep(300);
  void server.shutdown(120_000); // longer: changes nothing
  await sleep(300);
  assert.equal(stopped, false, "a grace of 60 s ended within 600 ms");
  const started = performance.now();
  void server.shutdown(200);
  void server.shutdown(10_000); // longer again, after the short one: nothing
  await stopping;
  const took = performance.now() - started;
  assert.ok(took < 5_000, `a grace shortened to 200 ms took ${took} ms`);
  assert.equal(await client.serverClosed(), true, "closed, nothing sent");
});

/** serve() on a free loopback port, the suite's root, no access log. */
function quietServer(options: Partial<ServeOptions> = {}): Server {
  return serve({
    root: SUITE_ROOT,
    hostname: "127.0.0.1",
    port: 0,
    accessLog: false,
    ...options,
  });
}

Deno.test("serve()'s abort() ends a response in flight without waiting out the grace", async () => {
  const server = quietServer({
    shutdownGraceMs: 60_000,
    handler: () => new Promise(() => {}),
  });
  using client = await RawClient.connect(server.addr.port);
  await client.send(`GET ${PAGE} HTTP/1.1\r\nHost: t\r\n\r\n`);
  await sleep(100); // The request is in the handler.
  const stopping = server.abort();
  try {
    assert.equal(await client.serverClosed(), true, "closed, nothing sent");
  } finally {
    void server.shutdown(0); // Ends the wait, should the abort not have.
  }
  await stopping;
});

Deno.test("serve()'s shutdown called again once it has finished leaves no timer behind", async () => {
  // The test's sanitizer fails on a timer still pending at its end: one
  // would hold a stopped server's process for the grace given.
  const server = quietServer();
  await server.shutdown();
  await server.shutdown(1_000); // Shorter than the grace of the first.
});

Deno.test("serve()'s abort() called once it has finished leaves no timer behind", async () => {
  // As above: the sanitizer fails on the 1 s wait for aborted connections
  // if abort() starts it on a server with none left.
  const server = quietServer();
  await server.shutdown();
  await server.abort();
});

Deno.test("a stopped server leaves the clock to refresh itself again", async () => {
  // While a server runs, its sweeper ticks the clock; once it stops, a read
  // of the clock must refresh it, or the Date field and every deadline of
  // a handler used on its own would stand still.
  const server = quietServer();
  await server.shutdown();
  const before = coarseNow();
  await sleep(20);
  assert.ok(coarseNow() > before, "the clock stood still");
});

Deno.test("serve()'s shutdown with nothing in flight finishes without waiting out the grace", async () => {
  const server = quietServer({
    shutdownGraceMs: 60_000,
  });
  const finished = server.shutdown().then(() => "finished");
  assert.equal(await within(finished, 10_000), "finished");
  void server.shutdown(0); // Should it still wait, it waits no more.
  await server.finished;
});

/**
 * A server on `listener` as serve() would build it, its every request
 * answered 404, with a minute of shutdown grace unless told otherwise.
 */
function runningServer(
  listener: unknown,
  options: {
    log?: AccessLog;
    timeoutMs?: number;
    shutdownGraceMs?: number;
    report?: (where: string, error: unknown) => void;
    root?: string;
    say?: (line: string) => void;
  } = {},
): RunningServer {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new RunningServer(listener as Deno.TcpListener, {
    root: options.root ?? SUITE_ROOT,
    say: options.say ?? ((line) => assert.fail(`said: ${line}`)),
    connection: {
      handler: () => errorResponse(404, "GET"),
      log: options.log,
      report: options.report ??
        ((where, error) => assert.fail(`${where}: ${error}`)),
      headerTimeoutMs: timeoutMs,
      idleTimeoutMs: timeoutMs,
    },
    maxConnections: 10,
    shutdownGraceMs: options.shutdownGraceMs ?? 60_000,
    ownStderr: undefined,
  });
}

Deno.test("a stopped server finishes though its access log never flushes", async () => {
  // A stdout nobody reads must not hold the exit.
  const log = {
    record: () => {},
    flush: () => new Promise<void>(() => {}),
  } as unknown as AccessLog;
  const server = runningServer(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    { log, shutdownGraceMs: 1_000 },
  );
  const finished = server.shutdown().then(() => "finished");
  assert.equal(await within(finished, 10_000), "finished");
});

Deno.test("serve() answers 503 to every connection over the limit, however many it refused before", async () => {
  // More than the 256 refusals it makes at once, beyond which it just
  // closes: each refusal, once over, must make room for the next.
  using dir = tempDir();
  Deno.writeTextFileSync(`${dir.path}/a.txt`, "a");
  await using server = startServer({ root: dir.path, maxConnections: 1 });
  using held = await RawClient.connect(server.port);
  await held.send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
  assert.equal((await held.readResponse()).status, 200);
  for (let i = 0; i < 300; i++) {
    using extra = await RawClient.connect(server.port);
    const refusal = new TextDecoder().decode(await extra.readToEnd());
    assert.match(refusal, /^HTTP\/1\.1 503 /, `refusal ${i + 1}`);
  }
});

/** A listener that accepts what the test hands it, in place of a Deno.TcpListener. */
class HandingListener {
  readonly addr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  #waiting: PromiseWithResolvers<Deno.TcpConn> | undefined;
  #closed = false;

  accept(): Promise<Deno.TcpConn> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    this.#waiting = Promise.withResolvers();
    return this.#waiting.promise;
  }

  /** Completes the accept under way with `conn`. */
  hand(conn: unknown): void {
    this.#waiting!.resolve(conn as Deno.TcpConn);
  }

  close(): void {
    this.#closed = true;
    this.#waiting?.reject(new Deno.errors.BadResource("closed"));
  }
}

/** A client connection that sends nothing, and says whether it was closed. */
class SilentConn {
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 2 };
  closed = false;
  #reject: ((error: Error) => void) | undefined;

  read(): Promise<number | null> {
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    return new Promise((_, reject) => this.#reject = reject);
  }

  close(): void {
    this.closed = true;
    this.#reject?.(new Deno.errors.BadResource("closed"));
  }
}

Deno.test("a connection accepted in the same turn as an abort is closed like the others", async () => {
  const listener = new HandingListener();
  const server = runningServer(listener);
  const conn = new SilentConn();
  try {
    await sleep(10); // The accept loop waits on the listener.
    listener.hand(conn);
    await server.abort();
    assert.equal(conn.closed, true, "left open after the server finished");
  } finally {
    conn.close();
  }
});

Deno.test("a connection accepted in the same turn as a shutdown is drained like the others", async () => {
  // Silent, it gets the moment a fresh connection gets for its first
  // request, not the header timeout (a minute here), and is closed.
  const listener = new HandingListener();
  const server = runningServer(listener, { timeoutMs: 60_000 });
  const conn = new SilentConn();
  try {
    await sleep(10); // The accept loop waits on the listener.
    listener.hand(conn);
    const finished = server.shutdown().then(() => "finished");
    assert.equal(await within(finished, 10_000), "finished");
    assert.equal(conn.closed, true);
  } finally {
    conn.close();
    await server.finished;
  }
});

Deno.test("a client accepted on the spare descriptor is served when descriptors came free meanwhile", async () => {
  // The first accept fails for want of a descriptor; the spare is given up
  // to accept the waiting client, and taken back at once (nothing is short
  // of descriptors here): that client gets its answer (the builder's 404),
  // not the 503 kept for a server still out of them.
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let failed = false;
  const listener = {
    addr: real.addr,
    accept(): Promise<Deno.TcpConn> {
      if (failed) return real.accept();
      failed = true;
      const error = Object.assign(new Error("Too many open files"), {
        code: "EMFILE",
      });
      return Promise.reject(error);
    },
    close: () => real.close(),
  };
  // Connected before the server starts: it waits in the listen queue, so
  // the accept on the spare finds it at once.
  using client = await RawClient.connect(real.addr.port);
  await client.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
  const reports: string[] = [];
  const server = runningServer(listener, {
    report: (where, error) => reports.push(`${where}: ${error}`),
  });
  try {
    assert.equal((await client.readResponse()).status, 404);
    assert.deepEqual(reports, ["accept: Error: Too many open files"]);
  } finally {
    await server.shutdown(0);
  }
});

/** How many of this process's descriptors are open on `path`. */
function descriptorsOn(path: string): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === path) count++;
    } catch {
      // Closed since the listing.
    }
  }
  return count;
}

Deno.test("the spare descriptor, lost, is taken again once one can be", async () => {
  // A refusal's descriptor taken by another open before the spare got it
  // back left the server without a spare for the rest of its life: the
  // next time descriptors ran out, clients waited unanswered. Here the
  // spare cannot be opened at first (its path is missing), which is the
  // same state.
  using dir = tempDir();
  const root = `${dir.path}/root`;
  const listener = new HandingListener();
  // The missing root is said to be gone: not what this test is about.
  const server = runningServer(listener, { root, say: () => {} });
  try {
    await sleep(250); // Sweeps find nothing to open.
    assert.equal(descriptorsOn(root), 0);
    Deno.mkdirSync(root);
    await waitFor("the spare held", () => descriptorsOn(root) === 1, 5_000);
  } finally {
    await server.shutdown(0);
  }
  assert.equal(descriptorsOn(root), 0, "released at the stop");
});

Deno.test("a server says when its root is gone, and when it is back", async () => {
  // Removed or renamed while serving, the root makes every request a 404:
  // without a word, that looks like a server that works.
  using dir = tempDir();
  const root = `${dir.path}/root`;
  Deno.mkdirSync(root);
  const lines: string[] = [];
  const server = runningServer(new HandingListener(), {
    root,
    say: (line) => lines.push(line),
  });
  try {
    Deno.renameSync(root, `${dir.path}/moved`);
    await waitFor("the root gone", () => lines.length === 1, 5_000);
    assert.equal(
      lines[0],
      `httpd.ts: the document root ${root} is gone: every request gets 404 until a directory is back there`,
    );
    Deno.renameSync(`${dir.path}/moved`, root);
    await waitFor("the root back", () => lines.length === 2, 5_000);
    assert.equal(lines[1], `httpd.ts: the document root ${root} is back`);
  } finally {
    await server.shutdown(0);
  }
});
