/**
 * Opening a file without waiting on it for good. An open that never returns
 * (a FIFO swapped in under the root, with no writer) holds one of Deno's
 * blocking-pool threads, never the event loop; whoever asked for it is told
 * after a timeout, and while too many opens are stuck no new one starts.
 *
 * @module
 */

import { closeQuietly } from "./error_report.ts";

/** Opens a file for reading (`Deno.open`, or a stand-in in tests). */
export type OpenFile = (path: string) => Promise<Deno.FsFile>;

/**
 * Opens past their timeout beyond which no new open starts (`undefined` at
 * once): each holds one of the 32 threads of Deno's blocking pool, which
 * every other file operation and the console need too.
 */
export const MAX_STUCK_OPENS = 8;

/** The longest a timer can wait (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens files through `open`, each within a timeout.
 *
 * @example
 * ```ts
 * import { TimedOpener } from "./timed_open.ts";
 * import assert from "node:assert/strict";
 * const never = () => new Promise<Deno.FsFile>(() => {});
 * const opener = new TimedOpener(never, 10);
 * assert.equal(await opener.open("/fifo"), undefined);
 * ```
 */
export class TimedOpener {
  readonly #open: OpenFile;
  readonly #timeoutMs: number;
  /** Opens past their timeout that have not returned yet. */
  #stuck = 0;

  /** Opens with `open`, allowing each `timeoutMs` (at least 1 ms). */
  constructor(open: OpenFile, timeoutMs: number) {
    this.#open = open;
    this.#timeoutMs = Math.min(Math.max(timeoutMs, 1), MAX_TIMER_MS);
  }

  /**
   * Opens `path`; `undefined` if that takes longer than the timeout, in
   * which case the file, should it open after all, is closed at once;
   * `undefined` at once while {@linkcode MAX_STUCK_OPENS} opens are stuck.
   * Rejects as the open does.
   */
  open(path: string): Promise<Deno.FsFile | undefined> {
    if (this.#stuck >= MAX_STUCK_OPENS) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.#stuck++;
        resolve(undefined);
      }, this.#timeoutMs);
      // Through a promise, so that an opener that throws at once rejects.
      new Promise<Deno.FsFile>((opened) => opened(this.#open(path))).then(
        (file) => {
          if (!late) {
            clearTimeout(timer);
            return resolve(file);
          }
          this.#stuck--;
          closeQuietly(file);
        },
        (error) => {
          if (!late) {
            clearTimeout(timer);
            return reject(error);
          }
          this.#stuck--;
        },
      );
    });
  }
}
