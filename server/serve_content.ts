/**
 * The fields of a representation, formatted once for every answer about
 * it, and (like Go's serveContent) the choice between 200, 206, 304, 412
 * and 416 for every request the file handler's fast path (a plain GET or
 * HEAD of a file held in memory) does not answer itself.
 *
 * @module
 */

import { formatHttpDate } from "../protocol/date.ts";
import {
  createMultipartByteranges,
  joinMultipartByteranges,
} from "../protocol/multipart.ts";
import {
  evaluatePreconditions,
  isRangeApplicable,
} from "../protocol/preconditions.ts";
import { formatContentRange, parseRange } from "../protocol/range.ts";
import { getField, type RequestHead } from "../protocol/request_head.ts";
import type { FileEntry, Representation } from "./representation.ts";
import { currentSecond } from "./clock.ts";
import { createBoundary } from "./range_body.ts";
import {
  createWire,
  errorResponse,
  formatFields,
  type Response,
  type Wire,
} from "./response.ts";

/** Field lines of one representation, formatted once. */
export interface Prepared {
  /** Content-Type and the rest: a 200's fields. */
  readonly full: string;
  /** Everything but Content-Type (a multipart 206 has its own). */
  readonly common: string;
  /** What a 304 repeats of a 200 (RFC 9110 §15.4.5). */
  readonly notModified: string;
  /**
   * What a 412 or 416 carries: Vary, but no Cache-Control. A refusal
   * answers one request's conditions, not the file: with the file's
   * freshness a shared cache could keep it and hand it to every request
   * for the URL (cache-poisoned denial of service), where without it
   * neither status may be stored (RFC 9111 §3, RFC 9110 §15.1).
   */
  readonly refusal: string;
  /** The plain 200 to GET, as sent. */
  readonly getWire: Wire;
  /** The plain 200 to HEAD, as sent. */
  readonly headWire: Wire;
  /**
   * Whether these fields hold as long as the representation does: false
   * when its modification time lies beyond the Date they go out with, so
   * `Last-Modified` had to be held back to it.
   */
  readonly lasting: boolean;
  /**
   * The modification time `Last-Modified` says, which conditions are
   * judged against (RFC 9110 §13.1.3, §13.1.4 compare with the date the
   * server reports): the file's, or Date's when the file's is later.
   */
  readonly lastModifiedMs: number | undefined;
}

/**
 * Formats the field lines of `representation` once, for every answer about
 * it until it changes (while `lasting`).
 */
export function prepareFields(
  entry: FileEntry,
  representation: Representation,
  cacheControl: string,
): Prepared {
  // Never later than Date (RFC 9110 §8.8.2.1): a modification time in the
  // future (a skewed build host, an archive's stamps), or in a second the
  // coarse clock has not reached yet, goes out as Date's second instead,
  // and only until the clock catches up with it.
  const dateMs = currentSecond() * 1000;
  const mtime = representation.mtimeMs;
  const lasting = mtime === undefined || mtime < dateMs + 1000;
  const lastModifiedMs = mtime === undefined || lasting ? mtime : dateMs;
  const modified = lastModifiedMs === undefined ? "" : formatFields([
    "Last-Modified",
    formatHttpDate(new Date(lastModifiedMs)),
  ]);
  const vary = entry.encoded.length > 0 ? "Vary: Accept-Encoding\r\n" : "";
  const always = vary + cacheControl;
  // No ETag for a file too recently changed to be told apart by its stat.
  const etag = representation.etag;
  const validators = (etag === undefined ? "" : `ETag: ${etag}\r\n`) +
    modified;
  const encoding = representation.coding === undefined
    ? ""
    : `Content-Encoding: ${representation.coding}\r\n`;
  const common = `${encoding}${validators}Accept-Ranges: bytes\r\n${always}`;
  return {
    full: `Content-Type: ${entry.contentType}\r\n${common}`,
    common,
    notModified: validators + always,
    refusal: vary,
    getWire: createWire(),
    headWire: createWire(),
    lasting,
    lastModifiedMs,
  };
}

/**
 * The answer to a GET or HEAD of a file once its representation is chosen:
 * preconditions (RFC 9110 13.2.2), then Range, then the 200. Several ranges
 * of a precompressed representation get the 200 too (see below). `source`
 * holds the bytes: the representation's own, in memory, or its open file,
 * which the caller closes unless the response's body streams from it.
 */
export function serveContent(
  head: RequestHead,
  entry: FileEntry,
  representation: Representation,
  fields: Prepared,
  source: Uint8Array | Deno.FsFile,
): Response {
  const method = head.method;
  const header = (name: string) => getField(head, name);
  const validators = {
    etag: representation.etag,
    lastModified: fields.lastModifiedMs,
    // A rewrite may put the old mtime back, never the old ctime.
    lastChanged: representation.ctimeMs,
  };
  const precondition = evaluatePreconditions({ method, header }, validators);
  if (precondition === "not-modified") {
    return {
      status: 304,
      fields: fields.notModified,
      contentLength: undefined,
    };
  }
  if (precondition === "precondition-failed") {
    return errorResponse(412, method, fields.refusal);
  }

  const size = representation.size;
  // RFC 9110 §14.2: GET is the only method range handling is defined for,
  // and Range on any other MUST be ignored; so HEAD gets the plain 200's
  // fields, as a GET without Range would.
  let range = method === "GET" &&
      isRangeApplicable(header("if-range"), validators)
    ? parseRange(header("range"), size)
    : parseRange(undefined, size);
  // Content-Encoding describes the message body, and a multipart body is
  // framing around slices of encoded bytes, not encoded itself: no client
  // could decode it. RFC 9110 §14.2 lets a server ignore Range, as nginx
  // does for a precompressed file; one range keeps its plain 206.
  if (
    representation.coding !== undefined && range.kind === "satisfiable" &&
    range.ranges.length > 1
  ) {
    range = parseRange(undefined, size);
  }
  if (range.kind === "unsatisfiable") {
    return errorResponse(
      416,
      method,
      `Content-Range: ${
        formatContentRange(size)
      }\r\nAccept-Ranges: bytes\r\n${fields.refusal}`,
    );
  }
  const isHead = method === "HEAD";
  if (range.kind === "ignored") {
    return {
      status: 200,
      fields: fields.full,
      contentLength: size,
      body: isHead || size === 0
        ? undefined
        : source instanceof Uint8Array
        ? source
        : { kind: "file", file: source, offset: 0, length: size },
    };
  }
  if (range.ranges.length === 1) {
    const { start, end } = range.ranges[0];
    return {
      status: 206,
      fields: `${fields.full}Content-Range: ${
        formatContentRange(size, range.ranges[0])
      }\r\n`,
      contentLength: end - start + 1,
      body: source instanceof Uint8Array ? source.subarray(start, end + 1) : {
        kind: "file",
        file: source,
        offset: start,
        length: end - start + 1,
      },
    };
  }
  const multipart = createMultipartByteranges({
    boundary: createBoundary(),
    contentType: entry.contentType,
    ranges: range.ranges,
    size,
  });
  return {
    status: 206,
    fields: `Content-Type: ${multipart.contentType}\r\n${fields.common}`,
    contentLength: multipart.contentLength,
    body: source instanceof Uint8Array
      ? joinMultipartByteranges(multipart, source)
      : { kind: "multipart", file: source, multipart },
  };
}
