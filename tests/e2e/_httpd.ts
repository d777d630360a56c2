/**
 * Runs httpd through its command line, exactly as a user would, and keeps
 * its access log (stdout) for the assertions.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CollectedChild,
  pollUntil,
  REPO_ROOT,
  spawnCollected,
  stopChild,
  type StopResult,
} from "./_process.ts";

/** The startup line every run prints once on stderr (the CLI contract). */
const LISTENING = /listening on http:\/\/(\S+):(\d+)/;

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
  const child = spawnCollected(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(REPO_ROOT, "httpd.ts"),
      "-r",
      root,
      "-p",
      "0",
      "--host",
      "127.0.0.1",
    ],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
  });
  try {
    const port = await pollUntil(
      child,
      () => {
        for (const line of child.stderr) {
          const match = LISTENING.exec(line);
          if (match) return Number(match[2]);
        }
        return undefined;
      },
      timeoutMs,
      "the httpd startup line",
    );
    return { port, child, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child, "SIGKILL");
    const stderr = child.stderr.slice(-20).join("\n");
    throw new Error(
      `Cannot start httpd: ${(error as Error).message}\n${stderr}`,
    );
  }
}
