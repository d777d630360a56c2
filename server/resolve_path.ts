/**
 * Maps a parsed request path to a regular file under the document root,
 * comparing real paths so that no symlink leads outside it.
 *
 * @module
 */

import type { RequestPath } from "../protocol/request_path.ts";

/** What a request path names on disk. */
export type Resolution =
  | {
    readonly kind: "file";
    /** The file's real path. */
    readonly path: string;
    /** The name whose extension decides the media type. */
    readonly name: string;
    /**
     * The file found there: whatever opens `path` later must be this very
     * file, or the path was swapped since (for one leading out of the root).
     */
    readonly info: Deno.FileInfo;
  }
  | { readonly kind: "redirect" } // a directory asked for without its slash
  | { readonly kind: "not-found" }
  | { readonly kind: "forbidden" };

/** Options for {@linkcode resolvePath}. */
export interface ResolvePathOptions {
  /**
   * Serve names starting with a dot (`.well-known` is always served).
   *
   * @default {false}
   */
  dotfiles?: boolean;
}

/**
 * Resolves `path` below `root`, which must itself be a real path (no
 * symlinks, no trailing slash unless it is `/`). Synchronous: see
 * `FileCache` for why, and for the cache that keeps this off the hot path.
 *
 * @example
 * ```ts
 * import { parseRequestPath } from "../protocol/request_path.ts";
 * import { resolvePath } from "./resolve_path.ts";
 * import assert from "node:assert/strict";
 * const root = Deno.realPathSync(new URL("../www", import.meta.url));
 * const found = resolvePath(root, parseRequestPath("/"));
 * assert.equal(found.kind === "file" && found.name, "index.html");
 * assert.equal(resolvePath(root, parseRequestPath("/../x")).kind, "forbidden");
 * ```
 */
export function resolvePath(
  root: string,
  path: RequestPath,
  options?: ResolvePathOptions,
): Resolution {
  if (path.kind === "outside") return FORBIDDEN;
  const segments = path.segments;
  if (!options?.dotfiles && segments.some(isHidden)) return NOT_FOUND;
  const prefix = root.endsWith("/") ? root : `${root}/`;
  try {
    const real = Deno.realPathSync(prefix + segments.join("/"));
    if (!isInside(real, root, prefix)) return FORBIDDEN;
    // lstat: a real path holds no symlink, unless one was put in its
    // place since, which must not be followed.
    const info = Deno.lstatSync(real);
    if (info.isDirectory) {
      if (!path.directory) return { kind: "redirect" };
      const indexReal = Deno.realPathSync(`${real}/${INDEX}`);
      if (!isInside(indexReal, root, prefix)) return FORBIDDEN;
      const indexInfo = Deno.lstatSync(indexReal);
      if (indexInfo.isFile) {
        return { kind: "file", path: indexReal, name: INDEX, info: indexInfo };
      }
      // A directory by that name is no index; a FIFO or device is refused
      // as it would be when asked for by name.
      return indexInfo.isDirectory ? NOT_FOUND : FORBIDDEN;
    }
    if (!info.isFile) return FORBIDDEN; // a FIFO or device would hang or leak
    if (path.directory) return NOT_FOUND; // "/file.html/" names no file
    const name = segments[segments.length - 1];
    return { kind: "file", path: real, name, info };
  } catch (error) {
    return classifyError(error) === "forbidden" ? FORBIDDEN : NOT_FOUND;
  }
}

/**
 * Maps a file system error to the answer it deserves; rethrows errors that
 * no request can cause.
 *
 * @example
 * ```ts
 * import { classifyError } from "./resolve_path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(classifyError(new Deno.errors.NotFound("x")), "not-found");
 * assert.equal(classifyError(new Deno.errors.NotCapable("x")), "forbidden");
 * ```
 */
export function classifyError(error: unknown): "not-found" | "forbidden" {
  if (
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable
  ) {
    return "forbidden";
  }
  if (
    error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.FilesystemLoop ||
    error instanceof Deno.errors.IsADirectory ||
    error instanceof Deno.errors.InvalidData ||
    // Deno has no class for ENAMETOOLONG: a name no file can have is not found.
    (error as { code?: unknown } | null)?.code === "ENAMETOOLONG"
  ) {
    return "not-found";
  }
  throw error;
}

/** The file a directory request serves. */
const INDEX = "index.html";
const FORBIDDEN: Resolution = { kind: "forbidden" };
const NOT_FOUND: Resolution = { kind: "not-found" };

function isHidden(segment: string): boolean {
  return segment.charCodeAt(0) === 0x2e && segment !== ".well-known";
}

function isInside(real: string, root: string, prefix: string): boolean {
  return real === root || real.startsWith(prefix);
}
