/**
 * What a handler answers, before the connection frames it: status, fields
 * and a body that is either bytes or an open file to stream.
 *
 * @module
 */

import { STATUS_TEXT, type StatusCode } from "../protocol/status.ts";

/** An open file whose first `length` bytes are the body. */
export interface FileBody {
  readonly file: Deno.FsFile;
  readonly length: number;
}

/** A response for the connection to send. */
export interface Response {
  readonly status: StatusCode;
  /**
   * Fields beyond the ones the connection adds itself (Date, Server,
   * Content-Length, Connection), names and values alternating.
   */
  readonly fields: readonly string[];
  /** Content-Length to announce; `undefined` for none (a 304). */
  readonly contentLength: number | undefined;
  /** The body; absent for HEAD, 304 and empty bodies. */
  readonly body?: Uint8Array | FileBody;
  /** Close the connection after this response whatever the client asked. */
  readonly close?: boolean;
}

const encoder = new TextEncoder();
const ERROR_BODIES = new Map<StatusCode, Uint8Array>();

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
  fields: readonly string[] = [],
  close = false,
): Response {
  let body = ERROR_BODIES.get(status);
  if (body === undefined) {
    body = encoder.encode(`${status} ${STATUS_TEXT[status]}\n`);
    ERROR_BODIES.set(status, body);
  }
  return {
    status,
    fields: ["Content-Type", "text/plain; charset=utf-8", ...fields],
    contentLength: body.length,
    body: method === "HEAD" ? undefined : body,
    close,
  };
}
