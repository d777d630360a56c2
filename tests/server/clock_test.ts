import assert from "node:assert/strict";
import { parseHttpDate } from "../../protocol/date.ts";
import {
  coarseNow,
  currentHttpDate,
  currentLogDate,
  currentSecond,
  keepTicking,
  tick,
} from "../../server/clock.ts";

Deno.test("tick() keeps the Date second the one now under way, never the next", async () => {
  // Ticks spread over more than a second cross at least one boundary and
  // sample both halves of seconds.
  const end = Date.now() + 1100;
  const seen = new Set<number>();
  while (Date.now() < end) {
    const before = Date.now();
    tick();
    const after = Date.now();
    const second = currentSecond();
    seen.add(second);
    assert.ok(second * 1000 <= after, `${second} is not yet under way`);
    assert.ok(second >= Math.floor(before / 1000), `${second} has passed`);
    assert.equal(parseHttpDate(currentHttpDate()), second * 1000);
    await new Promise((resolve) => setTimeout(resolve, 7));
  }
  assert.ok(seen.size >= 2, "a second boundary was crossed");
});

Deno.test("currentLogDate() names the same second as the Date field", () => {
  tick();
  const date = new Date(currentSecond() * 1000);
  const [day, month, year] = date.toUTCString().slice(5, 16).split(" ");
  const time = date.toISOString().slice(11, 19);
  assert.equal(currentLogDate(), `${day}/${month}/${year}:${time} +0000`);
});

Deno.test("currentLogDate() and currentHttpDate() name every month right", () => {
  const names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  const realNow = Date.now;
  try {
    names.forEach((name, month) => {
      const time = Date.UTC(2024, month, 9, 7, 5, 3);
      Date.now = () => time;
      tick();
      assert.equal(currentLogDate(), `09/${name}/2024:07:05:03 +0000`);
      assert.equal(parseHttpDate(currentHttpDate()), time);
    });
  } finally {
    Date.now = realNow;
    tick();
  }
});

Deno.test("the clock refreshes itself on reading while nobody keeps it ticking", async () => {
  const before = coarseNow();
  const second = currentSecond();
  // Into the next second, whenever this one ends.
  const wait = 1000 - Date.now() % 1000 + 20;
  await new Promise((resolve) => setTimeout(resolve, wait));
  assert.ok(coarseNow() - before >= wait, "coarseNow() moved on");
  const next = currentSecond();
  assert.ok(next > second, "currentSecond() moved on");
  assert.equal(parseHttpDate(currentHttpDate()), next * 1000);
  const time = new Date(next * 1000).toISOString().slice(11, 19);
  assert.ok(currentLogDate().includes(`:${time} `), currentLogDate());
});

Deno.test("keepTicking() leaves the clock to its caller's ticks until stopped", async () => {
  const stop = keepTicking();
  const stopAgain = keepTicking();
  try {
    const ticked = coarseNow();
    const second = currentSecond();
    await new Promise((resolve) =>
      setTimeout(resolve, 1000 - Date.now() % 1000 + 20)
    );
    // Between ticks the reads are the values of the last one.
    assert.equal(coarseNow(), ticked);
    assert.equal(currentSecond(), second);
    tick();
    assert.equal(currentSecond(), second + 1);
    stop();
    stop(); // a second call changes nothing: one caller still ticks
    const held = coarseNow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(coarseNow(), held);
  } finally {
    stop();
    stopAgain();
  }
  const released = coarseNow();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(coarseNow() - released >= 20, "reads refresh the clock again");
});

Deno.test("keepTicking() reads the clock as it starts, not when it was last read", async () => {
  // Nothing read the clock for a while: a server starting now must not
  // date its first deadlines and Date fields from then.
  const stale = coarseNow();
  const second = currentSecond();
  await new Promise((resolve) =>
    setTimeout(resolve, 1000 - Date.now() % 1000 + 20)
  );
  const stop = keepTicking();
  try {
    assert.ok(coarseNow() - stale >= 20, "coarseNow() stood still");
    assert.ok(currentSecond() > second, "currentSecond() stood still");
  } finally {
    stop();
  }
});

Deno.test("currentSecond() refreshes itself on reading while nobody keeps the clock ticking", async () => {
  // Read on its own, before any other read could refresh the clock.
  const second = currentSecond();
  await new Promise((resolve) =>
    setTimeout(resolve, 1000 - Date.now() % 1000 + 20)
  );
  assert.ok(currentSecond() > second, "currentSecond() stood still");
});
