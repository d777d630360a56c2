import { deepEqual, equal, ok } from "node:assert/strict";
import {
  concat,
  fetchRaw,
  LOOPBACK,
  parseReplyStream,
  quote,
  RawClient,
  type ReadResult,
  saysClose,
  sleep,
  textOf,
} from "./_raw.ts";
import {
  FD_SLACK,
  type Server,
  SMALL_PATH,
  startServer,
  suiteFile,
  waitForFds,
  warmUp,
} from "./_server.ts";

const HEADER_TIMEOUT_S = 2;
const TRICKLERS = 200;
// Tricklers keep sending one byte every TRICKLE_EVERY_MS for TRICKLE_MS:
// six times the header timeout, so a 408 that only comes after the trickle
// stops means the deadline was reset by each byte.
const TRICKLE_EVERY_MS = 250;
const TRICKLE_MS = 6 * HEADER_TIMEOUT_S * 1000;

function serverArgs(headerTimeoutS = HEADER_TIMEOUT_S): string[] {
  return ["--header-timeout", String(headerTimeoutS), "--idle-timeout", "30"];
}

interface TrickleOutcome {
  result: ReadResult;
  /** Whether the trickle was still running when the reply ended. */
  endedWhileTrickling: boolean;
}

/**
 * Sends `prefix`, then one byte every TRICKLE_EVERY_MS until the server
 * answers or TRICKLE_MS passes, reading concurrently.
 */
async function trickle(
  client: RawClient,
  prefix: string,
): Promise<TrickleOutcome> {
  const start = Date.now();
  let trickling = true;
  await client.write(prefix);
  const writer = (async () => {
    while (trickling && Date.now() - start < TRICKLE_MS) {
      await sleep(TRICKLE_EVERY_MS);
      if (!trickling || !await client.write("a")) break;
    }
    return Date.now() - start >= TRICKLE_MS;
  })();
  const result = await client.readUntilClose({ timeoutMs: TRICKLE_MS + 8000 });
  const ranOut = Date.now() - start >= TRICKLE_MS;
  trickling = false;
  await writer;
  await client.dispose();
  return { result, endedWhileTrickling: !ranOut };
}

/** Checks that a reply is exactly one 408 with `Connection: close`, then close. */
function assertTimeout408(outcome: TrickleOutcome, what: string): void {
  const { result } = outcome;
  ok(
    result.end === "close" || result.end === "reset",
    `${what}: the server did not close (${result.end}); got ${
      quote(result.bytes)
    }`,
  );
  const responses = parseReplyStream(result.bytes);
  ok(
    typeof responses !== "string",
    `${what}: ${responses}: ${quote(result.bytes)}`,
  );
  deepEqual(
    responses.map((r) => r.status),
    [408],
    `${what}: ${quote(result.bytes)}`,
  );
  ok(saysClose(responses[0]), `${what}: 408 without Connection: close`);
  ok(
    outcome.endedWhileTrickling,
    `${what}: the 408 came only after the trickle stopped, so each byte reset the deadline`,
  );
}

async function assertServesSmallFile(server: Server): Promise<void> {
  const response = await fetchRaw(server.port, SMALL_PATH);
  equal(response.status, 200);
  equal(textOf(response.body), textOf(suiteFile(SMALL_PATH)));
}

Deno.test("header timeout answers 200 trickling connections with 408 while real requests are served", async () => {
  // Twice the others' header timeout: the tricklers keep this process busy,
  // and a real request may leave it seconds after its connection opened,
  // when the server rightly times its head from the accept. The trickle
  // still lasts three header timeouts.
  await using server = await startServer({ args: serverArgs(4) });
  const baseline = await warmUp(server);

  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < TRICKLERS; i++) {
      clients.push(await RawClient.open(server.port));
    }
  } catch (error) {
    await Promise.all(clients.map((c) => c.dispose()));
    throw error;
  }
  const prefix = `GET ${SMALL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: `;
  let pending = clients.length;
  const trickles = clients.map((client) =>
    trickle(client, prefix).finally(() => {
      pending--;
    })
  );

  // Real requests on fresh connections keep being answered meanwhile.
  const statuses: number[] = [];
  const bodiesOk: boolean[] = [];
  const expected = textOf(suiteFile(SMALL_PATH));
  const until = Date.now() + TRICKLE_MS + 10_000;
  let outcomes: TrickleOutcome[];
  try {
    while (
      (pending > 0 || statuses.length < 3) && Date.now() < until &&
      statuses.length < 200
    ) {
      const response = await fetchRaw(server.port, SMALL_PATH, {
        timeoutMs: 15_000,
      });
      statuses.push(response.status);
      bodiesOk.push(textOf(response.body) === expected);
      await sleep(100);
    }
  } finally {
    // Every trickler ends on its own within its bounded deadline.
    outcomes = await Promise.all(trickles);
  }

  ok(
    statuses.length >= 3,
    `Only ${statuses.length} real requests were made`,
  );
  deepEqual(
    statuses.filter((s) => s !== 200),
    [],
    "every real request gets 200",
  );
  deepEqual(
    bodiesOk.filter((ok) => !ok),
    [],
    "every real request gets the file",
  );
  outcomes.forEach((outcome, i) => assertTimeout408(outcome, `trickler ${i}`));

  await assertServesSmallFile(server);
  equal(server.complaints(), "", "a quiet server logs nothing unexpected");
  const fds = await waitForFds(server, baseline);
  ok(
    fds <= baseline + FD_SLACK,
    `Descriptors: ${fds}, baseline ${baseline}`,
  );
  equal((await server.stop()).code, 0);
});

Deno.test("header timeout answers a connection that sends nothing with 408", async () => {
  await using server = await startServer({ args: serverArgs() });
  await using client = await RawClient.open(server.port);
  const result = await client.readUntilClose({ timeoutMs: TRICKLE_MS + 8000 });
  ok(
    result.end === "close" || result.end === "reset",
    `Not closed: ${result.end}`,
  );
  const responses = parseReplyStream(result.bytes);
  ok(typeof responses !== "string", `${responses}: ${quote(result.bytes)}`);
  deepEqual(responses.map((r) => r.status), [408]);
  ok(saysClose(responses[0]), "408 without Connection: close");
  equal((await server.stop()).code, 0);
});

Deno.test("header timeout on keep-alive starts at the first byte of the next request", async () => {
  await using server = await startServer({ args: serverArgs() });
  await using client = await RawClient.open(server.port);
  const request = `GET ${SMALL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

  await client.write(request);
  const first = await client.readResponse({ timeoutMs: 15_000 });
  ok(typeof first !== "string", `No first response: ${first}`);
  equal(first.status, 200);

  // Idle longer than the header timeout but well under the idle timeout:
  // no request has started, so no 408 is due.
  await sleep(HEADER_TIMEOUT_S * 1000 + 1500);
  await client.write(request);
  const second = await client.readResponse({ timeoutMs: 15_000 });
  ok(
    typeof second !== "string",
    `Keep-alive connection ended while idle: ${second}`,
  );
  equal(
    second.status,
    200,
    "an idle keep-alive connection is not a slow request",
  );

  // Now a next request that trickles: the header deadline applies to it.
  const outcome = await trickle(client, "G");
  assertTimeout408(outcome, "trickled second request");
  equal((await server.stop()).code, 0);
});

Deno.test("header timeout spares a pipelining client that reads its answers slowly", async () => {
  // Answers to thousands of pipelined requests fill the socket buffers, and
  // the client takes them slowly but steadily for 3 s, past the header
  // timeout. The server reads no more requests until its answers are
  // taken, so a head cut short at the end of a read is not slow: the
  // connection is not reset, every answer arrives, and it ends as the last
  // request asked. (On a machine loaded by two busy loops, with the test at
  // nice 10, this failed 4 runs in 4 while a head's deadline was dated by
  // the coarse clock, last ticked before the requests ahead of it were
  // parsed, and passed 4 in 4 once it read the clock afresh.)
  await using server = await startServer({
    args: ["--header-timeout", "0.5", "--idle-timeout", "30"],
  });
  const conn = await Deno.connect({ hostname: LOOPBACK, port: server.port });
  const count = 20_000;
  const request = (extra: string) =>
    `GET ${SMALL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
  const sending = conn.write(
    new TextEncoder().encode(
      request("").repeat(count - 1) + request("Connection: close\r\n"),
    ),
  );
  const started = Date.now();
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  let end = "deadline";
  try {
    while (Date.now() - started < 20_000) {
      // Slowly (16 KiB every 250 ms) for 3 s, then at full speed.
      const slow = Date.now() - started < 3_000;
      const n = await conn.read(buffer.subarray(0, slow ? 16384 : 65536));
      if (n === null) {
        end = "close";
        break;
      }
      parts.push(buffer.slice(0, n));
      if (slow) await sleep(250);
    }
  } catch (error) {
    end = error instanceof Error ? error.name : String(error);
  } finally {
    conn.close();
  }
  equal(end, "close", "the connection ended as the last request asked");
  ok((await sending) > 0);
  const responses = parseReplyStream(concat(parts));
  ok(typeof responses !== "string", String(responses));
  equal(responses.length, count);
  deepEqual(responses.filter((r) => r.status !== 200), []);
  equal((await server.stop()).code, 0);
});
