/**
 * The command line as a child whose stdout (the access log) is kept, which
 * the shared harness's `startCli()` discards. Every wait is bounded.
 *
 * @module
 */

import { DEADLINE_MS, HTTPD, REPO_ROOT } from "./_harness.ts";

/** A running `httpd.ts` child with its output captured. */
export interface LoggedCli extends AsyncDisposable {
  readonly port: number;
  /** Everything read from stdout so far. */
  stdout(): string;
  /** Everything read from stderr so far. */
  stderr(): string;
  /**
   * Waits (bounded) until stdout holds at least `count` lines; resolves to
   * them. Rejects with what it has when the deadline passes.
   */
  waitForLines(count: number): Promise<string[]>;
  /** SIGTERM, then waits (bounded) for the exit and the end of both outputs. */
  stop(): Promise<Deno.CommandStatus>;
}

const STARTUP = /^httpd\.ts: listening on http:\/\/127\.0\.0\.1:(\d+) /m;

/** Runs `deno run -A httpd.ts ARGS -p 0 --host 127.0.0.1`, stdout kept. */
export async function startLoggedCli(args: string[]): Promise<LoggedCli> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HTTPD, ...args, "-p", "0", "--host", "127.0.0.1"],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let out = "";
  let err = "";
  let wake = () => {};
  const changed = () => {
    const wakeNow = wake;
    wake = () => {};
    wakeNow();
  };
  const readOut = (async () => {
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      out += chunk;
      changed();
    }
  })();
  const readErr = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      err += chunk;
      changed();
    }
  })();
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => {
    exited = s;
    changed();
    return s;
  });

  /** Waits until `ready()` holds, the child exits, or the deadline passes. */
  const waitUntil = async (ready: () => boolean, what: string) => {
    const end = performance.now() + DEADLINE_MS;
    while (!ready() && exited === undefined) {
      const left = end - performance.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      wake = resolve;
      const timer = setTimeout(resolve, left);
      await promise;
      clearTimeout(timer);
    }
  };

  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  const finish = async (signal: Deno.Signal) => {
    if (exited === undefined) kill(signal);
    const timer = setTimeout(() => kill("SIGKILL"), DEADLINE_MS);
    try {
      const result = await status;
      await Promise.all([readOut, readErr]);
      return result;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await waitUntil(() => STARTUP.test(err), "the startup line");
  } catch (error) {
    await finish("SIGKILL");
    throw error;
  }
  const match = STARTUP.exec(err);
  if (match === null) {
    await finish("SIGKILL");
    throw new Error(`httpd.ts did not start; stderr:\n${err}`);
  }
  const lines = () => out.split("\n").filter((line) => line !== "");
  return {
    port: Number(match[1]),
    stdout: () => out,
    stderr: () => err,
    async waitForLines(count) {
      try {
        await waitUntil(() => lines().length >= count, `${count} log lines`);
      } catch (error) {
        throw new Error(`${(error as Error).message}; stdout so far:\n${out}`);
      }
      return lines();
    },
    stop: () => finish("SIGTERM"),
    async [Symbol.asyncDispose]() {
      await finish("SIGKILL");
    },
  };
}
