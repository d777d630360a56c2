/**
 * One way to run a server command line as a child process in the tests:
 * spawn it, drain its stderr for its whole life, wait (bounded) for the
 * `httpd.ts: listening on ...` startup line, and stop it with a signal and a
 * bounded SIGKILL fallback that always reaps. The suites' helpers
 * (tests/server/_harness.ts and _semantics_cli.ts, tests/hardening/_server.ts,
 * tests/ship/_server.ts, tests/e2e/_httpd.ts) are thin wrappers that add
 * their own defaults.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { settledWithin, within } from "../server/_within.ts";

/** The repository root, as a file system path without a trailing slash. */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url))
  .replace(/\/$/, "");

/** The command line entry point. */
export const HTTPD: string = `${REPO_ROOT}/httpd.ts`;

/** The public suite's data, read-only, beside the repository (`../shared`). */
export const SUITE_ROOT: string = fileURLToPath(
  new URL("../../shared/suite-root", import.meta.url),
).replace(/\/$/, "");

/**
 * The line a server prints once on stderr when it accepts connections (the
 * CLI contract, with or without workers). Groups: host, port, root, workers.
 * It is matched against complete lines only, so a chunk that ends inside
 * `workers=1` of `workers=12` cannot fool it.
 */
export const STARTUP_LINE: RegExp =
  /^httpd\.ts: listening on http:\/\/(\S+):(\d+) root=(.+) workers=(\d+)$/m;

/** How much of stderr is kept, in characters: enough to explain a failure. */
const STDERR_KEEP = 64 * 1024;

/**
 * How long output may stay open after the child exited. A grandchild that
 * inherited a pipe could otherwise hold it, and a reader, open forever.
 */
const OUTPUT_GRACE_MS = 5_000;

/** Options for {@linkcode startChild}. */
export interface ChildOptions {
  /** Working directory. @default {REPO_ROOT} */
  cwd?: string;
  /** Extra environment variables, added to this process's environment. */
  env?: Record<string, string>;
  /**
   * `"lines"` collects stdout (the access log) into
   * {@linkcode StartedChild.stdoutLines}; `"null"` discards it, so a full
   * pipe can never block the server; `"unread"` is a pipe nobody reads (a
   * stalled log collector), which fills up. @default {"null"}
   */
  stdout?: "null" | "lines" | "unread";
  /** How long to wait for the startup line. @default {60000} */
  startTimeoutMs?: number;
  /** {@linkcode StartedChild.stop}'s default grace period. @default {10000} */
  graceMs?: number;
  /** What `[Symbol.asyncDispose]` sends first. @default {"SIGKILL"} */
  disposeSignal?: Deno.Signal;
}

/** How a stopped child ended. */
export interface StopResult {
  /** The exit status. */
  status: Deno.CommandStatus;
  /** True when the grace period ran out and SIGKILL was sent. */
  killed: boolean;
}

/** A child that printed its startup line, from {@linkcode startChild}. */
export interface StartedChild extends AsyncDisposable {
  /** The running process. */
  readonly process: Deno.ChildProcess;
  /** Its process id. */
  readonly pid: number;
  /** The port from the startup line. */
  readonly port: number;
  /** The startup line, without its line break. */
  readonly startupLine: string;
  /** The exit status, once the process has ended. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Every stdout line so far, in order (always empty unless collected). */
  readonly stdoutLines: string[];
  /** Everything read from stdout so far, as sent (empty unless collected). */
  stdout(): string;
  /** Resolves once stdout and stderr reached their end or were abandoned. */
  readonly drained: Promise<void>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** What the child wrote on stderr so far (the last 64 KiB). */
  stderr(): string;
  /** Stops reading the outputs, for a pipe held open by a grandchild. */
  abandon(): void;
  /**
   * Sends `signal` (nothing for `null`: for a child expected to exit by
   * itself) unless the child already exited, waits up to `graceMs`, then
   * SIGKILLs; always reaps the child and settles its output.
   */
  stop(signal?: Deno.Signal | null, graceMs?: number): Promise<StopResult>;
}

/**
 * Reads a byte stream to its end, calling `onLine` for every complete line
 * (without the line break). Resolves at end of stream, or early and quietly
 * when `signal` aborts.
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const lines = splitLines(onLine);
  await readText(stream, lines.push, signal);
  lines.end();
}

/** Cuts text arriving in chunks into lines, without their line breaks. */
function splitLines(onLine: (line: string) => void) {
  let pending = "";
  return {
    push(chunk: string): void {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ""));
        pending = pending.slice(newline + 1);
      }
    },
    /** Passes on a last line that had no line break. */
    end(): void {
      if (pending !== "") onLine(pending);
      pending = "";
    },
  };
}

/** Reads a byte stream as text chunks until its end or until `signal` aborts. */
async function readText(
  stream: ReadableStream<Uint8Array>,
  onChunk: (chunk: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const text = stream.pipeThrough(new TextDecoderStream(), { signal });
  try {
    for await (const chunk of text) onChunk(chunk);
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}

/**
 * Spawns `program args` (stdin closed) and resolves once it prints
 * {@linkcode STARTUP_LINE} on stderr. If it exits, closes stderr or stays
 * silent for `startTimeoutMs` instead, it is killed and reaped, and the
 * promise rejects with the reason and everything it wrote on stderr.
 */
export async function startChild(
  program: string,
  args: string[],
  options: ChildOptions = {},
): Promise<StartedChild> {
  const collect = options.stdout === "lines";
  const process = new Deno.Command(program, {
    args,
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdin: "null",
    stdout: options.stdout === undefined || options.stdout === "null"
      ? "null"
      : "piped",
    stderr: "piped",
  }).spawn();

  let exited = false;
  const status = process.status.then((s) => {
    exited = true;
    return s;
  });
  const abort = new AbortController();
  let stderrText = "";
  let startupLine: string | undefined;
  const found = Promise.withResolvers<string>();
  // Draining stderr for the whole life of the child keeps the pipe from
  // filling (which would block the server) and lets failures show what the
  // server said.
  const stderrDone = readText(process.stderr, (chunk) => {
    stderrText = (stderrText + chunk).slice(-STDERR_KEEP);
    if (startupLine !== undefined) return;
    const complete = stderrText.slice(0, stderrText.lastIndexOf("\n") + 1);
    const match = STARTUP_LINE.exec(complete);
    if (match === null) return;
    startupLine = match[0];
    found.resolve(match[0]);
  }, abort.signal);
  const stdoutLines: string[] = [];
  let stdoutText = "";
  const lines = splitLines((line) => stdoutLines.push(line));
  const drained = Promise.all([
    stderrDone,
    collect
      ? readText(process.stdout, (chunk) => {
        stdoutText += chunk;
        lines.push(chunk);
      }, abort.signal).then(lines.end)
      : undefined,
  ]).then(() => {});
  // Once the child is gone its output ends too, unless a grandchild still
  // holds a pipe: then give up on the rest rather than wait forever.
  const settled = status.then(async () => {
    if (!(await settledWithin(drained, OUTPUT_GRACE_MS))) abort.abort();
    await drained;
    if (options.stdout === "unread") await process.stdout.cancel();
  });

  const kill = (signal: Deno.Signal) => {
    try {
      process.kill(signal);
    } catch {
      // It exited between the check and the signal.
    }
  };
  const stop = async (
    signal: Deno.Signal | null = "SIGTERM",
    graceMs: number = options.graceMs ?? 10_000,
  ): Promise<StopResult> => {
    if (signal !== null && !exited) kill(signal);
    let killed = false;
    if (!(await settledWithin(status, graceMs))) {
      killed = true;
      kill("SIGKILL");
    }
    const result = await status;
    await settled;
    return { status: result, killed };
  };

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  // The end of stderr means the child exited (or will not talk any more);
  // either way the line is not coming.
  // undefined: no word in time; null: stderr ended.
  const first = await within(
    Promise.race([found.promise, stderrDone.then(() => null)]),
    startTimeoutMs,
  );
  if (typeof first !== "string") {
    const reason = first === undefined
      ? `no startup line within ${startTimeoutMs} ms`
      : "its stderr ended without a startup line";
    const { status: end } = await stop("SIGKILL");
    throw new Error(
      `${program} ${
        args.join(" ")
      } did not start: ${reason} (exit code ${end.code}, signal ${end.signal}); stderr:\n${stderrText}`,
    );
  }
  return {
    process,
    pid: process.pid,
    port: Number(STARTUP_LINE.exec(first)![2]),
    startupLine: first,
    status,
    stdoutLines,
    stdout: () => stdoutText,
    drained,
    alive: () => !exited,
    stderr: () => stderrText,
    abandon: () => abort.abort(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop(options.disposeSignal ?? "SIGKILL");
    },
  };
}
