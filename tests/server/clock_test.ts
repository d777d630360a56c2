import assert from "node:assert/strict";
import { parseHttpDate } from "../../protocol/date.ts";
import {
  currentHttpDate,
  currentLogDate,
  currentSecond,
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
