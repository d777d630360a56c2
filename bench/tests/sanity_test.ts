import assert from "node:assert/strict";
import { createDocumentRoot, FIXTURES, INDEXLESS_DIR } from "../_fixtures.ts";
import { checkServer } from "../_sanity.ts";

Deno.test("createDocumentRoot() writes every fixture at its size and an index-less directory", async () => {
  const root = await createDocumentRoot();
  try {
    for (const { path, size } of Object.values(FIXTURES)) {
      assert.equal((await Deno.stat(root + path)).size, size, path);
    }
    const dir = await Deno.stat(root + INDEXLESS_DIR).catch(() => undefined);
    assert.equal(dir?.isDirectory, true, `${INDEXLESS_DIR} is a directory`);
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(root + INDEXLESS_DIR)),
      [],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Serves `answer(path)` on a free loopback port for the length of `use`. */
async function withFakeServer(
  answer: (path: string) => Response,
  use: (origin: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => answer(new URL(request.url).pathname),
  );
  try {
    await use(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("checkServer() reports a short body and a directory that is not a 404", async () => {
  const sizes = new Map<string, number>(
    Object.values(FIXTURES).map((f) => [f.path, f.size]),
  );
  await withFakeServer(
    (path) => {
      const size = sizes.get(path);
      if (path === FIXTURES.page.path) return new Response("short");
      if (size !== undefined) return new Response(new Uint8Array(size));
      // A directory listing, as a server without the 404 rule might give.
      if (path === INDEXLESS_DIR) return new Response("listing");
      return new Response("forbidden", { status: 403 });
    },
    async (origin) => {
      assert.deepEqual(await checkServer(origin), [
        `GET ${FIXTURES.page.path}: 5 bytes, expected 954824`,
        `GET ${INDEXLESS_DIR}: status 200, expected 404`,
        "GET /no-such-file: status 403, expected 404",
      ]);
    },
  );
});

Deno.test("checkServer() gives up on a server that accepts and never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  try {
    await assert.rejects(
      checkServer(`http://127.0.0.1:${listener.addr.port}`, 200),
      /no answer from http:\/\/127\.0\.0\.1:\d+\/\S+ within 200 ms/,
    );
    assert.ok(accepted.length > 0, "the check's request was accepted");
  } finally {
    listener.close();
    await accepting;
    for (const conn of accepted) conn.close();
  }
});
