/**
 * The document root as the server holds it: its real path, once checked to
 * be a directory.
 *
 * @module
 */

import { errorMessage } from "./error_report.ts";

/**
 * The real path of `path`, which must name a directory the process may
 * read. Otherwise throws one line that names it: `Cannot serve PATH: why`.
 */
export function realRoot(path: string): string {
  try {
    const real = Deno.realPathSync(path);
    if (!Deno.statSync(real).isDirectory) throw new Error("not a directory");
    // Serving looks names up inside it, which needs the search permission
    // (x) that neither call above does: without it, every request would be
    // refused with 403 by a server that said it was serving.
    try {
      Deno.lstatSync(`${real}/.`);
    } catch (error) {
      if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
      throw new Error("permission denied: cannot look inside it");
    }
    return real;
  } catch (error) {
    throw new Error(`Cannot serve ${path}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/**
 * Whether the directory at `path` is certainly gone (removed, or replaced
 * by a file); one that cannot be looked at (no permission) is not.
 *
 * @example
 * ```ts
 * import { rootIsGone } from "./_root.ts";
 * import assert from "node:assert/strict";
 * assert.equal(rootIsGone("/"), false);
 * assert.equal(rootIsGone("/no/such/directory"), true);
 * ```
 */
export function rootIsGone(path: string): boolean {
  try {
    return !Deno.statSync(path).isDirectory;
  } catch (error) {
    return error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory;
  }
}
