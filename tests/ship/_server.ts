/**
 * Helpers for the shipping tests: start a server command, wait for its
 * startup line, talk raw HTTP/1.1 to it and stop it.
 *
 * @module
 */

import { REPO_ROOT as ROOT, startChild, SUITE_ROOT } from "../_child.ts";

/**
 * The repository root (the directory holding deno.json), with the trailing
 * slash these tests always had.
 */
export const REPO_ROOT: string = `${ROOT}/`;

// The public suite's document root, used read-only.
export { SUITE_ROOT };

/** A large file of the suite and its size in bytes. */
export const SUITE_FILE = "/httptest/wikipedia_russia.html";

/** A running server process started by {@linkcode startServer}. */
export interface RunningServer {
  child: Deno.ChildProcess;
  port: number;
  /**
   * The startup line (`httpd.ts: listening on http://H:P root=R workers=N`),
   * without its line break: with `-w N` it is printed once all N workers
   * are ready.
   */
  startupLine: string;
  /** What the server wrote on stderr so far (the last 64 KiB). */
  stderr(): string;
  /**
   * Sends `signal` and resolves with the exit status once it has exited
   * (SIGKILL after 30 s).
   */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * A port that was free a moment ago: listen on port 0 and close. Another
 * process could take it in between; on loopback in a test that is rare.
 */
export function findFreePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Spawns `program args` and resolves once it prints the startup line. Stdout
 * is discarded and stderr is drained in the background so a chatty server
 * never blocks on a full pipe. `stop` gives the server 30 s to exit after
 * its signal, then kills it.
 */
export async function startServer(
  program: string,
  args: string[],
  options: { cwd?: string; readyTimeoutMs?: number } = {},
): Promise<RunningServer> {
  const child = await startChild(program, args, {
    cwd: options.cwd ?? REPO_ROOT,
    startTimeoutMs: options.readyTimeoutMs ?? 30_000,
    // Generous: a compiled binary or a container may be slow to wind down,
    // and a graceful stop that needs SIGKILL fails its test anyway.
    graceMs: 30_000,
  });
  return {
    child: child.process,
    port: child.port,
    startupLine: child.startupLine,
    stderr: child.stderr,
    stop: async (signal: Deno.Signal = "SIGTERM") =>
      (await child.stop(signal)).status,
  };
}

/** A parsed HTTP response. */
export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/**
 * Sends one request with `Connection: close` over a fresh TCP connection and
 * reads the answer to the end, so nothing between test and server rewrites
 * either side.
 */
export async function request(
  port: number,
  method: string,
  path: string,
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  try {
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Connection: close\r\n\r\n";
    await conn.write(new TextEncoder().encode(head));
    const buffer = new Uint8Array(64 * 1024);
    // Bounded by the server closing the connection; the caller's test
    // timeout covers a server that never does.
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } finally {
    conn.close();
  }
  const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const end = findHeadEnd(all);
  if (end < 0) throw new Error("Response has no complete head");
  const lines = new TextDecoder().decode(all.subarray(0, end)).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers.set(
      line.slice(0, colon).trim().toLowerCase(),
      line.slice(colon + 1).trim(),
    );
  }
  return { status, headers, body: all.subarray(end + 4) };
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

/** Whether `path` exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Prints a loud skip line; pair it with `ignore: true`. */
export function announceSkip(test: string, reason: string): void {
  console.log(`SKIPPED ${test}: ${reason}`);
}
