import assert from "node:assert/strict";
import { listProcessTree, sampleRss } from "../_rss.ts";

/** VmRSS of `pid` in bytes, from its status file. */
function vmRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/**
 * Lists `pid`'s tree until `done` holds for it, or after a few hundred tries
 * returns what it has.
 */
async function treeOf(
  pid: number,
  count: number,
  done = (tree: number[]) => tree.length >= count,
): Promise<number[]> {
  let tree = listProcessTree(pid);
  for (let i = 0; i < 250 && !done(tree); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    tree = listProcessTree(pid);
  }
  return tree;
}

/** The children of `pid`, read apart from the code under test. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
      if (Number(ppid) === pid) children.push(Number(entry.name));
    } catch {
      // Not a process, or gone.
    }
  }
  return children;
}

Deno.test("listProcessTree() and sampleRss() follow a shell's children, and keep the peak", async () => {
  const shell = new Deno.Command("sh", {
    args: ["-c", "sleep 30 & sleep 30 & wait"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const tree = await treeOf(shell.pid, 3);
    assert.equal(tree.length, 3);
    assert.equal(tree[0], shell.pid);
    // Past fork and exec, a child's memory still grows until it sleeps:
    // wait until two readings a little apart agree.
    let sizes = tree.map(vmRss);
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = tree.map(vmRss);
      if (again.every((size, i) => size === sizes[i])) break;
      sizes = again;
    }
    // A long interval: one sample now, the last when stopped.
    const stop = sampleRss(shell.pid, 60_000);
    // One child goes before the last sample: the peak is the first one's.
    Deno.kill(tree[2], "SIGKILL");
    await treeOf(shell.pid, -1, (pids) => !pids.includes(tree[2]));
    const peak = stop();
    assert.equal(peak.treeBytes, sizes.reduce((a, b) => a + b));
    assert.equal(peak.processBytes, Math.max(...sizes));
  } finally {
    for (const pid of [...childrenOf(shell.pid), shell.pid]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await shell.status;
  }
});
