import { equal, ok } from "node:assert/strict";
import { fetchRaw, RawClient, sleep, textOf } from "./_raw.ts";
import {
  BIG_PATH,
  FD_SLACK,
  SMALL_PATH,
  startServer,
  suiteFile,
  waitForFds,
  warmUp,
} from "./_server.ts";

const CONNECTIONS = 2000;
const IN_FLIGHT = 100;
const HOST = "Host: 127.0.0.1\r\n";

/** Ways a client can vanish; each closes abruptly at a different point. */
const ABRUPT: readonly [string, (client: RawClient) => Promise<void>][] = [
  ["connect then close", async () => {}],
  ["mid request line", async (c) => {
    await c.write("GET /httptest/dir2/pa");
  }],
  ["mid head", async (c) => {
    await c.write(`GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}User-Agent: fl`);
  }],
  ["mid request body", async (c) => {
    await c.write(
      `POST ${SMALL_PATH} HTTP/1.1\r\n${HOST}Content-Length: 100000\r\n\r\nabcdef`,
    );
  }],
  ["before the big response is read", async (c) => {
    await c.write(`GET ${BIG_PATH} HTTP/1.1\r\n${HOST}\r\n`);
  }],
  ["mid big response body", async (c) => {
    await c.write(`GET ${BIG_PATH} HTTP/1.1\r\n${HOST}\r\n`);
    // Closing with unread bytes in the receive buffer sends a reset.
    await c.readChunk(2000);
  }],
  ["after pipelining big requests", async (c) => {
    await c.write(`GET ${BIG_PATH} HTTP/1.1\r\n${HOST}\r\n`.repeat(3));
    await c.readChunk(2000);
  }],
  ["garbage", async (c) => {
    await c.write(
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    );
  }],
];

Deno.test("server survives 2000 abruptly closed connections and its fds return to baseline", async () => {
  await using server = await startServer({
    args: ["--header-timeout", "5", "--idle-timeout", "5"],
  });
  const baseline = await warmUp(server);
  const counts = new Map<string, number>();

  let next = 0;
  const lane = async () => {
    while (next < CONNECTIONS) {
      const [name, act] = ABRUPT[next++ % ABRUPT.length];
      let client: RawClient;
      try {
        client = await RawClient.open(server.port);
      } catch (error) {
        throw new Error(`Connect failed after ${next} connections: ${error}`);
      }
      try {
        await act(client);
      } finally {
        await client.dispose();
      }
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  };
  // allSettled, so one failing lane does not leave the others running.
  const lanes = await Promise.allSettled(
    Array.from({ length: IN_FLIGHT }, lane),
  );
  for (const lane of lanes) if (lane.status === "rejected") throw lane.reason;
  const peak = server.fdCount();
  console.log(
    `flood: ${
      [...counts].map(([k, v]) => `${k}:${v}`).join(", ")
    }; fds now ${peak}`,
  );

  ok(server.alive(), `Server died: ${server.stderr()}`);
  // Give the server a moment to notice the last resets before asking it.
  await sleep(200);
  const response = await fetchRaw(server.port, SMALL_PATH);
  equal(response.status, 200);
  equal(textOf(response.body), textOf(suiteFile(SMALL_PATH)));

  const fds = await waitForFds(server, baseline, 30_000);
  ok(
    fds <= baseline + FD_SLACK,
    `Descriptors did not return to baseline within 30 s: ${fds}, baseline ${baseline}`,
  );
  equal(server.complaints(), "", "a quiet server logs nothing unexpected");
  equal((await server.stop()).code, 0, server.stderr());
});
