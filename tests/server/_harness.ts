/**
 * Test harness for the integration tests: an in-process server or the
 * command line as a child process, and a raw TCP client that reads HTTP/1.1
 * responses byte for byte, every wait bounded by a deadline.
 *
 * @module
 */

import type { OpenFile } from "../../server/timed_open.ts";
import { serve, type ServeOptions } from "../../server/listen.ts";
import {
  type ChildOptions,
  HTTPD,
  REPO_ROOT,
  startChild,
  SUITE_ROOT,
} from "../_child.ts";

// The repository root (no trailing slash), the command line entry point and
// the public suite's data beside the repository: shared with every suite.
export { HTTPD, REPO_ROOT, SUITE_ROOT };
/** The committed fixture root with awkward names. */
export const FIXTURE_ROOT: string = `${REPO_ROOT}/tests/fixtures/www`;

/** How long any single wait on the network or a child may take. */
export const DEADLINE_MS = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a string, one byte per character (Latin-1), so raw bytes survive. */
export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

// ---------------------------------------------------------------------------
// In-process server

/** A server started by {@linkcode startServer}. */
export interface TestServer extends AsyncDisposable {
  readonly port: number;
  /** Unexpected errors the server reported (a disconnect is not one). */
  readonly reports: string[];
  /** Shuts the server down and waits for every connection to end. */
  close(): Promise<void>;
}

/**
 * Starts `serve()` in this process on 127.0.0.1, a free port, without an
 * access log, collecting what the server reports instead of printing it.
 * Use with `await using` so it is shut down however the test ends.
 */
export function startServer(
  options: Partial<ServeOptions> & { root: string },
): TestServer {
  const reports: string[] = [];
  const server = serve({
    hostname: "127.0.0.1",
    port: 0,
    accessLog: false,
    shutdownGraceMs: 2000,
    report: (context, error) => {
      reports.push(
        `${context}: ${error instanceof Error ? error.stack : error}`,
      );
    },
    ...options,
  });
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown();
  return {
    port: server.addr.port,
    reports,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// ---------------------------------------------------------------------------
// The command line as a child process

/** Options for {@linkcode startCli}. */
export interface StartCliOptions {
  /** Arguments after `httpd.ts`; `-p 0 --host 127.0.0.1` are always added. */
  args: string[];
  /** Permission flags for `deno run`. @default {["-A"]} */
  permissions?: string[];
  /** Working directory. @default {REPO_ROOT} */
  cwd?: string;
  /** What becomes of its stdout; see {@linkcode ChildOptions}. @default {"null"} */
  stdout?: ChildOptions["stdout"];
}

/** A running `httpd.ts` child. */
export interface CliServer extends AsyncDisposable {
  readonly port: number;
  readonly pid: number;
  /** The startup line the server printed. */
  readonly startupLine: string;
  /** Everything read from stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Sends a signal and waits (bounded) for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Waits (bounded) for the exit status without signalling. */
  status(): Promise<Deno.CommandStatus>;
}

/**
 * Runs `deno run PERMISSIONS httpd.ts ARGS -p 0 --host 127.0.0.1` and waits
 * for its startup line on stderr, which tells the port. Stdout (the access
 * log) is discarded; stderr keeps being read so the child never blocks on it.
 * Every wait, the startup and each stop, is bounded by {@linkcode DEADLINE_MS},
 * after which the child is killed; disposing kills it at once.
 */
export async function startCli(options: StartCliOptions): Promise<CliServer> {
  const child = await startChild(Deno.execPath(), [
    "run",
    ...(options.permissions ?? ["-A"]),
    HTTPD,
    ...options.args,
    "-p",
    "0",
    "--host",
    "127.0.0.1",
  ], {
    cwd: options.cwd ?? REPO_ROOT,
    stdout: options.stdout,
    startTimeoutMs: DEADLINE_MS,
    graceMs: DEADLINE_MS,
    disposeSignal: "SIGKILL",
  });
  const exit = async (signal: Deno.Signal | null) =>
    (await child.stop(signal)).status;
  return {
    port: child.port,
    pid: child.pid,
    startupLine: child.startupLine,
    stderr: child.stderr,
    stop: (signal: Deno.Signal = "SIGTERM") => exit(signal),
    status: () => exit(null),
    [Symbol.asyncDispose]: () => child[Symbol.asyncDispose](),
  };
}

/** What a finished command line run printed. */
export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run PERMISSIONS httpd.ts ARGS` to completion (for flags that
 * exit at once, and start-up failures).
 */
export async function runCli(
  args: string[],
  permissions: string[] = ["-A"],
): Promise<CliOutput> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DEADLINE_MS * 2);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, HTTPD, ...args],
      cwd: REPO_ROOT,
      stdin: "null",
      signal: controller.signal,
    }).output();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Resident set size of a process in bytes, from /proc/PID/status. */
export function residentBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

// ---------------------------------------------------------------------------
// Raw TCP client

/** One response as it came off the wire. */
export interface RawResponse {
  /** The status line's version, e.g. `HTTP/1.1`. */
  version: string;
  status: number;
  reason: string;
  /** Field names (lower case) and values, in order. */
  fields: [string, string][];
  body: Uint8Array;
  /** The head as text, for failure messages. */
  head: string;
}

/** The single value of a field (case-insensitive); throws if repeated. */
export function header(
  response: RawResponse,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  const values = response.fields.filter(([n]) => n === wanted);
  if (values.length > 1) {
    throw new Error(`Field ${name} appears ${values.length} times`);
  }
  return values[0]?.[1];
}

/** The body as UTF-8 text. */
export function text(response: RawResponse): string {
  return decoder.decode(response.body);
}

/** Options for {@linkcode RawClient.readResponse}. */
export interface ReadResponseOptions {
  /**
   * Read the head only: the request was HEAD, or the caller reads the body
   * itself (see {@linkcode RawClient.discard}).
   */
  head?: boolean;
}

/**
 * A TCP connection that sends raw bytes and parses responses strictly,
 * with every read bounded by {@linkcode DEADLINE_MS}.
 */
export class RawClient implements Disposable {
  readonly #conn: Deno.TcpConn;
  readonly #deadlineMs: number;
  #buffer = new Uint8Array(0);
  #eof = false;
  #reset = false;
  #closed = false;

  private constructor(conn: Deno.TcpConn, deadlineMs: number) {
    this.#conn = conn;
    this.#deadlineMs = deadlineMs;
  }

  /**
   * Connects to 127.0.0.1:port; every later read or write must make
   * progress within `deadlineMs`.
   */
  static async connect(
    port: number,
    deadlineMs: number = DEADLINE_MS,
  ): Promise<RawClient> {
    const conn = await withDeadline(
      Deno.connect({ hostname: "127.0.0.1", port }),
      "connect",
    );
    return new RawClient(conn, deadlineMs);
  }

  /**
   * Sends bytes (a string is sent as Latin-1). With `pieceSize`, the bytes
   * go out in pieces of that size, each its own write after a short pause,
   * so the server sees them in separate reads.
   */
  async send(data: string | Uint8Array, pieceSize?: number): Promise<void> {
    const bytes = typeof data === "string" ? latin1(data) : data;
    if (pieceSize === undefined) {
      await this.#writeAll(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += pieceSize) {
      await this.#writeAll(bytes.subarray(i, i + pieceSize));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Stops sending (half-close); the server sees end of stream. */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Reads one complete response; throws if the connection ends first. */
  async readResponse(options?: ReadResponseOptions): Promise<RawResponse> {
    let headEnd: number;
    while ((headEnd = indexOfHeadEnd(this.#buffer)) < 0) {
      if (!(await this.#fill())) {
        throw new Error(
          `Connection ended before a response head; got ${
            JSON.stringify(decoder.decode(this.#buffer))
          }`,
        );
      }
    }
    const head = decoder.decode(this.#buffer.subarray(0, headEnd));
    this.#buffer = this.#buffer.subarray(headEnd + 4);
    const lines = head.split("\r\n");
    const statusLine = /^(HTTP\/\d\.\d) (\d{3}) (.*)$/.exec(lines[0]);
    if (statusLine === null) throw new Error(`Bad status line: ${lines[0]}`);
    const fields: [string, string][] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`Bad response field line: ${line}`);
      fields.push([
        line.slice(0, colon).toLowerCase(),
        line.slice(colon + 1).trim(),
      ]);
    }
    const response: RawResponse = {
      version: statusLine[1],
      status: Number(statusLine[2]),
      reason: statusLine[3],
      fields,
      body: new Uint8Array(0),
      head,
    };
    if (options?.head || response.status === 304) return response;
    const lengthField = header(response, "content-length");
    if (lengthField === undefined || !/^\d+$/.test(lengthField)) {
      throw new Error(`Response without a valid Content-Length:\n${head}`);
    }
    const length = Number(lengthField);
    const body = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      if (this.#buffer.length === 0 && !(await this.#fill())) {
        throw new Error(`Body ended after ${got} of ${length} bytes`);
      }
      const n = Math.min(this.#buffer.length, length - got);
      body.set(this.#buffer.subarray(0, n), got);
      this.#buffer = this.#buffer.subarray(n);
      got += n;
    }
    response.body = body;
    return response;
  }

  /** Reads exactly `count` bytes of whatever comes and throws them away. */
  async discard(count: number, onProgress?: (read: number) => void) {
    let read = 0;
    while (read < count) {
      if (this.#buffer.length === 0 && !(await this.#fill())) {
        throw new Error(`Stream ended after ${read} of ${count} bytes`);
      }
      const n = Math.min(this.#buffer.length, count - read);
      this.#buffer = this.#buffer.subarray(n);
      read += n;
      onProgress?.(read);
    }
  }

  /**
   * Reads until the server closes; resolves to the bytes that came before
   * the end. A reset counts as a close.
   */
  async readToEnd(): Promise<Uint8Array> {
    while (await this.#fill());
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return rest;
  }

  /**
   * How the server ended the connection, once the rest is read (bounded):
   * `"eof"` for a close that let the client read to the end, `"reset"`
   * for one that reset it.
   */
  async ending(): Promise<"eof" | "reset"> {
    await this.readToEnd();
    return this.#reset ? "reset" : "eof";
  }

  /** Whether the server has closed the connection (EOF or reset), bounded. */
  async serverClosed(): Promise<boolean> {
    const rest = await this.readToEnd().catch(() => undefined);
    return rest !== undefined && rest.length === 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await withDeadline(
        this.#conn.write(bytes.subarray(offset)),
        "write",
        () => this.close(),
        this.#deadlineMs,
      );
    }
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await withDeadline(
        this.#conn.read(chunk),
        "read",
        () => this.close(),
        this.#deadlineMs,
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      this.#reset = true;
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) {
      return i;
    }
  }
  return -1;
}

/**
 * Rejects if `promise` has not settled within `deadlineMs`, after calling
 * `onTimeout` (which should release whatever is pending).
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  what: string,
  onTimeout?: () => void,
  deadlineMs: number = DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`Timed out waiting for ${what}`));
    }, deadlineMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects, sends `request`, reads one response and closes: the common case.
 */
export async function fetchRaw(
  port: number,
  request: string | Uint8Array,
  options?: ReadResponseOptions,
): Promise<RawResponse> {
  using client = await RawClient.connect(port);
  await client.send(request);
  return await client.readResponse(options);
}

/** `GET target HTTP/1.1` with a Host and `Connection: close`. */
export function get(target: string, method = "GET"): string {
  return `${method} ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;
}

// ---------------------------------------------------------------------------
// Temporary roots

/** Copies a directory tree (files and relative symlinks) to `to`. */
export function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isSymlink) Deno.symlinkSync(Deno.readLinkSync(source), target);
    else if (entry.isDirectory) copyTree(source, target);
    else Deno.copyFileSync(source, target);
  }
}

/** A temporary directory removed on dispose. */
export interface TempDir extends Disposable {
  readonly path: string;
}

/** Creates a temporary directory (a real path) removed when disposed. */
export function tempDir(prefix = "httpd_test_"): TempDir {
  const path = Deno.realPathSync(Deno.makeTempDirSync({ prefix }));
  return {
    path,
    [Symbol.dispose]() {
      Deno.removeSync(path, { recursive: true });
    },
  };
}

/** An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A file swapped for a FIFO just as it is opened; see {@linkcode fifoAtOpen}. */
export interface FifoAtOpen {
  /** The opener to give the server: it stages the swap, then opens. */
  readonly open: OpenFile;
  /** Whether the swap has happened (the path is a FIFO now). */
  readonly swapped: boolean;
  /**
   * Opens the FIFO for writing, which lets the open stuck on it return;
   * resolves with the file that open gave (the server should have closed
   * it), or `undefined` if the swap never happened.
   */
  release(): Promise<Deno.FsFile | undefined>;
}

/**
 * An opener that replaces `path` with a FIFO nobody writes to the `nth`
 * time it is asked to open it, just before opening it: the race of a rename
 * under the root between the server's stat and its open, staged where it
 * would happen. Opening a FIFO for reading blocks until a writer comes.
 */
export function fifoAtOpen(path: string, nth = 1): FifoAtOpen {
  let calls = 0;
  let stuck: Promise<Deno.FsFile> | undefined;
  return {
    open(file) {
      if (file !== path || ++calls !== nth) return Deno.open(file);
      Deno.removeSync(path);
      const made = new Deno.Command("mkfifo", { args: [path] }).outputSync();
      if (!made.success) throw new Error(`mkfifo ${path} failed`);
      stuck = Deno.open(path);
      return stuck;
    },
    get swapped() {
      return stuck !== undefined;
    },
    async release() {
      if (stuck === undefined) return undefined;
      const writer = await Deno.open(path, { write: true });
      try {
        return await stuck;
      } finally {
        writer.close();
      }
    },
  };
}
