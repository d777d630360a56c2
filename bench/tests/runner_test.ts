import assert from "node:assert/strict";
import { roundOrder } from "../_runner.ts";

Deno.test("roundOrder() starts each round one server further along", () => {
  const servers = ["a", "b", "c"];
  assert.deepEqual(roundOrder(servers, 1), ["a", "b", "c"]);
  assert.deepEqual(roundOrder(servers, 2), ["b", "c", "a"]);
  assert.deepEqual(roundOrder(servers, 3), ["c", "a", "b"]);
  assert.deepEqual(roundOrder(servers, 4), ["a", "b", "c"]);
  // Over as many rounds as servers, each runs first once and in each place.
  const places = new Map(servers.map((s) => [s, new Set<number>()]));
  for (let round = 1; round <= servers.length; round++) {
    roundOrder(servers, round).forEach((s, i) => places.get(s)!.add(i));
  }
  for (const seen of places.values()) assert.equal(seen.size, servers.length);
  assert.deepEqual(roundOrder([], 3), []);
  assert.deepEqual(servers, ["a", "b", "c"], "the input is left as it was");
});
