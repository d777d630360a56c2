import assert from "node:assert/strict";
import process from "node:process";
import {
  busyShare,
  parseCoreTicks,
  readCoreTicks,
  readTreeCpuSeconds,
} from "../_cpu.ts";

const PROC_STAT = [
  "cpu  488406 1661 576988 1404022 2521 0 159330 0 0 0",
  "cpu0 286476 920 253984 690250 1209 0 87191 0 0 0",
  "cpu1 10 1 5 70 10 2 2 0 0 0",
  "cpu12 1 1 1 1 1 1 1 1 0 0",
  "intr 1234",
].join("\n");

Deno.test("parseCoreTicks() counts idle and iowait as idle, the rest as busy", () => {
  assert.deepEqual(parseCoreTicks(PROC_STAT, 1), { total: 100, idle: 80 });
  // cpu1 is not cpu12's prefix match, nor the all-cores line cpu0's.
  assert.deepEqual(parseCoreTicks(PROC_STAT, 12), { total: 8, idle: 2 });
  assert.equal(parseCoreTicks(PROC_STAT, 0)?.total, 1320030);
  assert.equal(parseCoreTicks(PROC_STAT, 2), undefined);
  assert.equal(parseCoreTicks("cpu10 1 1 1 1 1 1 1 1 0 0\n", 1), undefined);
  // Guest time is counted within user time already: not added twice.
  assert.deepEqual(parseCoreTicks("cpu4 10 0 5 80 5 0 0 0 7 3\n", 4), {
    total: 100,
    idle: 85,
  });
  assert.equal(parseCoreTicks("cpu3 1 2 x 4 5\n", 3), undefined);
  assert.equal(parseCoreTicks("cpu3 1 2\n", 3), undefined);
});

Deno.test("busyShare() is the busy part of the ticks between two readings", () => {
  assert.equal(
    busyShare({ total: 100, idle: 50 }, { total: 300, idle: 60 }),
    0.95,
  );
  assert.equal(
    busyShare({ total: 100, idle: 50 }, { total: 200, idle: 150 }),
    0,
  );
  assert.equal(
    busyShare({ total: 100, idle: 50 }, { total: 100, idle: 50 }),
    undefined,
  );
  assert.equal(busyShare(undefined, { total: 1, idle: 0 }), undefined);
  assert.equal(busyShare({ total: 1, idle: 0 }, undefined), undefined);
});

Deno.test("readCoreTicks() reads this machine's first core, and no core beyond", () => {
  const ticks = readCoreTicks(0);
  assert.ok(ticks !== undefined, "/proc/stat has a cpu0 line on Linux");
  assert.ok(ticks.total >= ticks.idle && ticks.idle >= 0);
  assert.equal(readCoreTicks(1 << 20), undefined);
});

Deno.test("readTreeCpuSeconds() counts user and system time, in seconds", () => {
  const spent = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  // Spend some user time, so that a unit or field mistake shows beyond the
  // 10 ms ticks of /proc.
  let x = 0;
  while (spent() < 0.5) x += Math.sqrt(x + 1);
  const before = spent();
  const read = readTreeCpuSeconds(Deno.pid);
  const after = spent();
  // /proc counts in ticks of 10 ms; allow a few either side.
  assert.ok(
    read >= before - 0.05 && read <= after + 0.05,
    `${read} s read, ${before}–${after} s used`,
  );
});
