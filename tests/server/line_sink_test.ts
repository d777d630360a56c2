import assert from "node:assert/strict";
import { forwardLines } from "../../server/_worker_output.ts";
import { type ByteWriter, LineWriter } from "../../server/line_sink.ts";

/** A writer that takes at most `most` bytes a write, keeping what it took. */
function trickle(most: number) {
  const taken: number[] = [];
  return {
    writes: 0,
    write(bytes: Uint8Array): Promise<number> {
      this.writes++;
      const n = Math.min(bytes.length, most);
      for (const byte of bytes.subarray(0, n)) taken.push(byte);
      return Promise.resolve(n);
    },
    text: () => new TextDecoder().decode(new Uint8Array(taken)),
  };
}

/** A writer whose writes wait until `release()`. */
class Stalled implements ByteWriter {
  text = "";
  #waiting: (() => void)[] = [];
  #released = false;

  write(bytes: Uint8Array): Promise<number> {
    const take = () => {
      this.text += new TextDecoder().decode(bytes);
      return bytes.length;
    };
    if (this.#released) return Promise.resolve(take());
    return new Promise((resolve) => this.#waiting.push(() => resolve(take())));
  }

  release(): void {
    this.#released = true;
    for (const finish of this.#waiting.splice(0)) finish();
  }
}

Deno.test("LineWriter writes in call order and continues short writes", async () => {
  const writer = trickle(3);
  const out = new LineWriter(writer);
  void out.write("first line\n");
  void out.write("second\nthird\n");
  assert.equal(await out.drained(1000), true);
  assert.equal(writer.text(), "first line\nsecond\nthird\n");
  assert.equal(out.pendingBytes, 0);
});

Deno.test("LineWriter's writes resolve without waiting for one another's callers", async () => {
  // Nobody awaits the first write; the second still follows it.
  const writer = trickle(Infinity);
  const out = new LineWriter(writer);
  void out.write("a\n");
  await out.write("b\n");
  assert.equal(writer.text(), "a\nb\n");
});

Deno.test("LineWriter drops text past its bound while the writer is stalled, then says how many lines", async () => {
  const writer = new Stalled();
  const drops: number[] = [];
  const out = new LineWriter(writer, {
    maxPendingBytes: 100,
    onDrop: (lines) => drops.push(lines),
  });
  for (let i = 0; i < 50; i++) void out.write(`line ${i}\n`); // 7-8 bytes each
  assert.ok(out.pendingBytes <= 100, `${out.pendingBytes} bytes pending`);
  assert.equal(await out.drained(50), false, "stalled: not drained");
  assert.deepEqual(drops, [], "nothing is said before the writer catches up");
  writer.release();
  assert.equal(await out.drained(1000), true);
  const kept = writer.text.split("\n").filter((line) => line !== "");
  assert.equal(drops.length, 1, "one report for the whole stall");
  assert.equal(kept.length + drops[0], 50, "every line written or counted");
  assert.deepEqual(
    kept,
    kept.map((_, i) => `line ${i}`),
    "the first ones kept",
  );
});

/** A writer whose writes each wait until `finishOne()` lets the oldest end. */
class Gate implements ByteWriter {
  text = "";
  #waiting: (() => void)[] = [];

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.text += new TextDecoder().decode(bytes);
        resolve(bytes.length);
      })
    );
  }

  /** Ends the oldest write, then lets the writer's loop run on. */
  async finishOne(): Promise<void> {
    const finish = this.#waiting.shift();
    assert.ok(finish !== undefined, "a write is under way");
    finish();
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}

Deno.test("LineWriter tells of drops at most once a second while behind, and at once when caught up", async () => {
  const realNow = performance.now;
  const clock = { now: 0 };
  performance.now = () => clock.now;
  try {
    const writer = new Gate();
    const drops: number[] = [];
    // Room for one 5-byte line waiting behind the write under way.
    const out = new LineWriter(writer, {
      maxPendingBytes: 5,
      onDrop: (lines) => drops.push(lines),
    });
    const write = async (...lines: string[]) => {
      for (const line of lines) void out.write(`${line}\n`);
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    await write("aaaa"); // under way
    await write("bbbb", "drop"); // bbbb waits, one dropped
    clock.now = 100;
    await writer.finishOne(); // aaaa done, bbbb still to go: told
    assert.deepEqual(drops, [1]);
    await write("cccc", "drop");
    clock.now = 1099;
    await writer.finishOne(); // bbbb done, still behind, 999 ms on
    assert.deepEqual(drops, [1], "not again within the second");
    await write("dddd", "drop");
    clock.now = 1100;
    await writer.finishOne(); // cccc done, still behind, a second on
    assert.deepEqual(drops, [1, 2]);
    await write("eeee", "drop");
    clock.now = 1150;
    await writer.finishOne(); // dddd done, eeee still to go: 50 ms on
    assert.deepEqual(drops, [1, 2]);
    clock.now = 1160;
    await writer.finishOne(); // eeee done, caught up: told at once
    assert.deepEqual(drops, [1, 2, 1]);
    assert.equal(out.pendingBytes, 0);
    assert.equal(writer.text, "aaaa\nbbbb\ncccc\ndddd\neeee\n");
  } finally {
    performance.now = realNow;
  }
});

Deno.test("LineWriter counts a dropped chunk by its lines, a last one without newline too", async () => {
  const writer = new Stalled();
  const drops: number[] = [];
  const out = new LineWriter(writer, {
    maxPendingBytes: 4,
    onDrop: (lines) => drops.push(lines),
  });
  void out.write("ok\n");
  void out.write("a\nb\nc\n");
  void out.write("d\ne");
  writer.release();
  await out.drained(1000);
  assert.equal(writer.text, "ok\n");
  assert.deepEqual(drops, [5]);
});

Deno.test("LineWriter tells of its drops by default in its own output", async () => {
  const writer = new Stalled();
  const out = new LineWriter(writer, { maxPendingBytes: 10 });
  void out.write("kept\n");
  void out.write("dropped one\n");
  void out.write("dropped two\n");
  writer.release();
  // One wait covers the notice too, queued once the rest is written.
  assert.equal(await out.drained(1000), true);
  assert.equal(
    writer.text,
    "kept\nhttpd.ts: output fell behind; 2 lines dropped\n",
  );
});

Deno.test("LineWriter joins what waits into one write: a stalled writer holds a string, not a queue", async () => {
  const writer = new Stalled();
  let writes = 0;
  const counting: ByteWriter = {
    write: (bytes) => (writes++, writer.write(bytes)),
  };
  const out = new LineWriter(counting);
  void out.write("first\n");
  await Promise.resolve(); // the first write starts, and stalls
  for (let i = 0; i < 10_000; i++) void out.write(`line ${i}\n`);
  writer.release();
  assert.equal(await out.drained(1000), true);
  assert.equal(writes, 2, "the stalled write, then one for all the rest");
  assert.equal(writer.text.split("\n").length - 1, 10_001);
});

Deno.test("LineWriter goes on after an onDrop that throws", async () => {
  const writer = new Stalled();
  let told = 0;
  const out = new LineWriter(writer, {
    maxPendingBytes: 5,
    onDrop: () => {
      told++;
      throw new Error("a broken notice");
    },
  });
  void out.write("ok\n");
  void out.write("dropped\n");
  writer.release();
  assert.equal(await out.drained(1000), true);
  assert.equal(told, 1);
  await out.write("more\n");
  assert.equal(writer.text, "ok\nmore\n");
});

Deno.test("LineWriter swallows a failing writer's errors", async () => {
  const out = new LineWriter({
    write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")),
  });
  await out.write("lost\n"); // resolves, does not reject
  assert.equal(await out.drained(100), true);
  assert.equal(out.pendingBytes, 0);
});

Deno.test("forwardLines() prefixes every line kept, across chunk borders and at the end", async () => {
  const bytes = new TextEncoder().encode("a\r\nbc\n\ndé\nlast");
  // Cut inside "\r\n", before a newline and inside the two bytes of "é".
  const cuts = [0, 2, 4, 6, 10, 15];
  const stream = ReadableStream.from(
    cuts.slice(0, -1).map((at, i) => bytes.slice(at, cuts[i + 1])),
  );
  const writer = trickle(3); // short writes must be continued, not lost
  const sink = new LineWriter(writer);
  const seen: string[] = [];
  await forwardLines(stream, "[w7] ", sink, (line) => {
    seen.push(line);
    return line !== "bc"; // kept out of the output, still seen
  });
  assert.equal(await sink.drained(1000), true);
  assert.equal(writer.text(), "[w7] a\n[w7] \n[w7] dé\n[w7] last\n");
  assert.deepEqual(seen, ["a", "bc", "", "dé", "last"]);
});

Deno.test("forwardLines() reads its stream to the end while the sink is stalled", async () => {
  // A worker's pipe must keep draining (and its heartbeats be seen) when
  // the supervisor's own output stops moving.
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
  const stream = ReadableStream.from(
    lines.map((line) => new TextEncoder().encode(`${line}\n`)),
  );
  const writer = new Stalled();
  const sink = new LineWriter(writer, { maxPendingBytes: 1000 });
  const seen: string[] = [];
  await forwardLines(stream, "", sink, (line) => void seen.push(line));
  assert.deepEqual(seen, lines);
  // The stalled write and what waits behind it, each within the bound.
  assert.ok(sink.pendingBytes <= 2000, `${sink.pendingBytes} bytes pending`);
  writer.release();
  assert.equal(await sink.drained(1000), true);
});
