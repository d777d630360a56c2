/**
 * What a new connection costs httpd's own code, the runtime's socket work
 * aside: `deno bench --allow-read --allow-write bench/connection_bench.ts`. Each iteration is one
 * connection that sends `ab -r`'s request for a cached 1 KB file and gets
 * the whole answer in one write, over a stand-in for `Deno.TcpConn` that
 * does no I/O. The baseline reads, writes a prebuilt answer and closes,
 * over the same stand-in: what httpd adds to that is its connection,
 * request pipeline and file handler.
 *
 * @module
 */
import { Connection } from "../server/connection.ts";
import { createFileHandler } from "../server/file_handler.ts";

const REQUEST = new TextEncoder().encode(
  "GET /1k.html HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n" +
    "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
);

const root = Deno.makeTempDirSync({ prefix: "httpd-connection-bench-" });
Deno.writeFileSync(`${root}/1k.html`, new Uint8Array(1024).fill(120));
const realRoot = Deno.realPathSync(root);
globalThis.addEventListener("unload", () => {
  Deno.removeSync(root, { recursive: true });
});

/** A connection whose client sends `REQUEST` and takes every write whole. */
function standIn(): Deno.TcpConn {
  let sent = false;
  let written = 0;
  const conn = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (sent) return Promise.resolve(null);
      sent = true;
      buffer.set(REQUEST);
      return Promise.resolve(REQUEST.length);
    },
    write(bytes: Uint8Array): Promise<number> {
      written += bytes.length;
      return Promise.resolve(bytes.length);
    },
    closeWrite: () => Promise.resolve(),
    setNoDelay() {},
    close() {
      if (written === 0) throw new Error("Closed without an answer");
    },
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  };
  return conn as unknown as Deno.TcpConn;
}

const options = {
  handler: createFileHandler({ root: realRoot }),
  log: undefined,
  report: (_where: string, error: unknown) => {
    throw error;
  },
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};
// Loaded into the cache before timing: every request below is a hit.
await new Connection(standIn(), options).serve();

const ANSWER = new Uint8Array(1200);
const scratch = new Uint8Array(4096);

Deno.bench("Connection: a new connection, one request (ab -r)", {
  group: "connection",
}, async () => {
  await new Connection(standIn(), options).serve();
});

Deno.bench("read, write, close: the least a connection costs", {
  group: "connection",
  baseline: true,
}, async () => {
  const conn = standIn();
  await conn.read(scratch);
  await conn.write(ANSWER);
  conn.close();
});
