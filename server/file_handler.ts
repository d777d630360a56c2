/**
 * The static file handler: GET and HEAD of files under the document root.
 * It finds the file (through the cache), picks the representation
 * Accept-Encoding prefers, answers a plain GET of a small file from memory,
 * opens big ones, and leaves the rest to `serveContent()`.
 *
 * @module
 */

import { chooseEncoding } from "../protocol/accept_encoding.ts";
import { getField, type RequestHead } from "../protocol/request_head.ts";
import { formatLocation, queryOf } from "../protocol/request_path.ts";
import { coarseNow } from "./clock.ts";
import { FileCache, type Lookup } from "./file_cache.ts";
import {
  type FileEntry,
  type Representation,
  restat,
} from "./representation.ts";
import { classifyError } from "./resolve_path.ts";
import {
  errorResponse,
  formatFields,
  type Response,
  RETRY_AFTER,
  SINGLE_WRITE_LIMIT,
} from "./response.ts";
import { type Prepared, prepareFields, serveContent } from "./serve_content.ts";
import type { OpenFile } from "./timed_open.ts";

/** Options for {@linkcode createFileHandler}. */
export interface FileHandlerOptions {
  /** The document root as a real path (see `Deno.realPath`). */
  root: string;
  /**
   * Serve dotfiles.
   *
   * @default {false}
   */
  dotfiles?: boolean;
  /**
   * A Cache-Control value for files; when undefined, no Cache-Control field
   * is sent.
   *
   * @default {undefined}
   */
  cacheControl?: string;
  /**
   * Most bytes of file contents kept in memory.
   *
   * @default {33554432}
   */
  cacheBytes?: number;
  /**
   * How long a request waits for its file to open before it gets a 503,
   * in ms: an open that hangs (a FIFO swapped in) holds a pool thread, not
   * the event loop.
   *
   * @default {5000}
   */
  openTimeoutMs?: number;
  /**
   * Opens files.
   *
   * @default {Deno.open}
   */
  open?: OpenFile;
}

/**
 * Answers one request. The head is frozen, and may be the very object an
 * earlier request had, when it was sent again byte for byte: the
 * connection's previous request, or for a connection's first, the first
 * request of the connection before.
 */
export type Handler = (head: RequestHead) => Response | Promise<Response>;

const ALLOW = formatFields(["Allow", "GET, HEAD"]);
/**
 * Room for a 200's head in front of a small file's bytes, besides its
 * Cache-Control line: about 320 bytes with every field there can be and
 * `text/html` (a 1 MiB file's gzip sibling, a content hash in its ETag, a
 * large inode number), so a media type of about 130 characters fits. A head that
 * does not fit is built beside the bytes instead (see Wire).
 */
const HEAD_ROOM = 448;

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
  const cacheControl = options.cacheControl === undefined
    ? ""
    : formatFields(["Cache-Control", options.cacheControl]);
  const cache = new FileCache(options.root, {
    dotfiles: options.dotfiles,
    openTimeoutMs: options.openTimeoutMs,
    open: options.open,
    maxBytes: options.cacheBytes,
    headRoom: HEAD_ROOM + cacheControl.length,
  });
  // Per entry, since the entry's siblings decide Vary for every representation.
  const prepared = new WeakMap<FileEntry, Map<Representation, Prepared>>();
  const prepare = (entry: FileEntry, representation: Representation) => {
    let forEntry = prepared.get(entry);
    if (forEntry === undefined) {
      forEntry = new Map();
      prepared.set(entry, forEntry);
    }
    let fields = forEntry.get(representation);
    if (fields === undefined) {
      fields = prepareFields(entry, representation, cacheControl);
      if (fields.lasting) forEntry.set(representation, fields);
    }
    return fields;
  };

  // Synchronous up to the point where a file must be opened, so that a
  // cache hit is answered without a promise.
  const handle = (
    head: RequestHead,
    retried: boolean,
  ): Response | Promise<Response> => {
    const method = head.method;
    if (method !== "GET" && method !== "HEAD") {
      return errorResponse(405, method, ALLOW);
    }
    const found = cache.lookup(head.target, coarseNow());
    return found instanceof Promise
      ? found.then((lookup) => respond(head, lookup, retried))
      : respond(head, found, retried);
  };

  const respond = (
    head: RequestHead,
    found: Lookup,
    retried: boolean,
  ): Response | Promise<Response> => {
    const method = head.method;
    switch (found.kind) {
      case "forbidden":
        return errorResponse(403, method);
      case "not-found":
        return errorResponse(404, method);
      case "unavailable":
        return errorResponse(503, method, RETRY_AFTER);
      case "redirect":
        // The query is this request's: the cached answer is for the path.
        return errorResponse(
          301,
          method,
          formatFields([
            "Location",
            formatLocation(found.segments, queryOf(head.target)),
          ]),
        );
    }
    const entry = found.entry;
    const chosen = entry.encoded.length === 0
      ? entry.original
      : choose(entry, getField(head, "accept-encoding"));

    // The common case, a plain GET of a small file, costs no system call;
    // its head is written in front of its bytes, or its whole answer built,
    // once a second.
    if (chosen.bytes !== undefined && !isConditional(head)) {
      const fields = prepare(entry, chosen);
      const isHead = method === "HEAD";
      return {
        status: 200,
        fields: fields.full,
        contentLength: chosen.size,
        body: isHead || chosen.size === 0 ? undefined : chosen.bytes,
        wire: chosen.size > SINGLE_WRITE_LIMIT
          ? undefined
          : isHead
          ? fields.headWire
          : fields.getWire,
        frame: isHead ? undefined : chosen.frame,
      };
    }

    if (chosen.bytes !== undefined) {
      return serveContent(
        head,
        entry,
        chosen,
        prepare(entry, chosen),
        chosen.bytes,
      );
    }
    return openAndRespond(head, entry, chosen, retried);
  };

  // Big files are opened per request and described by the open file's own
  // stat, so length, validators and bytes agree even mid-change.
  const openAndRespond = async (
    head: RequestHead,
    entry: FileEntry,
    chosen: Representation,
    retried: boolean,
  ): Promise<Response> => {
    const method = head.method;
    let opened;
    try {
      opened = await cache.openSame(chosen);
    } catch (error) {
      cache.forget(head.target);
      // Gone or unreadable since the cache checked it. If it was a
      // sibling, the original (or another coding) may still be there:
      // resolve again, once, before answering 404 or 403.
      const status = classifyError(error) === "forbidden" ? 403 : 404;
      return retried ? errorResponse(status, method) : await handle(head, true);
    }
    if (opened === "unavailable") {
      cache.forget(head.target);
      return errorResponse(503, method, RETRY_AFTER);
    }
    if (opened === "changed") {
      // The path no longer leads to the file that was checked (replaced,
      // or swapped for a link or a FIFO): check it again, once.
      cache.forget(head.target);
      return retried
        ? errorResponse(503, method, RETRY_AFTER)
        : await handle(head, true);
    }
    const file = opened.file;
    const current = restat(chosen, opened.info);
    const fields = current === chosen
      ? prepare(entry, chosen)
      : prepareFields(entry, current, cacheControl);
    let response: Response;
    try {
      response = serveContent(head, entry, current, fields, file);
    } catch (error) {
      file.close();
      throw error;
    }
    const body = response.body;
    if (body === undefined || body instanceof Uint8Array) file.close();
    return response;
  };
  return (head) => handle(head, false);
}

/** Picks the representation Accept-Encoding prefers. */
function choose(
  entry: FileEntry,
  acceptEncoding: string | undefined,
): Representation {
  if (acceptEncoding === undefined) return entry.original;
  const coding = chooseEncoding(
    acceptEncoding,
    entry.encoded.flatMap((r) => r.coding ?? []),
  );
  return entry.encoded.find((r) => r.coding === coding) ?? entry.original;
}

/** Whether a request carries a precondition or a range. */
function isConditional(head: RequestHead): boolean {
  const fields = head.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (
      name === "range" ||
      (name.charCodeAt(0) === 0x69 && name.startsWith("if-"))
    ) return true;
  }
  return false;
}
