/**
 * Runs httpd through its command line, exactly as a user would, and keeps
 * its access log (stdout) for the assertions.
 *
 * @module
 */

import { HTTPD, REPO_ROOT, startChild } from "../_child.ts";
import type { CollectedChild, StopResult } from "./_process.ts";

/** A running httpd child. */
export interface RunningHttpd {
  /** The port from the startup line. */
  port: number;
  /** The child, with its stdout (access log) and stderr lines. */
  child: CollectedChild;
  /** SIGTERM, then reap (SIGKILL after a grace period). */
  stop(): Promise<StopResult>;
}

/**
 * Starts `deno run -A httpd.ts -r ROOT -p 0 --host 127.0.0.1` from the
 * repository root and waits for its startup line (bounded by `timeoutMs`,
 * generous because a cold run may first download npm dependencies).
 */
export async function startHttpd(
  root: string,
  timeoutMs = 60_000,
): Promise<RunningHttpd> {
  const started = await startChild(
    Deno.execPath(),
    ["run", "-A", HTTPD, "-r", root, "-p", "0", "--host", "127.0.0.1"],
    {
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdout: "lines",
      startTimeoutMs: timeoutMs,
      graceMs: 10_000,
    },
  );
  const child: CollectedChild = {
    process: started.process,
    stdout: started.stdoutLines,
    // The shared runner keeps stderr as text (its last 64 KiB), so the
    // lines are cut on demand; only failure messages read them.
    get stderr() {
      return started.stderr().split("\n").filter((line) => line !== "");
    },
    drained: started.drained,
    abandon: started.abandon,
  };
  return { port: started.port, child, stop: () => started.stop() };
}
