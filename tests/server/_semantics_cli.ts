/**
 * The command line as a child whose stdout (the access log) is kept, which
 * the shared harness's `startCli()` discards. Every wait is bounded.
 *
 * @module
 */

import { startChild } from "../_child.ts";
import { DEADLINE_MS, HTTPD } from "./_harness.ts";

/** A running `httpd.ts` child with its output captured. */
export interface LoggedCli extends AsyncDisposable {
  readonly port: number;
  /** Everything read from stdout so far. */
  stdout(): string;
  /** What the child wrote on stderr so far (the last 64 KiB). */
  stderr(): string;
  /**
   * Waits (bounded) until stdout holds at least `count` lines, or the child
   * exits; resolves to the lines. Rejects with what it has when the
   * deadline passes.
   */
  waitForLines(count: number): Promise<string[]>;
  /** SIGTERM, then waits (bounded) for the exit and the end of both outputs. */
  stop(): Promise<Deno.CommandStatus>;
}

/** How often {@linkcode LoggedCli.waitForLines} looks at stdout again. */
const POLL_MS = 10;

/** Runs `deno run -A httpd.ts ARGS -p 0 --host 127.0.0.1`, stdout kept. */
export async function startLoggedCli(args: string[]): Promise<LoggedCli> {
  const child = await startChild(
    Deno.execPath(),
    ["run", "-A", HTTPD, ...args, "-p", "0", "--host", "127.0.0.1"],
    { stdout: "lines", startTimeoutMs: DEADLINE_MS, graceMs: DEADLINE_MS },
  );
  const lines = () => child.stdoutLines.filter((line) => line !== "");
  return {
    port: child.port,
    stdout: child.stdout,
    stderr: child.stderr,
    async waitForLines(count) {
      const end = performance.now() + DEADLINE_MS;
      while (lines().length < count && child.alive()) {
        if (performance.now() > end) {
          throw new Error(
            `Timed out waiting for ${count} log lines; stdout so far:\n${child.stdout()}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return lines();
    },
    stop: async () => (await child.stop("SIGTERM")).status,
    [Symbol.asyncDispose]: () => child[Symbol.asyncDispose](),
  };
}
