import { deepEqual, equal, ok } from "node:assert/strict";
import {
  concat,
  exchange,
  fetchRaw,
  parseReplyStream,
  quote,
  RawClient,
  saysClose,
  sleep,
} from "./_raw.ts";
import {
  BIG_PATH,
  BIG_SIZE,
  FD_SLACK,
  settledFdCount,
  SMALL_PATH,
  startServer,
  suiteFile,
  warmUp,
} from "./_server.ts";
import { header, type RawResponse } from "./_response.ts";

const GET_SMALL = `GET ${SMALL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

Deno.test("idle timeout closes an idle keep-alive connection without a response", async () => {
  // The header timeout is far beyond the wait below, so only the idle
  // timeout can close the connection in time: a server that timed an idle
  // connection with the header timeout fails here.
  await using server = await startServer({
    args: ["--idle-timeout", "1", "--header-timeout", "60"],
  });
  await using client = await RawClient.open(server.port);
  await client.write(GET_SMALL);
  const response = await client.readResponse({ timeoutMs: 15_000 });
  ok(typeof response !== "string", `No response: ${response}`);
  equal(response.status, 200);
  ok(!saysClose(response), "the request was keep-alive");

  const idleSince = performance.now();
  const rest = await client.readUntilClose({ timeoutMs: 10_000 });
  const idleMs = performance.now() - idleSince;
  ok(
    rest.end === "close" || rest.end === "reset",
    `Idle connection still open after 10 s with --idle-timeout 1`,
  );
  equal(rest.bytes.length, 0, `Idle close sent bytes: ${quote(rest.bytes)}`);
  // The idle phase starts as the response goes out; the server checks its
  // deadlines every 100 ms on a clock read as often, so the close comes
  // about 1 s later: not at once (the connection was kept alive), and not
  // after some other, longer timeout.
  ok(idleMs >= 500, `Closed ${Math.round(idleMs)} ms after the response`);
  ok(idleMs <= 5_000, `Closed ${Math.round(idleMs)} ms after the response`);
  equal((await server.stop()).code, 0);
});

Deno.test("max connections answers connection 21 with 503 and keeps serving the first 20", async () => {
  const limit = 20;
  await using server = await startServer({
    args: [
      "--max-connections",
      String(limit),
      "--idle-timeout",
      "60",
      "--header-timeout",
      "60",
    ],
  });
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < limit; i++) {
      const client = await RawClient.open(server.port);
      clients.push(client);
      await client.write(GET_SMALL);
      const response = await client.readResponse({ timeoutMs: 15_000 });
      ok(
        typeof response !== "string",
        `Connection ${i + 1} got no response`,
      );
      equal(response.status, 200, `connection ${i + 1} of ${limit}`);
    }

    {
      // The server may answer before reading anything; only send a request
      // when it has not, so a reset cannot swallow the 503.
      await using extra = await RawClient.open(server.port);
      const early = await extra.readChunk(2000);
      const parts: Uint8Array[] = [];
      if (early instanceof Uint8Array) parts.push(early);
      else if (early === "timeout") await extra.write(GET_SMALL);
      const rest = await extra.readUntilClose({ timeoutMs: 15_000 });
      parts.push(rest.bytes);
      const bytes = concat(parts);
      ok(
        rest.end === "close" || rest.end === "reset",
        `Connection ${limit + 1} was not closed: ${quote(bytes)}`,
      );
      const responses = parseReplyStream(bytes);
      ok(typeof responses !== "string", `${responses}: ${quote(bytes)}`);
      deepEqual(responses.map((r) => r.status), [503], quote(bytes));
      ok(saysClose(responses[0]), "503 without Connection: close");
      equal(
        header(responses[0], "retry-after"),
        "1",
        "503 without Retry-After",
      );
    }

    for (let i = 0; i < limit; i++) {
      await clients[i].write(GET_SMALL);
      const response = await clients[i].readResponse({ timeoutMs: 15_000 });
      ok(typeof response !== "string", `Connection ${i + 1} was dropped`);
      equal(response.status, 200, `connection ${i + 1} after the 503`);
    }

    // A freed slot is usable again once the server has seen the close.
    await clients.pop()!.dispose();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetchRaw(server.port, SMALL_PATH)).status;
      if (status !== 200) await sleep(200);
    }
    equal(status, 200, "a new connection is served after one of the 20 closed");
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
  equal((await server.stop()).code, 0);
});

Deno.test("a slow reader that keeps making progress is not cut off by the idle timeout", async () => {
  const pipelined = 12;
  await using server = await startServer({
    args: ["--idle-timeout", "2", "--header-timeout", "10"],
  });
  await using client = await RawClient.open(server.port);
  const one = `GET ${BIG_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  await client.write(
    `${one}\r\n`.repeat(pipelined - 1) + `${one}Connection: close\r\n\r\n`,
  );
  // About 2 MB/s: 11 MB take several idle timeouts, but every read makes
  // progress, so the server must keep sending. (A server's write goes on
  // only once the client has taken a good part of the socket buffers, some
  // MB: at 1 s, a reader slowed by a loaded machine was cut off.)
  const parts: Uint8Array[] = [];
  const deadline = Date.now() + 60_000;
  let end = "deadline";
  while (Date.now() < deadline) {
    const chunk = await client.readChunk(deadline - Date.now());
    if (chunk === "timeout") continue;
    if (chunk === "close" || chunk === "reset") {
      end = chunk;
      break;
    }
    parts.push(chunk);
    await sleep(20);
  }
  const bytes = concat(parts);
  equal(end, "close", `Reply ended by ${end} after ${bytes.length} bytes`);
  const responses = parseReplyStream(bytes);
  ok(typeof responses !== "string", `${responses}`);
  deepEqual(
    responses.map((r) => `${r.status} ${r.body.length}`),
    new Array(pipelined).fill(`200 ${BIG_SIZE}`),
  );
  equal((await server.stop()).code, 0);
});

Deno.test("one response that takes a slow reader several idle timeouts is sent whole", async () => {
  // Each request starts the idle timeout anew, so the test above would
  // pass even if a write did not: here one response alone outlasts the
  // timeout several times, and only the progress of its writes keeps it.
  const root = await Deno.makeTempDir({ prefix: "httpd-slow-reader-" });
  try {
    const size = 16 << 20;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) body[i] = (i >> 12) & 0xff;
    await Deno.writeFile(`${root}/big.bin`, body);
    await using server = await startServer({
      root,
      args: ["--idle-timeout", "2", "--header-timeout", "10"],
    });
    await using client = await RawClient.open(server.port);
    await client.write(
      "GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    // At most 64 KiB per 25 ms, about 2.5 MB/s: 16 MiB take 6 s or more,
    // three idle timeouts.
    const parts: Uint8Array[] = [];
    const started = Date.now();
    const deadline = started + 90_000;
    let end = "deadline";
    while (Date.now() < deadline) {
      const chunk = await client.readChunk(deadline - Date.now());
      if (chunk === "timeout") continue;
      if (chunk === "close" || chunk === "reset") {
        end = chunk;
        break;
      }
      for (let i = 0; i < chunk.length; i += 65536) {
        parts.push(chunk.slice(i, i + 65536));
        await sleep(25);
      }
    }
    const elapsed = Date.now() - started;
    const bytes = concat(parts);
    equal(end, "close", `Reply ended by ${end} after ${bytes.length} bytes`);
    ok(elapsed > 4_000, `read in ${elapsed} ms: not slow enough to tell`);
    const responses = parseReplyStream(bytes);
    ok(typeof responses !== "string", `${responses}`);
    equal(responses.length, 1);
    equal(responses[0].status, 200);
    deepEqual(responses[0].body, body);
    equal((await server.stop()).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a client that never reads large pipelined responses pins no memory and is closed", async () => {
  const clientsCount = 8;
  const pipelined = 40;
  await using server = await startServer({
    args: ["--idle-timeout", "2", "--header-timeout", "10"],
  });
  const baselineFds = await warmUp(server);
  const baselineRss = server.rssKiB();

  const request = `GET ${BIG_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(
    pipelined,
  );
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < clientsCount; i++) {
      const client = await RawClient.open(server.port);
      clients.push(client);
      await client.write(request);
    }
    let maxRss = baselineRss;
    let fds = server.fdCount();
    let peakFds = fds;
    const deadline = Date.now() + 40_000;
    await sleep(500);
    while (Date.now() < deadline) {
      maxRss = Math.max(maxRss, server.rssKiB());
      fds = server.fdCount();
      peakFds = Math.max(peakFds, fds);
      if (fds <= baselineFds + FD_SLACK) break;
      await sleep(250);
    }
    const growthMiB = (maxRss - baselineRss) / 1024;
    console.log(
      `never-reading clients: RSS ${(baselineRss / 1024).toFixed(1)} -> max ` +
        `${
          (maxRss / 1024).toFixed(1)
        } MiB, fds ${baselineFds} -> peak ${peakFds} -> ${fds}`,
    );
    // The stalled connections were held open, then closed.
    ok(
      peakFds >= baselineFds + clientsCount,
      `The connections never showed up: ${peakFds}`,
    );
    ok(
      fds <= baselineFds + FD_SLACK,
      `Stalled connections still open after 40 s with --idle-timeout 2: fds ${fds}, baseline ${baselineFds}`,
    );
    // Buffering every response would take about 300 MiB.
    ok(growthMiB < 64, `RSS grew by ${growthMiB.toFixed(1)} MiB`);

    for (const [i, client] of clients.entries()) {
      const rest = await client.readUntilClose({
        timeoutMs: 20_000,
        keepBytes: 0,
      });
      ok(
        rest.end === "close" || rest.end === "reset",
        `Client ${i}: the server kept sending after the idle timeout (${rest.total} bytes)`,
      );
      ok(
        rest.total < pipelined * BIG_SIZE,
        `Client ${i}: all ${rest.total} bytes were sent, so nothing stalled`,
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
  equal(server.complaints(), "", "a quiet server logs nothing unexpected");
  const after = await settledFdCount(server);
  ok(
    after <= baselineFds + FD_SLACK,
    `Descriptors after: ${after}, baseline ${baselineFds}`,
  );
  equal((await server.stop()).code, 0);
});

const HOST = "Host: 127.0.0.1\r\n";
const manyFields = (n: number): string => {
  let out = "";
  for (let i = 0; i < n; i++) out += `X-Field-${i}: ${i}\r\n`;
  return out;
};

interface ParseCase {
  name: string;
  request: string;
  status: number;
}

// Each error status closes the connection; the boundary cases just under a
// limit must not be rejected.
const PARSE_CASES: readonly ParseCase[] = [
  {
    name: "field without colon",
    request: `GET / HTTP/1.1\r\n${HOST}NoColon\r\n\r\n`,
    status: 400,
  },
  {
    name: "whitespace before colon",
    request: `GET / HTTP/1.1\r\n${HOST}X-A : b\r\n\r\n`,
    status: 400,
  },
  {
    name: "obs-fold",
    request: `GET / HTTP/1.1\r\n${HOST}X-A: b\r\n c\r\n\r\n`,
    status: 400,
  },
  {
    name: "control byte in target",
    request: `GET /a\x01b HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
  },
  {
    name: "bare CR",
    request: `GET / HTTP/1.1\r\n${HOST}X-A: b\rc\r\n\r\n`,
    status: 400,
  },
  { name: "no Host in 1.1", request: `GET / HTTP/1.1\r\n\r\n`, status: 400 },
  {
    name: "two Hosts",
    request: `GET / HTTP/1.1\r\n${HOST}${HOST}\r\n`,
    status: 400,
  },
  {
    name: "Content-Length with Transfer-Encoding",
    request: `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\n` +
      `Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "two different Content-Lengths",
    request:
      `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    status: 400,
  },
  {
    name: "invalid Content-Length",
    request: `POST / HTTP/1.1\r\n${HOST}Content-Length: 1x\r\n\r\n`,
    status: 400,
  },
  {
    name: "request line over 8 KiB",
    request: `GET /${"a".repeat(9000)} HTTP/1.1\r\n${HOST}\r\n`,
    status: 414,
  },
  {
    name: "head over 32 KiB",
    request: `GET / HTTP/1.1\r\n${HOST}X-Big: ${"b".repeat(33 * 1024)}\r\n\r\n`,
    status: 431,
  },
  {
    name: "101 fields",
    request: `GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}${manyFields(100)}\r\n`,
    status: 431,
  },
  {
    name: "Transfer-Encoding gzip",
    request: `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip\r\n\r\n`,
    status: 400,
  },
  {
    name: "Transfer-Encoding gzip, chunked",
    request:
      `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    status: 501,
  },
  { name: "HTTP/2.0", request: `GET / HTTP/2.0\r\n${HOST}\r\n`, status: 505 },
  { name: "HTTP/3.0", request: `GET / HTTP/3.0\r\n${HOST}\r\n`, status: 505 },
  {
    name: "100 fields (at the limit)",
    request: `GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}${
      manyFields(98)
    }Connection: close\r\n\r\n`,
    status: 200,
  },
  {
    name: "request line of 8000 bytes (under the limit)",
    request: `GET /${
      "a".repeat(7980)
    } HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`,
    status: 404,
  },
  {
    name: "head of 30 KiB (under the limit)",
    request:
      `GET ${SMALL_PATH} HTTP/1.1\r\n${HOST}X-Big: ${
        "b".repeat(30 * 1024)
      }\r\n` +
      `Connection: close\r\n\r\n`,
    status: 200,
  },
];

Deno.test("parse errors get their status with Connection: close, then the server closes", async () => {
  await using server = await startServer({ args: ["--header-timeout", "10"] });
  const problems: string[] = [];
  for (const { name, request, status } of PARSE_CASES) {
    const result = await exchange(server.port, request, { timeoutMs: 15_000 });
    const responses = parseReplyStream(result.bytes);
    if (result.end !== "close" && result.end !== "reset") {
      problems.push(
        `${name}: not closed (${result.end}); got ${quote(result.bytes, 200)}`,
      );
    } else if (typeof responses === "string") {
      problems.push(`${name}: ${responses}: ${quote(result.bytes, 200)}`);
    } else if (responses.length !== 1 || responses[0].status !== status) {
      problems.push(
        `${name}: expected ${status}, got [${responses.map((r) => r.status)}]` +
          ` for ${quote(new TextEncoder().encode(request), 120)}`,
      );
    } else if (!saysClose(responses[0])) {
      problems.push(`${name}: ${status} without Connection: close`);
    }
  }
  ok(server.alive(), "the server survived the table");
  deepEqual(problems, []);
  equal((await server.stop()).code, 0);
});

/**
 * Opens connections to `server`, each asking for a small file, until one
 * gets a 503 for want of descriptors; the open ones go into `clients`.
 */
async function exhaust(
  port: number,
  clients: RawClient[],
): Promise<RawResponse> {
  for (let i = 0; i < 100; i++) {
    const client = await RawClient.open(port);
    clients.push(client);
    await client.write(GET_SMALL);
    const response = await client.readResponse({ timeoutMs: 15_000 });
    ok(typeof response !== "string", `connection ${i + 1}: ${response}`);
    if (response.status === 503) return response;
    equal(response.status, 200, `connection ${i + 1}`);
  }
  throw new Error("100 connections did not use up 64 files");
}

Deno.test("out of file descriptors, a new connection gets 503 at once and the server recovers", async () => {
  // Without a descriptor to accept it, a connection would wait in the
  // queue unanswered, and a file could not be opened.
  const NEW_PATH = "/httptest/splash.css";
  await using server = await startServer({
    openFileLimit: 64,
    args: ["--idle-timeout", "60", "--header-timeout", "60"],
  });
  await warmUp(server);
  const clients: RawClient[] = [];
  try {
    const refused = await exhaust(server.port, clients);
    ok(clients.length > 10, `only ${clients.length - 1} connections served`);
    ok(saysClose(refused), "503 without Connection: close");
    equal(header(refused, "retry-after"), "1", "503 without Retry-After");

    // Once the refused client is gone, the spare is held again, even with
    // nobody waiting: an accept fails for want of a descriptor either way.
    // Waited for longer than the server's one complaint a second, so that
    // any complaint of the accept loop's meanwhile would show.
    await clients.pop()!.dispose();
    await sleep(1_500);

    // So a file to open now (not asked for yet, so not in memory) gets a
    // 503 too, not a 500 or a 404, and does not take the spare's place...
    const held = clients[0];
    await held.write(`GET ${NEW_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const unopened = await held.readResponse({ timeoutMs: 15_000 });
    ok(typeof unopened !== "string", `no answer: ${unopened}`);
    equal(unopened.status, 503, "a file that cannot be opened");
    equal(header(unopened, "retry-after"), "1", "503 without Retry-After");

    // ...which the next client gets, for its own 503.
    {
      await using late = await RawClient.open(server.port);
      await late.write(GET_SMALL);
      const response = await late.readResponse({ timeoutMs: 5_000 });
      ok(typeof response !== "string", `no answer: ${response}`);
      equal(response.status, 503, "a client after the file's 503");
    }

    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const response = await fetchRaw(server.port, NEW_PATH);
      status = response.status;
      if (status === 200) deepEqual(response.body, suiteFile(NEW_PATH));
      else await sleep(200);
    }
    equal(status, 200, "the file is served once connections closed");

    // Run out again, past the one complaint a second: said again, since
    // accepts succeeded in between.
    await sleep(1_100);
    equal((await exhaust(server.port, clients)).status, 503, "out again");
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }
  const said = server.complaints();
  ok(!/\n\s+at /.test(said), `a stack trace: ${said}`);
  // The server's own lines (Deno may warn of a file it could not open too).
  const complaints = said.split("\n").filter((line) =>
    line.startsWith("httpd.ts: ")
  );
  ok(
    complaints.every((line) => /out of file descriptors/.test(line)),
    `only descriptors complained of: ${complaints.join("\n")}`,
  );
  equal(
    complaints.filter((line) => / in accept/.test(line)).length,
    2,
    `said once for each time they ran out: ${complaints.join("\n")}`,
  );
  ok(complaints.length <= 6, `a line per attempt: ${complaints.join("\n")}`);
  equal((await server.stop()).code, 0);
});
