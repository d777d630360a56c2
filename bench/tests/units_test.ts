import assert from "node:assert/strict";
import { formatMiB, formatShort, formatValue } from "../_units.ts";

Deno.test("formatValue() writes requests per second below and from 1000 as k", () => {
  assert.equal(formatValue(999, "req/s"), "999 req/s");
  assert.equal(formatValue(1000, "req/s"), "1.0k req/s");
  assert.equal(formatValue(52_340, "req/s"), "52.3k req/s");
  assert.equal(formatValue(NaN, "req/s"), "–");
});

Deno.test("formatValue() writes bytes per second in decimal MB and GB", () => {
  // 10^6 and 10^9, not 2^20 and 2^30: "1.76 GB/s" is 1.76e9 bytes a second.
  assert.equal(formatValue(950_000_000, "bytes/s"), "950 MB/s");
  assert.equal(formatValue(1e9, "bytes/s"), "1.00 GB/s");
  assert.equal(formatValue(1_760_000_000, "bytes/s"), "1.76 GB/s");
  assert.equal(formatValue(Infinity, "bytes/s"), "–");
});

Deno.test("formatShort() drops the unit but keeps the prefix", () => {
  assert.equal(formatShort(52_340, "req/s"), "52.3k");
  assert.equal(formatShort(999, "req/s"), "999");
  assert.equal(formatShort(1_760_000_000, "bytes/s"), "1.76 G");
  assert.equal(formatShort(950_000_000, "bytes/s"), "950 M");
});

Deno.test("formatMiB() counts mebibytes of 2^20 bytes", () => {
  assert.equal(formatMiB(2 ** 20), "1 MiB");
  // 100 MiB is 104.9 MB: a decimal divisor would print 105.
  assert.equal(formatMiB(100 * 2 ** 20), "100 MiB");
});
