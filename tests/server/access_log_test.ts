import assert from "node:assert/strict";
import { AccessLog, type LogEntry } from "../../server/access_log.ts";

const ENTRY: LogEntry = {
  client: "127.0.0.1",
  requestLine: "GET /index.html HTTP/1.1",
  status: 200,
  bytes: 1024,
  referer: undefined,
  userAgent: "test",
};

/** A sink whose writes wait until `release()`, counting the lines written. */
class StalledSink {
  lines = 0;
  calls = 0;
  #waiting: (() => void)[] = [];

  write(bytes: Uint8Array): Promise<number> {
    this.calls++;
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.lines += bytes.filter((b) => b === 0x0a).length;
        resolve(bytes.length);
      });
    });
  }

  /** Lets every write so far, and every later one, finish. */
  release(): void {
    this.write = (bytes) => {
      this.calls++;
      this.lines += bytes.filter((b) => b === 0x0a).length;
      return Promise.resolve(bytes.length);
    };
    for (const finish of this.#waiting.splice(0)) finish();
  }
}

Deno.test("AccessLog drops lines past its bound while the sink is stalled, and says how many", async () => {
  const sink = new StalledSink();
  const drops: number[] = [];
  const log = new AccessLog(sink, {
    flushSize: 1000,
    maxPendingBytes: 10_000,
    onDrop: (lines) => drops.push(lines),
  });
  const total = 5000; // about 350 KB of lines against a 10 KB bound
  for (let i = 0; i < total; i++) log.record(ENTRY);
  const flushed = log.flush(); // waits for the stalled sink
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(sink.calls, 1, "one write at a time");
  assert.equal(drops.length, 0, "nothing is said before the sink catches up");
  sink.release();
  await flushed;
  assert.equal(drops.length, 1, "one report for the whole stall");
  assert.ok(sink.lines > 0 && sink.lines < 200, `${sink.lines} lines kept`);
  assert.equal(sink.lines + drops[0], total, "every line written or counted");
  // Caught up: lines flow again.
  log.record(ENTRY);
  await log.flush();
  assert.equal(drops.length, 1);
  assert.equal(sink.lines + drops[0], total + 1);
});

Deno.test("AccessLog writes everything when the sink keeps up", async () => {
  const sink = new StalledSink();
  sink.release();
  const log = new AccessLog(sink, {
    flushSize: 1000,
    maxPendingBytes: 10_000,
    onDrop: () => assert.fail("no line should be dropped"),
  });
  for (let i = 0; i < 5000; i++) {
    log.record(ENTRY);
    if (i % 10 === 0) await log.flush();
  }
  await log.flush();
  assert.equal(sink.lines, 5000);
});

Deno.test("AccessLog tells of drops while its sink stays behind, once a second", async () => {
  // A sink that takes 50 ms a write, against lines that come much faster.
  const drops: number[] = [];
  let lines = 0;
  const sink = {
    write: (bytes: Uint8Array) =>
      new Promise<number>((resolve) =>
        setTimeout(() => {
          lines += bytes.filter((b) => b === 0x0a).length;
          resolve(bytes.length);
        }, 50)
      ),
  };
  const log = new AccessLog(sink, {
    flushSize: 1000,
    maxPendingBytes: 3000,
    onDrop: (n) => drops.push(n),
  });
  let total = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    for (let i = 0; i < 50; i++, total++) log.record(ENTRY);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const toldWhileBehind = drops.length;
  await log.flush();
  // Told at the first write done after a drop, then a second later: the
  // sink never caught up in between.
  assert.ok(toldWhileBehind >= 1 && toldWhileBehind <= 2, `${drops}`);
  const dropped = drops.reduce((a, b) => a + b, 0);
  assert.equal(lines + dropped, total, "every line written or counted");
});

/** A sink that takes at most `most` bytes a write, keeping what it took. */
function trickleSink(most: number) {
  const taken: number[] = [];
  return {
    write(bytes: Uint8Array): Promise<number> {
      const n = Math.min(bytes.length, most);
      for (const byte of bytes.subarray(0, n)) taken.push(byte);
      return Promise.resolve(n);
    },
    text: () => new TextDecoder().decode(new Uint8Array(taken)),
  };
}

Deno.test("AccessLog writes the rest of what a sink took only in part", async () => {
  // A pipe may take less than a whole write; the rest is not to be lost.
  const sink = trickleSink(10);
  const log = new AccessLog(sink);
  log.record(ENTRY);
  log.record({ ...ENTRY, status: 404 });
  await log.flush();
  const lines = sink.text().split("\n");
  assert.equal(lines.length, 3, sink.text());
  assert.match(
    lines[0],
    /^127\.0\.0\.1 - - \[.+\] "GET \/index\.html HTTP\/1\.1" 200 1024 "-" "test"$/,
  );
  assert.match(lines[1], /" 404 1024 "-" "test"$/);
  assert.equal(lines[2], "");
});

Deno.test("AccessLog logs an empty Referer or User-Agent as '-'", async () => {
  // Combined Log Format has "-" for a field without a value.
  const sink = trickleSink(Infinity);
  const log = new AccessLog(sink);
  log.record({ ...ENTRY, referer: "", userAgent: "" });
  await log.flush();
  assert.match(sink.text(), / 200 1024 "-" "-"\n$/);
});
