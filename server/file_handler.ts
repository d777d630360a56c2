/**
 * The static file handler: GET and HEAD of files under the document root.
 *
 * @module
 */

import { parseRequestPath } from "../protocol/request_path.ts";
import type { RequestHead } from "../protocol/request_head.ts";
import { mediaType } from "./media_type.ts";
import { failure, resolvePath } from "./resolve_path.ts";
import { errorResponse, type Response } from "./response.ts";

/** Options for {@linkcode createFileHandler}. */
export interface FileHandlerOptions {
  /** The document root as a real path (see `Deno.realPath`). */
  root: string;
  /** Serve dotfiles. @default {false} */
  dotfiles?: boolean;
  /** A Cache-Control value for files. @default {undefined} */
  cacheControl?: string;
}

/** Answers one request. */
export type Handler = (head: RequestHead) => Promise<Response>;

const ALLOW = ["Allow", "GET, HEAD"];

/**
 * Creates the handler that serves files from `options.root`.
 *
 * @example
 * ```ts ignore
 * import { createFileHandler } from "./file_handler.ts";
 * const handle = createFileHandler({ root: await Deno.realPath("www") });
 * ```
 */
export function createFileHandler(options: FileHandlerOptions): Handler {
  const extra = options.cacheControl === undefined
    ? []
    : ["Cache-Control", options.cacheControl];
  return async (head) => {
    const method = head.method;
    if (method !== "GET" && method !== "HEAD") {
      return errorResponse(405, method, ALLOW);
    }
    const path = parseRequestPath(head.target);
    const found = await resolvePath(options.root, path, options);
    switch (found.kind) {
      case "forbidden":
        return errorResponse(403, method);
      case "not-found":
        return errorResponse(404, method);
      case "redirect":
        return errorResponse(301, method, [
          "Location",
          redirectLocation(path.kind === "inside" ? path : undefined),
        ]);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(found.path);
    } catch (error) {
      return errorResponse(
        failure(error).kind === "forbidden" ? 403 : 404,
        method,
      );
    }
    let size: number;
    try {
      const info = await file.stat();
      if (!info.isFile) throw new Deno.errors.NotFound("No longer a file");
      size = info.size;
    } catch (error) {
      file.close();
      return errorResponse(
        failure(error).kind === "forbidden" ? 403 : 404,
        method,
      );
    }
    const fields = ["Content-Type", mediaType(found.name), ...extra];
    if (method === "HEAD" || size === 0) {
      file.close();
      return { status: 200, fields, contentLength: size };
    }
    return {
      status: 200,
      fields,
      contentLength: size,
      body: { file, length: size },
    };
  };
}

// The same path with its slash; segments are re-encoded so the Location
// value is plain ASCII whatever the client sent.
function redirectLocation(
  path: { segments: readonly string[]; query: string } | undefined,
): string {
  if (path === undefined) return "/";
  let location = "/";
  for (const segment of path.segments) {
    location += `${encodeURIComponent(segment)}/`;
  }
  return location +
    // The query is still raw bytes, one character each: escape them as bytes.
    path.query.replace(
      /[^\x21-\x7e]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
}
