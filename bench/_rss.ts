/**
 * Memory of a server's process tree, read from /proc while load runs.
 *
 * @module
 */

/** Peak memory seen by a sampler. */
export interface RssPeak {
  /** Largest sum of VmRSS over the tree at one sample. */
  treeBytes: number;
  /** Largest VmRSS of a single process of the tree. */
  processBytes: number;
}

/** The pid and all its live descendants (scans /proc; Linux only). */
export function listProcessTree(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    const ppid = readParentPid(pid);
    if (ppid !== undefined) parentOf.set(pid, ppid);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) {
      if (ppid === tree[i]) tree.push(pid);
    }
  }
  return tree.filter((pid) => parentOf.has(pid));
}

/**
 * Samples the tree's RSS every `intervalMs` until the returned stop function
 * is called; that function takes a last sample and returns the peaks.
 *
 * The tree is listed once, at the start: scanning all of /proc ten times a
 * second would take CPU from the server and client being measured.
 */
export function sampleRss(
  rootPid: number,
  intervalMs = 100,
): () => RssPeak {
  const peak: RssPeak = { treeBytes: 0, processBytes: 0 };
  const tree = listProcessTree(rootPid);
  const sample = () => {
    let total = 0;
    for (const pid of tree) {
      const rss = readRss(pid);
      total += rss;
      peak.processBytes = Math.max(peak.processBytes, rss);
    }
    peak.treeBytes = Math.max(peak.treeBytes, total);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}

function readParentPid(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: skip past the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined; // The process exited while we looked.
  }
}

function readRss(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
