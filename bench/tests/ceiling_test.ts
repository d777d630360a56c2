import assert from "node:assert/strict";
import { createDocumentRoot, FIXTURES } from "../_fixtures.ts";
import { checkServer } from "../_sanity.ts";
import { type RunningServer, startServer } from "../_server_process.ts";

/** Starts the ceiling on a fresh root; `use` gets its port. */
async function withCeiling(
  use: (server: RunningServer, port: number) => Promise<void>,
): Promise<void> {
  const root = await createDocumentRoot();
  const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-test-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const server = await startServer(
    { id: "ceiling", label: "ceiling", kind: "deno-listen", workers: 1 },
    { root, port, stateDir, httpdPath: "httpd.ts" },
    stateDir,
  );
  try {
    await use(server, port);
  } finally {
    await server.stop();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** Sends `request` on a new connection and reads until the server closes. */
async function exchange(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const decoder = new TextDecoder("latin1");
    const timer = setTimeout(() => conn.close(), 5000);
    try {
      for await (const chunk of conn.readable) {
        text += decoder.decode(chunk, { stream: true });
      }
    } finally {
      clearTimeout(timer);
    }
    return text;
  } catch (error) {
    conn.close();
    throw error;
  }
}

Deno.test("the ceiling serves every fixture and 404s what it lacks", async () => {
  await withCeiling(async (server) => {
    assert.deepEqual(await checkServer(server.origin), []);
  });
});

Deno.test(
  "the ceiling keeps HTTP/1.0 connections alive only when asked, as ab -k " +
    "and ab -r need",
  async () => {
    await withCeiling(async (_server, port) => {
      const path = FIXTURES.tiny.path;
      // The same request twice asking to keep the connection, then another
      // that does not: three answers, the last for its own file and with no
      // body (HEAD), then the server closes.
      const keepAlive =
        `GET ${path} HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n`;
      const all = await exchange(
        port,
        keepAlive + keepAlive + `HEAD ${FIXTURES.small.path} HTTP/1.0\r\n\r\n`,
      );
      assert.equal(all.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
      assert.deepEqual(
        [...all.matchAll(/Content-Length: (\d+)/g)].map((m) => Number(m[1])),
        [FIXTURES.tiny.size, FIXTURES.tiny.size, FIXTURES.small.size],
      );
      assert.match(all, /Connection: keep-alive\r\n/);
      assert.match(all, /Connection: close\r\n\r\n$/);
      // HTTP/1.1 closes on request; a query string is ignored.
      const closed = await exchange(
        port,
        `GET ${path}?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
      assert.match(closed, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(
        closed.length - closed.indexOf("\r\n\r\n") - 4,
        FIXTURES.tiny.size,
      );
      assert.match(
        await exchange(port, "POST / HTTP/1.1\r\nHost: a\r\n\r\n"),
        /^HTTP\/1\.1 400 /,
      );
    });
  },
);
