/**
 * Child-process plumbing shared by the end-to-end helpers: finding
 * executables, collecting output line by line, bounded waits and a stop that
 * always reaps the child.
 *
 * @module
 */

import { delimiter, join } from "node:path";
import {
  readLines,
  REPO_ROOT,
  type StopResult,
  SUITE_ROOT,
} from "../_child.ts";

// The repository root and the public suite's data beside it (`../shared`),
// the line reader and the stop result are shared with tests/_child.ts.
export { readLines, REPO_ROOT, type StopResult, SUITE_ROOT };

/** Resolves after `ms` milliseconds; the timer is always cleared. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Races `promise` against a deadline so no wait in the suite is unbounded.
 * The timer is cleared either way, which the ops sanitizer checks.
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Finds an executable by name on `PATH` (plus the sbin directories, where
 * Debian puts nginx but a non-root `PATH` may not reach).
 */
export async function findExecutable(
  name: string,
): Promise<string | undefined> {
  const dirs = (Deno.env.get("PATH") ?? "").split(delimiter).filter((d) => d);
  dirs.push("/usr/sbin", "/sbin", "/usr/local/sbin");
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) {
        return candidate;
      }
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return undefined;
}

/** A spawned child whose stdout and stderr are collected as lines. */
export interface CollectedChild {
  /** The running process. */
  process: Deno.ChildProcess;
  /** Every stdout line so far, in order. */
  stdout: string[];
  /** Every stderr line so far, in order. */
  stderr: string[];
  /** Resolves once both streams reached their end (or were abandoned). */
  drained: Promise<void>;
  /** Stops reading both streams, for a pipe held open by a grandchild. */
  abandon(): void;
}

/** Spawns `command` with piped output that is collected into arrays. */
export function spawnCollected(
  command: string,
  options: Deno.CommandOptions,
): CollectedChild {
  const process = new Deno.Command(command, {
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const abort = new AbortController();
  const drained = Promise.all([
    readLines(process.stdout, (line) => stdout.push(line), abort.signal),
    readLines(process.stderr, (line) => stderr.push(line), abort.signal),
  ]).then(() => {});
  return { process, stdout, stderr, drained, abandon: () => abort.abort() };
}

/**
 * Polls `check` until it returns a value other than `undefined`, the child
 * exits, or the deadline passes. The child's exit is reported as an error
 * because every caller waits for something a running child should produce.
 */
export async function pollUntil<T>(
  child: CollectedChild,
  check: () => T | undefined,
  ms: number,
  what: string,
): Promise<T> {
  let exited = false;
  child.process.status.then(() => exited = true, () => exited = true);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = check();
    if (value !== undefined) return value;
    if (exited) {
      // One last look: the line may have arrived together with the exit.
      await withDeadline(child.drained, 5_000, "child output").catch(() => {});
      const late = check();
      if (late !== undefined) return late;
      throw new Error(`Process exited before ${what}`);
    }
    await sleep(50);
  }
  throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Sends `signal`, waits up to `graceMs`, then SIGKILLs; always reaps the
 * child and drains its output so nothing outlives the test.
 */
export async function stopChild(
  child: CollectedChild,
  signal: Deno.Signal = "SIGTERM",
  graceMs = 10_000,
): Promise<StopResult> {
  let killed = false;
  try {
    child.process.kill(signal);
  } catch {
    // Already exited: the status below is what matters.
  }
  let status: Deno.CommandStatus;
  try {
    status = await withDeadline(child.process.status, graceMs, "child exit");
  } catch {
    killed = true;
    try {
      child.process.kill("SIGKILL");
    } catch {
      // Exited between the deadline and the kill.
    }
    status = await child.process.status;
  }
  try {
    await withDeadline(child.drained, 5_000, "child output to end");
  } catch {
    child.abandon();
    await child.drained;
  }
  return { status, killed };
}
