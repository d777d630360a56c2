/**
 * What a handler answers, before the connection frames it: status, fields
 * and a body that is bytes, a stretch of an open file, or several stretches
 * as `multipart/byteranges`.
 *
 * @module
 */

import type { MultipartByteranges } from "../protocol/multipart.ts";
import { STATUS_TEXT, type StatusCode } from "../protocol/status.ts";
import type { Frame } from "./frame.ts";

/** `length` bytes of an open file from `offset`, streamed. */
export interface FileBody {
  /** Tells this body from a {@linkcode MultipartBody}. */
  readonly kind: "file";
  /** The open file; the connection closes it once the body is sent. */
  readonly file: Deno.FsFile;
  /** Where the stretch starts, in bytes from the start of the file. */
  readonly offset: number;
  /** How many bytes to send. */
  readonly length: number;
}

/** Several ranges of an open file, framed as `multipart/byteranges`. */
export interface MultipartBody {
  /** Tells this body from a {@linkcode FileBody}. */
  readonly kind: "multipart";
  /** The open file; the connection closes it once the body is sent. */
  readonly file: Deno.FsFile;
  /** The parts, their boundaries and headers, and the total length. */
  readonly multipart: MultipartByteranges;
}

/** A response body; its length is the response's `contentLength`. */
export type Body = Uint8Array | FileBody | MultipartBody;

/** A response for the connection to send. */
export interface Response {
  /** The status code; the reason phrase comes from `STATUS_TEXT`. */
  readonly status: StatusCode;
  /**
   * Fields beyond the ones the connection adds itself (Server, Date,
   * Content-Length, Connection), as formatted lines: `"Name: value\r\n"`.
   * Values are ASCII without CR or LF; see {@linkcode formatFields}.
   */
  readonly fields: string;
  /** Content-Length to announce; `undefined` for none (a 304). */
  readonly contentLength: number | undefined;
  /** The body; absent for HEAD, 304 and empty bodies. */
  readonly body?: Body;
  /** Close the connection after this response whatever the client asked. */
  readonly close?: boolean;
  /**
   * Where the connection may keep this response's complete bytes for reuse:
   * set by a handler whose answer depends on nothing but the clock's second.
   */
  readonly wire?: Wire;
  /**
   * The frame the body sits in, when it is a small file's bytes kept with
   * room for a head in front: the connection writes the head there and
   * sends both at once, holding the frame meanwhile (see {@linkcode Frame}).
   */
  readonly frame?: Frame;
}

/**
 * A response's bytes, kept for the second they were built in (the Date
 * field changes each second), one for each Connection value.
 */
export interface Wire {
  /** The clock's second the bytes were built in; -1 before the first. */
  second: number;
  /** The complete response with `Connection: keep-alive`. */
  keepAlive: Uint8Array | undefined;
  /** The complete response with `Connection: close`. */
  close: Uint8Array | undefined;
}

/**
 * Bodies up to this size go out in the same write as their head, and their
 * complete responses may be kept as a {@linkcode Wire}; bigger ones are
 * written after their head, without a copy, unless the head fits in the
 * body's frame.
 */
export const SINGLE_WRITE_LIMIT = 65536;

/** An empty {@linkcode Wire}. */
export function createWire(): Wire {
  return { second: -1, keepAlive: undefined, close: undefined };
}

/**
 * Formats field lines from alternating names and values.
 *
 * @example
 * ```ts
 * import { formatFields } from "./response.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatFields(["Allow", "GET, HEAD"]), "Allow: GET, HEAD\r\n");
 * ```
 */
export function formatFields(fields: readonly string[]): string {
  let text = "";
  for (let i = 0; i < fields.length; i += 2) {
    text += `${fields[i]}: ${fields[i + 1]}\r\n`;
  }
  return text;
}

/** The field of a 503 that asks the client to try again in a second. */
export const RETRY_AFTER: string = formatFields(["Retry-After", "1"]);

const encoder = new TextEncoder();
const ERROR_BODIES = new Map<StatusCode, Uint8Array>();
const ERROR_TYPE = "Content-Type: text/plain; charset=utf-8\r\n";

/**
 * A short plain-text error answer. The body names the status only: it never
 * echoes a path or an exception message.
 *
 * @example
 * ```ts
 * import { errorResponse } from "./response.ts";
 * import assert from "node:assert/strict";
 * const response = errorResponse(404, "GET");
 * assert.equal(response.contentLength, 14);
 * assert.equal(new TextDecoder().decode(response.body as Uint8Array), "404 Not Found\n");
 * ```
 */
export function errorResponse(
  status: StatusCode,
  method: string,
  fields = "",
  close = false,
): Response {
  let body = ERROR_BODIES.get(status);
  if (body === undefined) {
    body = encoder.encode(`${status} ${STATUS_TEXT[status]}\n`);
    ERROR_BODIES.set(status, body);
  }
  return {
    status,
    fields: ERROR_TYPE + fields,
    contentLength: body.length,
    body: method === "HEAD" ? undefined : body,
    close,
  };
}
