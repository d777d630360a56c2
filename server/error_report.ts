/**
 * Reporting of unexpected errors: at most one line a second on stderr, so a
 * flood of broken connections cannot flood the log too.
 *
 * @module
 */

/** Reports an error that should not have happened. */
export type ErrorReporter = (context: string, error: unknown) => void;

/** Errors that only mean the peer went away or the socket was closed. */
export function isDisconnect(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.TimedOut;
}

/**
 * Whether the process, or the whole system, is out of file descriptors
 * (EMFILE, ENFILE): a state to report plainly, not a bug with a stack.
 *
 * @example
 * ```ts
 * import { isOutOfDescriptors } from "./error_report.ts";
 * import assert from "node:assert/strict";
 * const error = Object.assign(new Error("Too many open files"), {
 *   code: "EMFILE",
 * });
 * assert.equal(isOutOfDescriptors(error), true);
 * assert.equal(isOutOfDescriptors(new Deno.errors.NotFound()), false);
 * ```
 */
export function isOutOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/**
 * The soft limit on open files of this process, from /proc; `undefined`
 * where that cannot be read (another system, or no permission).
 */
export function openFileLimit(): number | undefined {
  const path = "/proc/self/limits";
  try {
    // Queried first: reading without the permission could prompt for it.
    if (
      Deno.permissions.querySync({ name: "read", path }).state !== "granted"
    ) {
      return undefined;
    }
    const limits = Deno.readTextFileSync(path);
    const match = /^Max open files\s+(\d+)/m.exec(limits);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * The message of an error, or the thrown value as text: for one-line
 * reports of what failed.
 *
 * @example
 * ```ts
 * import { errorMessage } from "./error_report.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorMessage(new Error("gone")), "gone");
 * assert.equal(errorMessage("plain"), "plain");
 * ```
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates a reporter that writes at most one line per `intervalMs` and
 * counts what it held back.
 *
 * @example
 * ```ts
 * import { createErrorReporter } from "./error_report.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const report = createErrorReporter((line) => lines.push(line), 1000);
 * report("connection", new Error("first"));
 * report("connection", new Error("second"));
 * assert.equal(lines.length, 1);
 * ```
 */
export function createErrorReporter(
  write: (line: string) => void = (line) => console.error(line),
  intervalMs = 1000,
): ErrorReporter {
  let last = -Infinity;
  let suppressed = 0;
  // Read now: once descriptors run out, /proc cannot be read either.
  const fileLimit = openFileLimit();
  return (context, error) => {
    const now = performance.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    const more = suppressed > 0 ? ` (${suppressed} more suppressed)` : "";
    suppressed = 0;
    if (isOutOfDescriptors(error)) {
      write(
        `httpd.ts: out of file descriptors in ${context}${more}: ${
          errorMessage(error)
        }${
          fileLimit === undefined ? "" : ` (open file limit ${fileLimit})`
        }; ` +
          "new connections and files get 503 until some close: raise the " +
          "limit (ulimit -n) or lower --max-connections",
      );
      return;
    }
    const message = error instanceof Error
      ? error.stack ?? error.message
      : String(error);
    write(`httpd.ts: unexpected error in ${context}${more}: ${message}`);
  };
}

/**
 * Closes a file, socket or listener that may already be closed (by the
 * peer's reset, a stream's end, or another path through the same cleanup).
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./error_report.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // no BadResource
 * ```
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed: there is nothing left to release.
  }
}
