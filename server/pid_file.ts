/**
 * The `--pid-file`: written and removed by the one process that signals go
 * to. With `-w 1` the server writes it once it listens; with `-w N` the
 * supervisor writes it as soon as it handles signals, before its workers
 * are ready (the "listening on" line on stderr says when they are).
 *
 * @module
 */

import { errorMessage } from "./error_report.ts";

/**
 * Writes this process's id to `path`; resolves to why it could not, or
 * `undefined` once written.
 *
 * @example
 * ```ts
 * import { removePidFile, writePidFile } from "./pid_file.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * assert.equal(await writePidFile(path), undefined);
 * assert.equal(Deno.readTextFileSync(path), `${Deno.pid}\n`);
 * await removePidFile(path);
 * assert.throws(() => Deno.statSync(path));
 * ```
 */
export async function writePidFile(path: string): Promise<string | undefined> {
  try {
    await Deno.writeTextFile(path, `${Deno.pid}\n`);
    return undefined;
  } catch (error) {
    return `Cannot write pid file ${path}: ${errorMessage(error)}`;
  }
}

/**
 * Removes the pid file unless another process has claimed it since (a
 * second instance started with the same path): its owner still needs it.
 * Synchronous, so that a process about to exit at once can call it.
 */
export function removePidFile(path: string): void {
  try {
    // Without read permission (only --allow-write for the pid file), the
    // check is skipped rather than answered by a permission prompt.
    const readable =
      Deno.permissions.querySync({ name: "read", path }).state === "granted";
    if (!readable || Deno.readTextFileSync(path).trim() === `${Deno.pid}`) {
      Deno.removeSync(path);
    }
  } catch {
    // Already gone, or not ours to remove.
  }
}
