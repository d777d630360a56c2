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

Deno.test("AccessLog tells of drops while its sink stays behind, and counts every line", async () => {
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
  // Told at the first write done after a drop, without waiting to catch up
  // (how often while behind is LineWriter's, tested with a stubbed clock).
  assert.ok(toldWhileBehind >= 1, `${drops}`);
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

Deno.test("AccessLog escapes a backslash, DEL and NUL, so that no value can pass for another", async () => {
  // Unescaped, a User-Agent sent as `a\x22b` would read back as `a"b`.
  const sink = trickleSink(Infinity);
  const log = new AccessLog(sink);
  log.record({
    ...ENTRY,
    requestLine: "GET /a\\b HTTP/1.1",
    referer: "del\x7f nul\x00",
    userAgent: "a\\x22b",
  });
  await log.flush();
  assert.match(
    sink.text(),
    /\] "GET \/a\\x5cb HTTP\/1\.1" 200 1024 "del\\x7f nul\\x00" "a\\x5cx22b"\n$/,
  );
});

Deno.test("AccessLog writes once its buffer reaches flushSize, not before, without waiting for the delay", async () => {
  // The length of one line, as this entry gives it (the date is fixed width).
  const probe = trickleSink(Infinity);
  const probeLog = new AccessLog(probe);
  probeLog.record(ENTRY);
  await probeLog.flush();
  const size = probe.text().length;

  const cases: [number, boolean][] = [[size, true], [size + 1, false]];
  for (const [flushSize, written] of cases) {
    const sink = trickleSink(Infinity);
    const log = new AccessLog(sink, { flushSize, flushDelayMs: 60_000 });
    log.record(ENTRY);
    // Long enough for a write already started to end, far short of the delay.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(sink.text().length, written ? size : 0, `${flushSize}`);
    await log.flush(); // also clears the timer of a line still buffered
    assert.equal(sink.text().length, size);
  }
});

Deno.test("AccessLog writes a line 200 ms after it by default, one timer for the lines meanwhile", async () => {
  // The timer's delay is read where it is set: waiting for it would make
  // the test depend on how busy the machine is.
  const realSetTimeout = globalThis.setTimeout;
  const delays: (number | undefined)[] = [];
  const sink = trickleSink(Infinity);
  const log = new AccessLog(sink);
  try {
    globalThis.setTimeout = ((
      handler: () => void,
      delay?: number,
    ) => {
      delays.push(delay);
      return realSetTimeout(handler, delay);
    }) as typeof setTimeout;
    log.record(ENTRY);
    log.record(ENTRY);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.deepEqual(delays, [200]);
  assert.equal(sink.text(), "", "nothing written before the delay");
  await log.flush();
  assert.equal(sink.text().split("\n").length, 3);
});

Deno.test("AccessLog holds up to 4 MiB for a stalled sink by default, and no more", async () => {
  const line = 100; // bytes a line, rounded up from ENTRY's 90
  for (const [megabytes, dropsExpected] of [[3.5, false], [5, true]] as const) {
    const sink = new StalledSink();
    const drops: number[] = [];
    const log = new AccessLog(sink, { onDrop: (lines) => drops.push(lines) });
    const total = Math.floor(megabytes * 1024 * 1024 / line);
    for (let i = 0; i < total; i++) log.record(ENTRY);
    const flushed = log.flush();
    sink.release();
    await flushed;
    assert.equal(drops.length > 0, dropsExpected, `${megabytes} MiB: ${drops}`);
    assert.equal(sink.lines + (drops[0] ?? 0), total, `${megabytes} MiB`);
  }
});

Deno.test("AccessLog says on stderr how many lines it dropped, by default", async () => {
  const written: string[] = [];
  const realWrite = Deno.stderr.write;
  Deno.stderr.write = (bytes: Uint8Array) => {
    written.push(new TextDecoder().decode(bytes));
    return Promise.resolve(bytes.length);
  };
  try {
    const sink = new StalledSink();
    const log = new AccessLog(sink, { flushSize: 1, maxPendingBytes: 150 });
    for (let i = 0; i < 10; i++) log.record(ENTRY);
    const flushed = log.flush();
    sink.release();
    await flushed;
    assert.ok(sink.lines > 0 && sink.lines < 10, `${sink.lines} lines kept`);
    assert.deepEqual(written, [
      `httpd.ts: access log fell behind; ${10 - sink.lines} lines dropped\n`,
    ]);
  } finally {
    Deno.stderr.write = realWrite;
  }
});
