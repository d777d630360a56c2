/**
 * CPU time used by a server's process tree, read from /proc. Work per
 * CPU-second is far less disturbed by other load on a shared machine than
 * work per wall-clock second.
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
