/**
 * CPU time, read from /proc: what a server's process tree used, and how
 * busy one core was. Work per CPU-second is far less disturbed by other
 * load on a shared machine than work per wall-clock second; and a pinned
 * client whose core was busy all the time set the pace of its run, so that
 * run says the server kept up with it, not how much more it could serve.
 *
 * @module
 */
import { listProcessTree } from "./_rss.ts";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ on Linux). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of the tree's live processes, so far. */
export function readTreeCpuSeconds(rootPid: number): number {
  let ticks = 0;
  for (const pid of listProcessTree(rootPid)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      // Fields after the command name; utime and stime are stat fields 14, 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process exited while we looked.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** One core's clock ticks since boot: all of them, and the idle ones. */
export interface CoreTicks {
  total: number;
  idle: number;
}

/**
 * The ticks of core `cpu` in the text of /proc/stat, or `undefined` when it
 * has no line there. Idle counts `idle` and `iowait`; everything else (user,
 * nice, system, irq, softirq, steal) is busy. Guest time is already within
 * user time, so it is not added again.
 *
 * @example
 * ```ts
 * import { parseCoreTicks } from "./_cpu.ts";
 * parseCoreTicks("cpu1 10 0 5 80 5 0 0 0 0 0\n", 1); // { total: 100, idle: 85 }
 * ```
 */
export function parseCoreTicks(
  procStat: string,
  cpu: number,
): CoreTicks | undefined {
  const prefix = `cpu${cpu} `;
  const line = procStat.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  const ticks = line.slice(prefix.length).trim().split(/\s+/).slice(0, 8)
    .map(Number);
  if (ticks.length < 5 || ticks.some((t) => !Number.isFinite(t))) {
    return undefined;
  }
  const total = ticks.reduce((sum, t) => sum + t, 0);
  return { total, idle: ticks[3] + ticks[4] };
}

/** Core `cpu`'s ticks now; `undefined` where /proc/stat has none. */
export function readCoreTicks(cpu: number): CoreTicks | undefined {
  try {
    return parseCoreTicks(Deno.readTextFileSync("/proc/stat"), cpu);
  } catch {
    return undefined;
  }
}

/**
 * The share of the ticks between `before` and `after` that the core was
 * busy, from 0 to 1; `undefined` when either reading is missing or no tick
 * passed.
 *
 * @example
 * ```ts
 * import { busyShare } from "./_cpu.ts";
 * busyShare({ total: 100, idle: 50 }, { total: 300, idle: 60 }); // 0.95
 * ```
 */
export function busyShare(
  before: CoreTicks | undefined,
  after: CoreTicks | undefined,
): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return (total - (after.idle - before.idle)) / total;
}
