/**
 * A file descriptor held in reserve, for the moment the process has run out
 * of them: given up, it lets the server accept the client waiting longest
 * and tell it 503 rather than leave it unanswered in the queue.
 *
 * @module
 */

import { closeQuietly } from "./error_report.ts";

/**
 * One file descriptor held in reserve (the document root, opened for
 * reading), to be given up when the process has run out of them.
 */
export class SpareDescriptor {
  readonly #path: string;
  #file: Deno.FsFile | undefined;
  #closed = false;

  /** Holds `path` (the document root) open, if a descriptor is free. */
  constructor(path: string) {
    this.#path = path;
    this.take();
  }

  /**
   * Opens the spare again, if it is not held and a descriptor is free;
   * whether it is held now.
   */
  take(): boolean {
    if (this.#file !== undefined) return true;
    if (this.#closed) return false;
    try {
      this.#file = Deno.openSync(this.#path);
      return true;
    } catch {
      // Still none free: the server tries again as descriptors come free.
      return false;
    }
  }

  /** Closes the spare; false when it was not held. */
  release(): boolean {
    const file = this.#file;
    if (file === undefined) return false;
    this.#file = undefined;
    closeQuietly(file);
    return true;
  }

  /** Releases the spare for good: the server has stopped. */
  close(): void {
    this.#closed = true;
    this.release();
  }
}
