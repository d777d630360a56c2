/**
 * One worker child process as the supervisor sees it: spawned, ready or
 * not, its output forwarded, stopped gracefully or killed.
 *
 * @module
 */

import { forwardLines, stripAnsi } from "./_worker_output.ts";
import type { LineSink } from "./line_sink.ts";
import { settledWithin } from "./_within.ts";
import {
  HEARTBEAT_LINE,
  HEARTBEAT_MARK,
  HEARTBEAT_REQUEST,
  RETIRE_SIGNAL,
} from "./worker_link.ts";

/** How a worker announces on stderr that it accepts connections. */
const READY_LINE = /^worker (\d+) ready\b/;

/** How many of a worker's last stderr lines are kept to explain a failure. */
const TAIL_LINES = 8;
/** How httpd.ts starts a line that says what went wrong. */
const ERROR_LINE = /^httpd\.ts: /;
/**
 * How long `exited` waits, once the worker is gone, for its stdout and
 * stderr to reach their end: a process it left behind may hold them open.
 * Lines still arriving after that are forwarded all the same; `exited`
 * just does not wait for them.
 */
const OUTPUT_DRAIN_MS = 1000;

/** How to spawn one worker. */
export interface WorkerSpawnOptions {
  /** Unique id, also the `[wN]` output prefix. */
  id: number;
  /** Executable, normally `Deno.execPath()`. */
  program: string;
  /** Its arguments. */
  args: string[];
  /** Where the worker's stdout lines go. */
  stdout: LineSink;
  /** Where the worker's stderr lines go. */
  stderr: LineSink;
  /** How long a worker may take to print its ready line before it is killed. */
  readyTimeoutMs: number;
}

/** A running (or finished) worker process. */
export class WorkerProcess {
  /** Unique id, as passed with `--worker-id`. */
  readonly id: number;
  /** Process id. */
  readonly pid: number;
  /** Resolves `true` once the worker is ready, `false` if it never will be. */
  readonly ready: Promise<boolean>;
  /**
   * Resolves when the process has exited and its output has been read to
   * the end, or `OUTPUT_DRAIN_MS` after it exited if that output stays open.
   */
  readonly exited: Promise<Deno.CommandStatus>;
  /** `performance.now()` when it became ready. */
  readyAt: number | undefined;
  /**
   * `performance.now()` of its last heartbeat, or of its ready line if
   * that promised heartbeats; undefined for a worker that sends none.
   */
  heardAt: number | undefined;
  /** Set when the supervisor itself asked it to stop. */
  retiring = false;
  /** Set once the process has exited. */
  status: Deno.CommandStatus | undefined;

  readonly #child: Deno.ChildProcess;
  readonly #tail: string[] = [];
  /** The last line in which httpd.ts said what went wrong. */
  #error: string | undefined;

  private constructor(child: Deno.ChildProcess, options: WorkerSpawnOptions) {
    this.id = options.id;
    this.pid = child.pid;
    this.#child = child;
    const prefix = `[w${options.id}] `;
    const ready = Promise.withResolvers<boolean>();
    const timer = setTimeout(() => {
      this.#remember(`no ready line within ${options.readyTimeoutMs} ms`);
      ready.resolve(false);
      this.kill("SIGKILL");
    }, options.readyTimeoutMs);
    const stdoutDone = forwardLines(child.stdout, prefix, options.stdout);
    const stderrDone = forwardLines(
      child.stderr,
      prefix,
      options.stderr,
      (line) => {
        if (line === HEARTBEAT_LINE) {
          this.heardAt = performance.now();
          return false;
        }
        if (READY_LINE.test(line)) {
          clearTimeout(timer);
          this.readyAt ??= performance.now();
          // One that will beat is judged from now, not from its first beat.
          if (line.endsWith(` ${HEARTBEAT_MARK}`)) {
            this.heardAt ??= this.readyAt;
          }
          ready.resolve(true);
        } else {
          this.#remember(line);
        }
      },
    );
    this.ready = ready.promise;
    this.exited = (async () => {
      const status = await child.status;
      this.status = status;
      clearTimeout(timer);
      ready.resolve(false);
      await settledWithin(
        Promise.all([stdoutDone, stderrDone]),
        OUTPUT_DRAIN_MS,
      );
      // Our end of a dead worker's stdin: nothing useful can fail here.
      await child.stdin.close().catch(() => {});
      return status;
    })();
  }

  /**
   * Starts a worker. Throws like `Deno.Command#spawn` (for instance
   * `Deno.errors.NotCapable` without run permission).
   */
  static spawn(options: WorkerSpawnOptions): WorkerProcess {
    const child = new Deno.Command(options.program, {
      args: options.args,
      // The worker treats the end of its stdin as "supervisor gone", so the
      // pipe stays open for the worker's whole life; all it carries is the
      // request for heartbeats.
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Deno colours its own messages (an uncaught error, a failed import)
      // even into a pipe; the rest of the environment is passed on as is.
      env: { NO_COLOR: "1" },
    }).spawn();
    const link = child.stdin.getWriter();
    link.write(HEARTBEAT_REQUEST).catch(() => {
      // Dead already: its exit is reported like any other.
    });
    link.releaseLock();
    return new WorkerProcess(child, options);
  }

  /**
   * What went wrong, for error reports: the `httpd.ts: ` line it failed to
   * start with, else its last stderr lines, else how it ended.
   */
  lastError(): string {
    if (this.#error !== undefined) return this.#error;
    if (this.#tail.length > 0) return this.#tail.join(" | ");
    return this.status ? describeStatus(this.status) : "no output";
  }

  /** Sends `signal`; a worker that is already gone is not an error. */
  kill(signal: Deno.Signal): void {
    if (this.status) return;
    try {
      this.#child.kill(signal);
    } catch {
      // It exited between the check and the signal.
    }
  }

  /**
   * Retires the worker after a reload: it stops accepting and finishes its
   * responses in flight; it is killed if it is not gone after `graceMs`.
   * Resolves to whether it had to be killed.
   */
  async retire(graceMs: number): Promise<boolean> {
    this.retiring = true;
    this.kill(RETIRE_SIGNAL);
    if (await settledWithin(this.exited, graceMs)) return false;
    this.kill("SIGKILL");
    await this.exited;
    return true;
  }

  /**
   * Asks the worker to stop gracefully, and kills it if it is not gone
   * after `graceMs`; resolves to whether it had to be killed.
   */
  async stop(graceMs: number): Promise<boolean> {
    this.retiring = true;
    this.kill("SIGTERM");
    if (await settledWithin(this.exited, graceMs)) return false;
    this.kill("SIGKILL");
    await this.exited;
    return true;
  }

  #remember(raw: string): void {
    // Quoted in the supervisor's own lines: no colour codes there, whatever
    // the worker wrote (they are passed on untouched with its output).
    const line = stripAnsi(raw);
    if (line.trim() === "") return;
    // Only a failure to start ends with such a line; once ready, a worker
    // that dies is explained by its last lines (an uncaught error's stack),
    // not by an error it reported and survived.
    if (ERROR_LINE.test(line) && this.readyAt === undefined) {
      this.#error = line;
    }
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}

/**
 * Describes how a process ended, e.g. `"exit code 1"` or `"signal SIGKILL"`.
 *
 * @example
 * ```ts
 * import { describeStatus } from "./_worker_process.ts";
 * describeStatus({ success: false, code: 137, signal: "SIGKILL" });
 * // "signal SIGKILL"
 * ```
 */
export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}
