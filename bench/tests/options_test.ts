import assert from "node:assert/strict";
import { parseOptions } from "../_options.ts";

Deno.test("parseOptions() defaults to the compare suite with full counts", () => {
  const o = parseOptions([]);
  assert.deepEqual(o.suites, ["compare"]);
  assert.equal(o.rounds, 3);
  assert.equal(o.requests, 50000);
  assert.equal(o.durationSeconds, 10);
  assert.equal(o.client, "auto");
});

Deno.test("parseOptions() --quick lowers counts unless they are given", () => {
  const o = parseOptions(["--quick", "--rounds", "2"]);
  assert.equal(o.rounds, 2);
  assert.equal(o.requests, 5000);
  assert.equal(o.durationSeconds, 2);
});

Deno.test("parseOptions() --all runs every suite once, in order", () => {
  assert.deepEqual(parseOptions(["--workers", "--all"]).suites, [
    "workers",
    "compare",
    "access-log",
    "permissions",
  ]);
});

Deno.test("parseOptions() rejects unknown flags and bad numbers", () => {
  assert.throws(() => parseOptions(["--fast"]), /Unknown option: --fast/);
  assert.throws(
    () => parseOptions(["--rounds", "0"]),
    /Invalid value for --rounds: 0/,
  );
  assert.throws(() => parseOptions(["--rounds"]), /Missing value: --rounds/);
  assert.throws(
    () => parseOptions(["--client", "hey"]),
    /Invalid value for --client: hey/,
  );
});

Deno.test("parseOptions() --quick keeps counts that are given", () => {
  const o = parseOptions(["--requests", "100", "--quick", "--duration", "5"]);
  assert.equal(o.requests, 100);
  assert.equal(o.durationSeconds, 5);
  assert.equal(o.rounds, 1);
});

Deno.test("parseOptions() takes whole counts only", () => {
  for (const flag of ["--rounds", "--requests", "--duration"]) {
    assert.throws(
      () => parseOptions([flag, "1.5"]),
      new RegExp(`Invalid value for ${flag}: 1\\.5`),
    );
    assert.throws(() => parseOptions([flag, "x"]), /Invalid value/);
  }
});

Deno.test("parseOptions() wants a request per ab connection at least", () => {
  assert.throws(
    () => parseOptions(["--requests", "99"]),
    /Invalid value for --requests: 99 \(at least 100/,
  );
  assert.equal(parseOptions(["--requests", "100"]).requests, 100);
});
