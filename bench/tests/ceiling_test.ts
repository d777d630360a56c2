import assert from "node:assert/strict";
import { FIXTURES } from "../_fixtures.ts";
import { checkServer } from "../_sanity.ts";
import type { ServerSpec } from "../_types.ts";
import { withServer } from "./_with_server.ts";

const CEILING: ServerSpec = {
  id: "ceiling",
  label: "ceiling",
  kind: "deno-listen",
  workers: 1,
};

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
  await withServer(CEILING, async (server) => {
    assert.deepEqual(await checkServer(server.origin), []);
  });
});

Deno.test(
  "the ceiling keeps HTTP/1.0 connections alive only when asked, as ab -k " +
    "and ab -r need",
  async () => {
    await withServer(CEILING, async (_server, port) => {
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
