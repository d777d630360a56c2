/**
 * Starts the real `httpd.ts` CLI as a child process for black-box tests and
 * reads its descriptors and memory from /proc.
 *
 * @module
 */

import { HTTPD, REPO_ROOT as ROOT, startChild, SUITE_ROOT } from "../_child.ts";
import { fetchRaw, LOOPBACK, sleep } from "./_raw.ts";

/** The repository root, with a trailing slash as these tests always had. */
export const REPO_ROOT: string = `${ROOT}/`;

// The public suite's data, used as document root.
export { SUITE_ROOT };

/** A small known file of the suite and its exact content. */
export const SMALL_PATH = "/httptest/dir2/page.html";
/** The big file of the suite. */
export const BIG_PATH = "/httptest/wikipedia_russia.html";
/** Size in bytes of {@linkcode BIG_PATH}. */
export const BIG_SIZE = 954824;

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /**
   * Document root.
   * @default SUITE_ROOT
   */
  root?: string;
  /** Extra CLI flags, e.g. `["--header-timeout", "2"]`. */
  args?: string[];
  /**
   * Pass `--quiet` so no access log is written.
   * @default true
   */
  quiet?: boolean;
  /**
   * `deno run` flags before the script: permissions, and V8 flags if any.
   * @default ["-A"]
   */
  permissions?: string[];
  /**
   * A limit on the server's open files (soft and hard, set by util-linux's
   * `prlimit`), so a test can run it out of descriptors.
   * @default undefined
   */
  openFileLimit?: number;
  /**
   * How long to wait for the startup line, in milliseconds.
   * @default 60000
   */
  startTimeoutMs?: number;
}

/** A running server child process. */
export interface Server {
  /** The port from the startup line. */
  port: number;
  /** The pid of the CLI process. */
  pid: number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The exit status once the process ended. */
  status: Promise<Deno.CommandStatus>;
  /** Everything the server wrote to stderr so far (the last 64 KiB). */
  stderr(): string;
  /**
   * What the server wrote to stderr after its startup line. A `--quiet`
   * server writes nothing there unless something unexpected happened.
   */
  complaints(): string;
  /** Open descriptors of the process and its descendants. */
  fdCount(): number;
  /** Resident memory of the process and its descendants, in KiB. */
  rssKiB(): number;
  /** SIGTERM, then wait (SIGKILL after 15 s); returns the exit status. */
  stop(): Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The pids of `pid` and all its descendants, read from /proc. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && i < 1024; i++) {
    let tasks: Deno.DirEntry[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${out[i]}/task`)];
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const text = Deno.readTextFileSync(
          `/proc/${out[i]}/task/${task.name}/children`,
        );
        for (const child of text.split(/\s+/)) {
          if (child !== "") out.push(Number(child));
        }
      } catch {
        // The task ended while we looked; its children moved elsewhere.
      }
    }
  }
  return out;
}

/** Open descriptors of one process, or 0 if it is gone. */
export function fdCountOf(pid: number): number {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
    return count;
  } catch {
    return 0;
  }
}

/** VmRSS of one process in KiB, or 0 if it is gone. */
export function rssKiBOf(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/**
 * Starts `httpd.ts` on an ephemeral port of 127.0.0.1 and waits for its
 * startup line. Throws with the server's stderr when it does not start.
 */
export async function startServer(
  options: ServerOptions = {},
): Promise<Server> {
  const limit = options.openFileLimit;
  const [program, ...prefix] = limit === undefined
    ? [Deno.execPath()]
    : ["prlimit", `--nofile=${limit}:${limit}`, Deno.execPath()];
  const child = await startChild(program, [
    ...prefix,
    "run",
    ...(options.permissions ?? ["-A"]),
    `--config=${REPO_ROOT}deno.json`,
    HTTPD,
    "-r",
    options.root ?? SUITE_ROOT,
    "-p",
    "0",
    "--host",
    LOOPBACK,
    "-w",
    "1",
    ...(options.quiet ?? true ? ["--quiet"] : []),
    ...(options.args ?? []),
  ], {
    cwd: REPO_ROOT,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    // A server under attack may take a while to finish its connections.
    graceMs: 15_000,
    disposeSignal: "SIGTERM",
  });
  const pid = child.pid;
  return {
    port: child.port,
    pid,
    alive: child.alive,
    status: child.status,
    stderr: child.stderr,
    complaints: () => {
      const text = child.stderr();
      const start = text.indexOf(child.startupLine);
      // The startup line left the kept tail: everything is a complaint.
      if (start < 0) return text;
      return text.slice(start + child.startupLine.length + 1);
    },
    fdCount: () => processTree(pid).reduce((sum, p) => sum + fdCountOf(p), 0),
    rssKiB: () => processTree(pid).reduce((sum, p) => sum + rssKiBOf(p), 0),
    stop: async () => (await child.stop()).status,
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
    },
  };
}

/**
 * Descriptors a quiet server may open or close on its own (runtime
 * internals, a lazily opened cache entry); a leak per connection shows up as
 * tens or thousands, far above this.
 */
export const FD_SLACK = 4;

/**
 * Warms the server up (small and big file once each, so lazy state exists)
 * and returns its descriptor count once it holds still.
 */
export async function warmUp(server: Server): Promise<number> {
  await fetchRaw(server.port, SMALL_PATH);
  await fetchRaw(server.port, BIG_PATH);
  await fetchRaw(server.port, "/httptest/no-such-file");
  return await settledFdCount(server);
}

/** The fd count once two samples 300 ms apart agree (bounded to 5 s). */
export async function settledFdCount(server: Server): Promise<number> {
  let last = server.fdCount();
  for (let i = 0; i < 16; i++) {
    await sleep(300);
    const now = server.fdCount();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * Polls until the fd count is at most `baseline + FD_SLACK` or the deadline
 * passes; returns the last count seen.
 */
export async function waitForFds(
  server: Server,
  baseline: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = server.fdCount();
  while (count > baseline + FD_SLACK && Date.now() < deadline) {
    await sleep(200);
    count = server.fdCount();
  }
  return count;
}

/**
 * Stops `server` and prints its exit code, as the fuzz and soak tools
 * report it; whether it exited cleanly (code 0).
 */
export async function stopAndReport(server: Server): Promise<boolean> {
  const status = await server.stop();
  console.log(`server exit code ${status.code}`);
  return status.code === 0;
}

/**
 * Runs a command-line tool's `main`: exits with the code it returns, or,
 * when it throws (a bad flag, a server that would not start), prints the
 * one-line error and `usage` and exits with 2.
 */
export async function runTool(
  main: () => Promise<number>,
  usage: string,
): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(usage);
    Deno.exit(2);
  }
}

/** The exact bytes of a file under the suite root. */
export function suiteFile(path: string): Uint8Array {
  return Deno.readFileSync(SUITE_ROOT + path);
}
