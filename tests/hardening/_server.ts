/**
 * Starts the real `httpd.ts` CLI as a child process for black-box tests and
 * reads its descriptors and memory from /proc.
 *
 * @module
 */

import { fetchRaw, LOOPBACK, sleep } from "./_raw.ts";

/** The repository root, found from this file so no path is hard-coded. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** The public suite's data, used as document root. */
export const SUITE_ROOT: string = new URL(
  "../../../shared/suite-root/",
  import.meta.url,
)
  .pathname.replace(/\/$/, "");

/** A small known file of the suite and its exact content. */
export const SMALL_PATH = "/httptest/dir2/page.html";
/** The big file of the suite. */
export const BIG_PATH = "/httptest/wikipedia_russia.html";
/** Size in bytes of {@linkcode BIG_PATH}. */
export const BIG_SIZE = 954824;

const LISTENING = /listening on http:\/\/(\S+):(\d+)/;
const STDERR_KEEP = 64 * 1024;

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
   * Deno permission flags for the server.
   * @default ["-A"]
   */
  permissions?: string[];
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
  const args = [
    "run",
    ...(options.permissions ?? ["-A"]),
    `--config=${REPO_ROOT}deno.json`,
    `${REPO_ROOT}httpd.ts`,
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
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    stdin: "null",
    // The access log is not needed by these tests and a full pipe would
    // block the server, so it is discarded.
    stdout: "null",
    stderr: "piped",
  }).spawn();

  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stderrText = "";
  let resolvePort: (port: number) => void = () => {};
  const portFound = new Promise<number>((resolve) => (resolvePort = resolve));
  // Draining stderr for the whole life of the child keeps the pipe from
  // filling and lets failures show what the server said.
  const drained = (async () => {
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        stderrText = (stderrText + value).slice(-STDERR_KEEP);
        const match = LISTENING.exec(stderrText);
        if (match !== null) resolvePort(Number(match[2]));
      }
    } finally {
      reader.releaseLock();
    }
  })();

  const stop = async (): Promise<Deno.CommandStatus> => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // It exited between the check and the signal.
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), 15_000);
    });
    const first = await Promise.race([status, late]);
    clearTimeout(timer);
    if (first === "late") {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    const result = await status;
    await drained;
    return result;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const startTimeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(
      () => resolve("timeout"),
      options.startTimeoutMs ?? 60_000,
    );
  });
  const first = await Promise.race([portFound, status, startTimeout]);
  clearTimeout(timer);
  if (typeof first !== "number") {
    await stop();
    throw new Error(
      `Server did not start (${
        typeof first === "string" ? first : `exit ${first.code}`
      }): ${stderrText}`,
    );
  }
  const pid = child.pid;
  return {
    port: first,
    pid,
    alive: () => !exited,
    status,
    stderr: () => stderrText,
    complaints: () => {
      const match = LISTENING.exec(stderrText);
      if (match === null) return stderrText;
      const lineEnd = stderrText.indexOf("\n", match.index);
      return lineEnd < 0 ? "" : stderrText.slice(lineEnd + 1);
    },
    fdCount: () => processTree(pid).reduce((sum, p) => sum + fdCountOf(p), 0),
    rssKiB: () => processTree(pid).reduce((sum, p) => sum + rssKiBOf(p), 0),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
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

/** The exact bytes of a file under the suite root. */
export function suiteFile(path: string): Uint8Array {
  return Deno.readFileSync(SUITE_ROOT + path);
}
